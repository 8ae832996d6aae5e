import test from 'brittle'
import crypto from 'hypercore-crypto'
import { mesh, until, errorCode, type TestNode } from '../helpers/index.js'
import { encodeKey, toHex } from '../../src/identity/keys.js'
import { MESH_TOPIC } from '../../src/services/mesh.js'
import { ManualClock } from '../../src/util/clock.js'

/** The phonebook a node lists, once it has `n` live entries. */
async function bookOf(x: TestNode, n: number) {
  const info = await x.app.mesh.phonebook()
  return info.entries.filter((e) => !e.removed).length === n ? info : null
}

function connected(a: TestNode, b: TestNode): boolean {
  return a.node.network.sessions.get(toHex(b.node.network.publicKey))?.admitted === true
}

test('phonebook - A connects to B by id: one phonebook, both entries, the same view hash', async (t) => {
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const b = await m.create({ name: 'Bo' })
  const { key } = await a.app.projects.create({ name: 'kiln' })
  const out = await a.app.mesh.connect(b.node.peerId)
  t.is(out.peer, b.node.peerId)
  t.ok(out.phonebook.shared && out.phonebook.key !== null, 'shared')
  const [ia, ib] = [
    await until(a.node, () => bookOf(a, 2)),
    await until(b.node, () => bookOf(b, 2))
  ]
  t.is(ia.key, ib.key, 'the same phonebook')
  const hashes = await until(
    a.node,
    async () => {
      const [x, y] = [await a.app.mesh.phonebook(), await b.app.mesh.phonebook()]
      return x.hash === y.hash && x.version === y.version ? [x.hash, y.hash] : null
    },
    20_000,
    'the same view hash'
  )
  t.ok(hashes[0] !== null, `view hash ${hashes[0]?.slice(0, 12)}`)
  t.alike(
    ia.entries.map((e) => e.peer).sort(),
    [a.node.peerId, b.node.peerId].sort(),
    "both nodes' entries"
  )
  const mine = ia.entries.find((e) => e.self)
  t.is(mine?.projects, 1, "A's entry carries its project, hashed")
  t.is(mine?.shared, 1, 'A recognises its own project')
  t.is(ib.entries.find((e) => e.peer === a.node.peerId)?.shared, 0, 'B, not a member, cannot')
  t.ok(
    ia.entries.every((e) => e.profile !== null && e.profile.length === 32),
    'hashed profile ids'
  )
  t.absent(JSON.stringify(ia).includes(toHex(a.node.profile.keys!.profileId)), 'no bare profile id')
  t.absent(JSON.stringify(ia).includes(key), 'no bare project key')

  // the phonebook key is kept: B restarts and holds the same one
  const again = await a.app.mesh.connect(b.node.peerId)
  t.ok(again.phonebook.shared, 'connecting again changes nothing')
})

test('phonebook - connect: clear errors for a bad id, this node, a peer nobody can reach', async (t) => {
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  t.is(await errorCode(a.app.mesh.connect('not-a-peer')), 'KEY_MALFORMED')
  t.is(await errorCode(a.app.mesh.connect(a.node.peerId)), 'INVALID_INPUT', 'this node itself')
  const nobody = encodeKey(crypto.keyPair().publicKey)
  t.is(await errorCode(a.app.mesh.connect(nobody, 3000)), 'TIMEOUT', 'a peer nobody can reach')
})

test('phonebook - the other side decides: Isolate refuses, I Accept holds, and neither shares a phonebook', async (t) => {
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const b = await m.create({ name: 'Bo' })
  await b.app.admission.setToggle('isolate', true)
  t.is(await errorCode(a.app.mesh.connect(b.node.peerId, 8000)), 'CONNECT_REFUSED', 'Isolate')
  t.is((await b.app.mesh.phonebook()).key, null, 'B holds no phonebook')
  // a fresh node with I Accept on (toggling B while A redials it would race the toggle)
  const c = await m.create({ name: 'Cy' })
  await c.app.admission.setToggle('accept', true)
  t.is(await errorCode(a.app.mesh.connect(c.node.peerId, 8000)), 'PEER_HELD', 'I Accept')
  await until(c.node, () => c.app.admission.pending().some((p) => p.id === a.node.peerId))
  await c.app.admission.approve(a.node.peerId)
  const out = await a.app.mesh.connect(c.node.peerId, 15_000)
  t.absent(out.phonebook.shared, 'approved and connected, but no phonebook under I Accept')
  t.ok(/I Accept is on/.test(out.phonebook.reason ?? ''), out.phonebook.reason ?? '')
  t.is((await c.app.mesh.phonebook()).key, null, 'C holds none')
})

test('phonebook - auto-connect: C finds A and B through the mesh topic and joins their phonebook; D (off) does not; a restarted C dials them from its phonebook', async (t) => {
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const b = await m.create({ name: 'Bo' })
  await a.app.mesh.connect(b.node.peerId)
  await until(a.node, () => bookOf(a, 2))
  const cHome = await t.tmp()
  let c = await m.create({ name: 'Cy', home: cHome })
  const d = await m.create({ name: 'Di' })
  await c.app.admission.setToggle('auto-connect', true)
  await until(c.node, () => connected(c, a) && connected(c, b), 60_000, 'C connected to A and B')
  const three = await until(a.node, () => bookOf(a, 3), 30_000, 'C in the phonebook')
  t.ok(
    three.entries.some((e) => e.peer === c.node.peerId),
    "C's entry in A's phonebook"
  )
  await until(b.node, () => bookOf(b, 3), 30_000, 'C in B s phonebook')
  const st = await c.app.status()
  t.ok(
    st.mesh.phonebook === three.key && st.mesh.entries === 3,
    '`flux status` shows the phonebook'
  )
  t.absent(
    connected(d, a) || connected(d, b) || connected(d, c),
    'D, Auto-Connect off: no connection'
  )
  t.is((await d.app.mesh.phonebook()).key, null, 'D holds no phonebook')

  // C restarts: it holds the phonebook still and dials its nodes from it
  await c.node.close()
  c = await m.create({ home: cHome })
  t.is((await c.app.mesh.phonebook()).key, three.key, 'the same phonebook after the restart')
  await until(c.node, () => connected(c, a) && connected(c, b), 60_000, 'C back with A and B')
  t.is(c.node.mesh.dialed.size, 2, 'both dialed from the phonebook')
})

test('phonebook - with one node of the phonebook online nobody auto-connects; Isolate and Pause hold against auto-connect', async (t) => {
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const bHome = await t.tmp()
  let b = await m.create({ name: 'Bo', home: bHome })
  await a.app.mesh.connect(b.node.peerId)
  await until(a.node, () => bookOf(a, 2))
  await until(a.node, () => a.node.mesh.topicMode.server, 20_000, 'A to announce the mesh')

  // B goes: A alone does not show the mesh, and C (Auto-Connect on) finds nobody
  await b.node.close()
  await until(a.node, () => !a.node.mesh.topicMode.server, 20_000, 'A to stop announcing')
  const c = await m.create({ name: 'Cy' })
  await c.app.admission.setToggle('auto-connect', true)
  t.ok(c.node.mesh.topicMode.client, 'C looks the mesh topic up')
  await lookedUp(c)
  t.is(c.node.network.sessions.size, 0, 'one node online: C connected to nobody')

  // B is back (A redials it): two nodes online, C finds them
  b = await m.create({ home: bHome })
  await until(c.node, () => connected(c, a) || connected(c, b), 60_000, 'C to find the mesh')
  t.pass('two nodes online: C auto-connected')

  // Isolate on A, Pause on B: no auto-connection reaches them
  await a.app.admission.setToggle('isolate', true)
  await b.app.admission.setToggle('pause', true)
  await until(a.node, () => !a.node.mesh.topicMode.server, 20_000, 'isolated A off the mesh')
  t.absent(b.node.mesh.topicMode.server || b.node.mesh.topicMode.client, 'paused B off the mesh')
  const e = await m.create({ name: 'Eve' })
  await e.app.admission.setToggle('auto-connect', true)
  await lookedUp(e)
  t.absent(connected(e, a) || connected(e, b), 'E reached neither A (Isolate) nor B (Pause)')
  t.absent(connected(a, e), 'and A admitted nothing from E')
  // a node with Pause or Isolate on keeps Auto-Connect off
  await e.app.admission.setToggle('pause', true)
  t.absent(e.app.admission.toggles().autoConnect, 'Pause turned Auto-Connect off')
  t.absent(e.node.mesh.topicMode.client || e.node.mesh.topicMode.server, 'paused E: off the mesh')
})

/** Wait until a node's lookup of the mesh topic finished and the dials it started settled. */
async function lookedUp(x: TestNode): Promise<void> {
  await x.node.network.swarm.status(MESH_TOPIC)?.flushed()
  await x.node.network.swarm.flush()
}

test('phonebook - a peer naming a phonebook nobody adds us to cannot hold the node in it', async (t) => {
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const clock = new ManualClock(Date.now())
  const b = await m.create({ name: 'Bo', clock })
  const bKey = toHex(b.node.network.publicKey)
  a.node.network.dial(b.node.network.publicKey)
  const peer = await until(a.node, () =>
    a.node.phonebook.channel.peers().find((p) => p.id === bKey && p.session.admitted)
  )
  const bogus = crypto.randomBytes(32).toString('hex')
  const answer = await a.node.phonebook.channel.request(peer, 'share', { key: bogus }, 10_000)
  t.ok(answer?.ok && answer.key === bogus, 'B opens the phonebook it was told of')
  t.is(b.node.state.phonebook(), null, 'but does not keep it before it writes to it')
  clock.advance(60_000)
  await until(b.node, () => b.node.phonebook.book === null, 20_000, 'B to let it go')
  t.is(b.node.state.phonebook(), null, 'nothing kept in node.json')
  const out = await a.app.mesh.connect(b.node.peerId)
  t.ok(out.phonebook.shared, 'a real phonebook is shared afterwards')
  await until(b.node, () => bookOf(b, 2), 20_000, 'both entries on B')
  t.is(b.node.state.phonebook()?.key, toHex(a.node.phonebook.book!.key), 'and kept')
})
