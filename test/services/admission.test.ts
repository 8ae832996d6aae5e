import test, { type Test } from 'brittle'
import fs from 'fs/promises'
import path from 'path'
import HyperDHT from 'hyperdht'
import Protomux from 'protomux'
import c from 'compact-encoding'
import { mesh, converged, until, errorCode, type TestNode } from '../helpers/index.js'
import { ManualClock } from '../../src/util/clock.js'
import { toHex } from '../../src/identity/keys.js'
import { MAX_PENDING, NEW_PER_MINUTE } from '../../src/services/pending.js'

/** The session a node holds with another node, once it exists. */
function sessionOf(viewer: TestNode, other: TestNode) {
  return viewer.node.network.sessions.get(toHex(other.node.network.publicKey)) ?? null
}

async function pendingHas(viewer: TestNode, other: TestNode): Promise<boolean> {
  return viewer.app.admission.pending().some((p) => p.id === other.node.peerId)
}

test('toggles - I Accept: a stranger waits, gets nothing until approved; toggle and approval survive a restart', async (t) => {
  const m = await mesh(t)
  const bHome = await t.tmp()
  let b = await m.create({ name: 'Bo', home: bHome })
  const { key } = await b.app.projects.create({ name: 'open house', public: true })
  await b.app.content.post(key, 'for approved eyes')
  await b.app.admission.setToggle('accept', true)
  t.is(b.app.admission.toggles().accept, true)

  const a = await m.create({ name: 'Ada' })
  await a.app.projects.join(key) // a public project by key: A could read it all, if let in
  const row = await until(b.node, async () =>
    b.app.admission.pending().find((p) => p.id === a.node.peerId)
  )
  t.is(row.name, 'Ada', 'the queue shows the profile it proved')
  t.ok(row.profile !== null && row.attempts === 1 && row.connected, 'connected, one attempt')
  t.is(sessionOf(b, a)?.state, 'pending', 'held: no replication, no feature channel')
  const pa = await a.node.projects.resolve(key)
  t.is(pa.base.view.core.length, 0, 'no block of B reached A')
  t.is(await pa.view.project(), null, 'A reads nothing')

  await b.app.admission.approve(a.node.peerId.slice(0, 10))
  t.is((await b.app.admission.pending()).length, 0, 'approved: out of the queue')
  const info = await until(a.node, async () => (await pa.view.project())?.name.value)
  t.is(info, 'open house', 'the sync completes')
  t.is(sessionOf(b, a)?.state, 'admitted')

  // B restarts: the toggle and the approval are still there; A is let in at once
  await b.node.close()
  b = await m.create({ home: bHome })
  t.is(b.app.admission.toggles().accept, true, 'I Accept is still on')
  await b.app.content.post(key, 'after the restart')
  await until(
    a.node,
    async () => (await a.app.content.feed(key)).some((p) => p.text === 'after the restart'),
    30_000,
    'the approved peer to sync again after the restart'
  )
  t.absent(await pendingHas(b, a), 'the approved peer never waited again')
})

test('toggles - dismiss and block: a dismissed peer asks again; a blocked one gets nothing and does not reappear; unblock lets it back in', async (t) => {
  const m = await mesh(t)
  const b = await m.create({ name: 'Bo' })
  const { key } = await b.app.projects.create({ name: 'p', public: true })
  await b.app.admission.setToggle('accept', true)
  const a = await m.create({ name: 'Ada' })
  await a.app.projects.join(key)
  await until(b.node, () => pendingHas(b, a), 20_000, 'A in the queue')

  const gone = await b.app.admission.dismiss(a.node.peerId)
  t.is(gone.id, a.node.peerId, 'dismissed')
  t.absent(await pendingHas(b, a), 'out of the queue')
  await until(b.node, () => pendingHas(b, a), 30_000, 'A to ask again')
  t.is(b.app.admission.pending()[0]?.attempts, 1, 'a new request, counted afresh')

  await b.app.admission.block(a.node.peerId)
  t.absent(await pendingHas(b, a), 'a blocked peer leaves the queue')
  t.is(b.app.admission.blocked()[0]?.id, a.node.peerId, 'and is listed as blocked')
  // its next attempts are refused before any session: the swarm's firewall bans it
  await until(
    b.node,
    () => b.node.network.swarm.peers.get(toHex(a.node.network.publicKey))?.banned,
    30_000,
    "A's next attempt to be refused"
  )
  t.is(sessionOf(b, a), null, 'no session')
  t.absent(await pendingHas(b, a), 'and it does not reappear in the queue')
  t.is(await errorCode(b.app.admission.approve(a.node.peerId)), 'NOT_ALLOWED', 'no approving it')

  await b.app.admission.unblock(a.node.peerId)
  t.is(b.app.admission.blocked().length, 0)
  await until(b.node, () => pendingHas(b, a), 30_000, 'A back in the queue after unblock')
  await b.app.admission.approve(a.node.peerId)
  await converged([a, b], key)
  t.is((await a.app.content.feed(key)).length, 0, 'admitted and synced (an empty feed, same state)')
})

/** Strangers: one raw DHT node dialing B under many key pairs, each saying it has no profile. */
async function strangers(t: Test, bootstrap: string[], target: Buffer, n: number) {
  const dht = new HyperDHT({ bootstrap, host: '127.0.0.1', firewalled: false })
  t.teardown(() => dht.destroy({ force: true }), { order: 0 })
  const conns: Array<ReturnType<HyperDHT['connect']>> = []
  for (let i = 0; i < n; i++) {
    const conn = dht.connect(target, { keyPair: HyperDHT.keyPair() })
    conn.on('error', () => {})
    conn.on('open', () => {
      const ch = Protomux.from(conn).createChannel({
        protocol: 'flux/hello/v1',
        handshake: c.optionalBuffer
      })
      ch?.open(null)
    })
    conns.push(conn)
  }
  t.teardown(() => conns.forEach((x) => x.destroy()), { order: 0 })
  return conns
}

test('toggles - a flood of strangers with I Accept on: the queue stays bounded and rate-limited, the real peer keeps syncing', async (t) => {
  t.timeout(180_000)
  const m = await mesh(t)
  const clock = new ManualClock()
  const b = await m.create({ name: 'Bo', clock })
  const a = await m.create({ name: 'Ada' })
  const { key } = await b.app.projects.create({ name: 'busy' })
  await a.app.projects.join((await b.app.projects.invite(key)).code)
  await b.app.admission.setToggle('accept', true)
  t.is(sessionOf(b, a)?.state, 'admitted', 'the member stays admitted under I Accept')

  const waiting = (): string[] => b.app.admission.pending().map((p) => p.id)
  for (let round = 1; round <= 2; round++) {
    await strangers(t, m.bootstrap, b.node.network.publicKey, 70)
    const bound = round * NEW_PER_MINUTE
    await until(
      b.node,
      () => waiting().length >= bound,
      60_000,
      () => `${bound} rows in round ${round} (${waiting().length})`
    )
    t.is(
      waiting().length,
      bound,
      `round ${round}, 70 strangers: ${NEW_PER_MINUTE} new rows a minute`
    )
    const held = [...b.node.network.sessions.values()].filter(
      (s) => s.state === 'pending' && s.known
    )
    t.ok(held.length <= 16, `at most 16 queued connections kept open (${held.length})`)
    await a.app.content.post(key, `member post ${round}`)
    await converged([a, b], key, 60_000)
    clock.advance(61_000) // a minute later the rate limit lets more in
  }
  t.is(waiting().length, MAX_PENDING, 'the queue is full')
  const before = b.app.admission.pending()
  const oldest = new Set(before.slice(0, NEW_PER_MINUTE).map((p) => p.id))
  await strangers(t, m.bootstrap, b.node.network.publicKey, 70)
  await until(
    b.node,
    () => waiting().filter((id) => !before.some((p) => p.id === id)).length >= NEW_PER_MINUTE,
    60_000,
    'round 3 to take the place of the oldest rows'
  )
  t.is(waiting().length, MAX_PENDING, 'never more than the bound')
  t.ok(
    waiting().every((id) => !oldest.has(id)),
    'the oldest requests were dismissed first'
  )
  await a.app.content.post(key, 'member post 3')
  await converged([a, b], key, 60_000)
  t.alike(
    (await b.app.content.feed(key)).map((p) => p.text),
    ['member post 1', 'member post 2', 'member post 3'],
    'the member synced through the flood'
  )
  const onDisk = async (): Promise<number> =>
    Object.keys(JSON.parse(await fs.readFile(path.join(b.home, 'node.json'), 'utf-8')).pending)
      .length
  await until(b.node, async () => (await onDisk()) > 0, 10_000, 'the queue to reach node.json')
  t.is(await onDisk(), MAX_PENDING, `node.json holds the ${MAX_PENDING} rows, no more`)
})

test('toggles - Pause: nothing crosses the wire, local posts still work, and the peer gets them all on resume', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create({ name: 'Ada' }), await m.create({ name: 'Bo' })]
  const { key } = await a.app.projects.create({ name: 'p' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  await converged([a, b], key)
  const pa = await a.node.projects.resolve(key)
  let uploaded = 0
  pa.base.local.on('upload', () => uploaded++)

  await a.app.admission.setToggle('pause', true)
  t.is(a.node.network.sessions.size, 0, 'no connection once pause returns')
  const seen = await b.node.projects.resolve(key)
  const copy = [...seen.base.activeWriters].find((w) => w.core.key?.equals(pa.writerKey))
  const lengthOnB = copy?.core.length
  for (let i = 0; i < 3; i++) await a.app.content.post(key, `while paused ${i}`)
  await b.app.content.post(key, 'from b meanwhile')
  t.is((await a.app.content.feed(key)).length, 3, 'local posts succeed while paused')
  t.is(uploaded, 0, 'no block left A while paused')
  t.ok(copy !== undefined, "B follows A's writer core")
  t.is(copy?.core.length, lengthOnB, "B's copy of it did not move")
  t.is(
    await errorCode(a.app.projects.join('x'.repeat(70))),
    'NODE_PAUSED',
    'joining needs the network'
  )

  await a.app.admission.setToggle('pause', false)
  await converged([a, b], key)
  const texts = (await b.app.content.feed(key)).map((p) => p.text).sort()
  t.alike(texts, ['from b meanwhile', 'while paused 0', 'while paused 1', 'while paused 2'])
  t.ok(uploaded > 0, 'blocks flow again after resume')
})

test('toggles - Isolate: non-members are refused, members still sync', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create({ name: 'Ada' }), await m.create({ name: 'Bo' })]
  const { key } = await a.app.projects.create({ name: 'members only', public: true })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  // both members isolate: a stranger could otherwise read the project from the other one
  await a.app.admission.setToggle('isolate', true)
  await b.app.admission.setToggle('isolate', true)
  const refused: string[] = []
  a.node.network.on('session-refused', (s, reason) => refused.push(`${s.id}: ${reason}`))

  const stranger = await m.create({ name: 'Cy' })
  const host = await m.create({ noProfile: true })
  await stranger.app.projects.join(key)
  await host.app.projects.join(key)
  await until(
    a.node,
    () =>
      refused.some((r) => r.startsWith(stranger.node.peerId)) &&
      refused.some((r) => r.startsWith(host.node.peerId)),
    30_000,
    'both non-members to be refused'
  )
  t.ok(
    refused.every((r) => /isolated/.test(r)),
    refused.join('; ')
  )
  await b.app.content.post(key, 'member post')
  await converged([a, b], key)
  // a refused stranger may dial again (it is on the topic): it is judged again and refused,
  // so at any instant a connection of its may be open but held: never admitted
  const nonMembers = [...a.node.network.sessions.values()].filter(
    (s) => s.key !== toHex(b.node.network.publicKey) && s.state === 'admitted'
  )
  t.is(nonMembers.length, 0, '0 non-member connections admitted')
  t.is(
    await (await stranger.node.projects.resolve(key)).view.project(),
    null,
    'the stranger read nothing'
  )
})

test('toggles - joining with I Accept and Isolate on: the member that let us in proves it holds the key, and we sync', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create({ name: 'Ada' }), await m.create({ name: 'Bo' })]
  const { key } = await a.app.projects.create({ name: 'private by default' })
  await a.app.content.post(key, 'hello newcomer')
  await b.app.admission.setToggle('accept', true)
  await b.app.admission.setToggle('isolate', true)
  // B knows nobody and holds nothing yet: A can only be recognized by the key it proves
  const joined = await b.app.projects.join((await a.app.projects.invite(key)).code)
  t.ok(joined.writable, 'B joined and writes')
  await converged([a, b], key)
  t.alike(
    (await b.app.content.feed(key)).map((p) => p.text),
    ['hello newcomer'],
    'B synced from the member that let it in'
  )
  t.is(b.app.admission.pending().length, 0, 'nobody had to be approved by hand')
  t.is(sessionOf(b, a)?.state, 'admitted')
})
