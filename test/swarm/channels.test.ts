import test, { type Test } from 'brittle'
import Hyperswarm from 'hyperswarm'
import HyperDHT from 'hyperdht'
import ProtomuxRPC from 'protomux-rpc'
import c from 'compact-encoding'
import { mesh, converged, until } from '../helpers/index.js'
import { MAX_STRIKES, type Session } from '../../src/swarm/session.js'
import { encodeKey } from '../../src/identity/keys.js'

/**
 * A peer that is not a Flux node: a raw Hyperswarm on the same testnet that dials a node and
 * speaks its feature channel with bytes of its choosing.
 */
async function rogue(t: Test, bootstrap: string[]): Promise<Hyperswarm> {
  const dht = new HyperDHT({ bootstrap, host: '127.0.0.1', firewalled: false })
  const swarm = new Hyperswarm({ dht })
  t.teardown(() => swarm.destroy(), { order: 0 })
  return swarm
}

test('channels - a peer sending malformed and oversized feature messages is counted and dropped; the node keeps serving its other peers', async (t) => {
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const b = await m.create({ name: 'Bo' })
  const { key } = await a.app.projects.create({ name: 'kept' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)

  const strikes: string[] = []
  a.node.network.on('peer-strike', (_s, reason) => strikes.push(reason))
  const dropped = new Promise<[Session, string]>((resolve) =>
    a.node.network.once('peer-dropped', (s, reason) => resolve([s, reason]))
  )

  const swarm = await rogue(t, m.bootstrap)
  const opened = new Promise<{ rpc: ProtomuxRPC; closed: Promise<void> }>((resolve) => {
    swarm.on('connection', (conn) => {
      conn.on('error', () => {})
      const closed = new Promise<void>((r) => conn.once('close', () => r()))
      const rpc = new ProtomuxRPC(conn, { protocol: 'flux/writers/v1', valueEncoding: c.raw })
      rpc.once('open', () => resolve({ rpc, closed }))
    })
  })
  swarm.joinPeer(a.node.network.publicKey)
  const { rpc, closed } = await opened
  const rogueId = encodeKey(swarm.keyPair.publicKey)
  const session = await until(a.node, () =>
    [...a.node.network.sessions.values()].find((s) => s.id === rogueId)
  )
  t.is(session.state, 'admitted', 'the gate admits everyone today: the rogue gets the channel')
  t.is((await a.app.peers()).find((p) => p.id === rogueId)?.profile, null, 'it proved no profile')

  rpc.event('writer-request', Buffer.from('not json at all'))
  rpc.event('writer-request', Buffer.alloc(64 * 1024, 0x61))
  rpc.event('writer-request', Buffer.from(JSON.stringify({ project: 'x', proof: 1 })))
  rpc.event('writer-request', Buffer.from('['.repeat(3000) + ']'.repeat(3000)))
  await until(a.node, () => strikes.length >= 4, 10_000, 'four strikes')
  t.ok(/not JSON/.test(strikes[0]!), `not JSON: ${strikes[0]}`)
  t.ok(/65536 bytes \(at most 8192\)/.test(strikes[1]!), `oversized: ${strikes[1]}`)
  t.ok(/malformed/.test(strikes[2]!), `malformed: ${strikes[2]}`)
  t.ok(/nested too deeply/.test(strikes[3]!), `too deep: ${strikes[3]}`)
  t.is(session.strikes, 4, 'counted against that peer')
  t.is(session.state, 'admitted', 'still connected below the limit')

  for (let i = 0; i < MAX_STRIKES; i++) rpc.event('writer-request', Buffer.from('junk'))
  const [gone, reason] = await dropped
  t.is(gone.id, rogueId, 'the rogue peer was dropped')
  t.ok(/bad messages/.test(reason), reason)
  await closed // its connection closed (else the test times out)
  t.ok(
    (await a.app.peers()).every((p) => p.id !== rogueId),
    'it is no longer listed among the peers'
  )
  t.is(a.node.network.dropped, 1, 'one peer dropped since the start')

  // the honest peer was never affected
  await b.app.content.post(key, 'still syncing')
  await converged([a, b], key)
  t.alike(
    (await a.app.content.feed(key)).map((p) => p.text),
    ['still syncing'],
    'the other peer still syncs'
  )
  const honest = (await a.app.peers()).find((p) => p.id === b.node.peerId)
  t.is(honest?.strikes, 0, 'with no strike against it')
})
