/**
 * Hosting projects for offline peers (`flux host ...`): a host that is not a member keeps every
 * core of a project and serves it when its writers are gone, reads nothing, keeps to a quota,
 * and can be checked. Real nodes on a loopback testnet.
 */
import test from 'brittle'
import { mesh, until, converged, errorCode, type TestNode } from '../helpers/index.js'
import { decodeKey, fromHex, toHex } from '../../src/identity/keys.js'
import { allFiles } from '../identity/helpers.js'

/** How many blocks of `writer` (hex) the host holds, from the start. */
async function held(host: TestNode, writer: string): Promise<number> {
  const core = host.node.store.get({ key: fromHex(writer), active: false })
  await core.ready()
  const n = core.contiguousLength
  await core.close()
  return n
}

function hosted(h: TestNode, key: string) {
  const hex = toHex(decodeKey(key))
  return h.node.projectHosts.get(hex)
}

test('host - a member offline while A wrote gets every post from a host alone, which reads none', async (t) => {
  t.timeout(120_000)
  const m = await mesh(t)
  const a = await m.create({ name: 'A' })
  const b = await m.create({ name: 'B' })
  const h = await m.create({ noProfile: true })
  const { key } = await a.app.projects.create({ name: 'kiln' })
  const { code } = await a.app.projects.invite(key)
  await b.app.projects.join(code)
  await converged([a, b], key)
  const bHome = b.home
  await b.node.close()

  await h.app.hosting.add(key)
  const secret = 'glaze-recipe-only-members-read'
  for (let i = 0; i < 20; i++) await a.app.content.post(key, `${secret} #${i}`)
  const pa = await a.node.projects.resolve(key)
  const writer = pa.writerId
  const length = pa.base.local.length
  await until(h.node, async () => (await held(h, writer)) >= length, 30_000, 'the host to hold A')
  t.ok((hosted(h, key)?.cores ?? 0) >= 2, 'the host learned the project’s cores from A')
  await a.node.close() // A is gone for good

  const b2 = await m.create({ home: bHome })
  const feed = await until(
    b2.node,
    async () => {
      const posts = await b2.app.content.feed(key, { limit: 100 })
      return posts.length >= 20 ? posts : null
    },
    60_000,
    'B to get A’s posts from the host'
  )
  t.is(feed.length, 20, 'B has all 20 of A’s posts')
  const peers = await b2.app.peers()
  t.alike(
    peers.map((p) => p.id),
    [h.node.peerId],
    'its only peer was the host'
  )
  t.absent(
    (await allFiles(h.home)).some((f) => f.bytes.includes(secret)),
    'the host’s home holds no post text'
  )
  t.is(hosted(h, key)?.status, 'current', 'the host says it is current')
})

test('host - a post made just before its writer goes offline still reaches the host', async (t) => {
  t.timeout(90_000)
  const m = await mesh(t)
  const a = await m.create({ name: 'A' })
  const h = await m.create({ noProfile: true })
  const { key } = await a.app.projects.create({ name: 'kiln' })
  await h.app.hosting.add(key)
  const pa = await a.node.projects.resolve(key)
  await until(
    h.node,
    async () => {
      const info = hosted(h, key)
      return info !== null && info.cores >= 2 && info.held >= info.known && info.peers > 0
    },
    30_000,
    'the host to hold the project and know its cores'
  )
  // a burst: its blocks are still on their way when the node is told to close
  await Promise.all(
    Array.from({ length: 300 }, (_, i) => a.app.content.post(key, `burst ${i} ${'y'.repeat(3900)}`))
  )
  const length = pa.base.local.length
  const writer = pa.writerId
  await a.node.close() // at once after the acknowledgement
  t.is(await held(h, writer), length, `the host holds A’s core to its end (${length} blocks)`)
})

test('host - a quota stops a project growing there, with a clear status; another keeps syncing', async (t) => {
  t.timeout(120_000)
  const m = await mesh(t)
  const a = await m.create({ name: 'A' })
  const h = await m.create({ noProfile: true })
  const big = await a.app.projects.create({ name: 'big' })
  const small = await a.app.projects.create({ name: 'small' })
  const text = 'x'.repeat(3000)
  for (let i = 0; i < 30; i++) await a.app.content.post(big.key, `${i} ${text}`)
  await a.app.content.post(small.key, 'first')

  const quota = 20_000
  const added = await h.app.hosting.add(big.key, quota)
  t.is(added.quota, quota, 'hosted with a quota')
  await h.app.hosting.add(small.key)
  await until(h.node, () => hosted(h, big.key)?.status === 'quota-reached', 30_000, 'the quota')
  const stopped = hosted(h, big.key)
  t.ok(stopped !== null && stopped.held < stopped.known, 'big stopped growing before its end')
  t.ok(stopped !== null && stopped.bytes >= quota, `it holds ${stopped?.bytes} bytes`)
  const listed = h.app.hosting.list().find((x) => x.key === big.key)
  t.is(listed?.status, 'quota-reached', 'flux host list says the quota is reached')

  const ps = await a.node.projects.resolve(small.key)
  const syncSmall = async (text: string): Promise<void> => {
    await a.app.content.post(small.key, text)
    const length = ps.base.local.length
    await until(h.node, async () => (await held(h, ps.writerId)) >= length, 30_000, text)
  }
  await syncSmall('second') // blocks asked before the quota was reached have landed by now
  const before = hosted(h, big.key)?.held
  for (let i = 0; i < 5; i++) await a.app.content.post(big.key, `more ${i}`)
  await syncSmall('third')
  t.pass('the other hosted project kept syncing')
  const after = hosted(h, big.key)
  t.is(after?.held, before, 'big did not grow')
  t.ok(
    after !== null && after.held < after.known,
    `big holds ${after?.held} of ${after?.known} blocks`
  )
  t.is(after?.status, 'quota-reached', 'and still says why')

  const raised = await h.app.hosting.add(big.key, null)
  t.is(raised.quota, null, 'the quota can be lifted')
  await until(h.node, () => hosted(h, big.key)?.status === 'current', 30_000, 'big to catch up')
  t.pass('lifting the quota lets it catch up')

  const removed = await h.app.hosting.remove(big.key)
  t.ok(removed.freed, 'removing frees the space')
  t.is(hosted(h, big.key), null, 'no longer hosted')
  t.is(await errorCode(h.app.hosting.remove(big.key)), 'NOT_FOUND', 'removing twice is NOT_FOUND')
  t.is(await errorCode(h.app.hosting.add('not-a-key')), 'KEY_MALFORMED', 'a bad key is refused')
  t.is(h.node.state.hostedProjects().length, 1, 'node.json keeps the one left')
})

test('host - proof of hosting: an honest host passes, one that dropped its blocks fails', async (t) => {
  t.timeout(90_000)
  const m = await mesh(t)
  const a = await m.create({ name: 'A' })
  const h = await m.create({ noProfile: true })
  const outsider = await m.create({ name: 'C' })
  const { key } = await a.app.projects.create({ name: 'kiln' })
  for (let i = 0; i < 12; i++) await a.app.content.post(key, `post ${i}`)
  await h.app.hosting.add(key)
  await until(
    h.node,
    () => {
      const info = hosted(h, key)
      return info !== null && info.cores >= 2 && info.status === 'current'
    },
    30_000,
    'the host to be current'
  )
  const hostId = h.node.peerId
  await until(a.node, () => a.node.network.sessions.has(toHex(decodeKey(hostId))), 20_000, 'A-H')
  const honest = await a.app.hosting.check(hostId, key, 16)
  t.ok(honest.ok, `the honest host passes (${honest.passed}/${honest.asked})`)
  t.is(honest.passed, honest.asked, 'every block matched')

  // the host stops downloading (a tiny quota) and deletes its blocks
  await h.app.hosting.add(key, 1)
  const entry = h.node.state.hostedProject(toHex(decodeKey(key)))
  for (const c of entry?.cores ?? []) {
    const core = h.node.store.get({ key: fromHex(c), active: false })
    await core.ready()
    if (core.length > 0) await core.clear(0, core.length)
    await core.close()
  }
  const cheat = await a.app.hosting.check(hostId, key, 16)
  t.absent(cheat.ok, 'a host that dropped its blocks fails')
  t.is(cheat.missing, cheat.asked, `every block asked was missing (${cheat.missing})`)

  t.is(
    await errorCode(outsider.app.hosting.check(hostId, key)),
    'PROJECT_NOT_FOUND',
    'a node that holds nothing of the project cannot check it'
  )
  t.is(
    await errorCode(a.app.hosting.check(outsider.node.peerId.slice(0, 4) + 'zzzz', key)),
    'PEER_NOT_CONNECTED',
    'an unknown peer is refused clearly'
  )
})
