/**
 * The NAT and relay flags and what `flux status` / `flux peers` say about them, on loopback (the
 * NAT lab in test/nat proves the routes themselves; this runs on every machine).
 */
import test from 'brittle'
import { cli, flux } from './helpers.js'
import type { CreatedInvite, NodeStatus, PeerInfo } from '../../src/api.js'

test('cli - relay flags: --serve-relay shows a relay id, --relay takes it, a bad one is a usage error', async (t) => {
  t.timeout(90_000)
  const c = cli(t)
  await c.dht()
  const relay = await c.up(await t.tmp(), ['--serve-relay'], { profile: false })
  const rs = await c.json<NodeStatus>(relay.home, 'status')
  t.ok(rs.nat.relaying, 'the relay node says it relays')
  const id = rs.nat.relaying?.id ?? ''
  t.is(id.length, 52, 'under a relay id of its own')
  t.not(id, rs.peerId, 'not its peer id (that one is the swarm key)')
  t.is(rs.nat.kind, 'open', 'a loopback node is reachable: no NAT')
  const text = (await c.run(relay.home, 'status')).stdout
  t.ok(new RegExp(`relaying\\s+as ${id}: 0 peers connected`).test(text), 'flux status: relaying')
  t.ok(/nat\s+none in the way/.test(text), 'flux status: no NAT')

  const bad = await flux(['up', '--home', await t.tmp(), '--relay', 'not-a-relay'])
  t.is(bad.code, 2, 'a bad relay id exits 2')
  t.ok(
    /^flux: error USAGE: --relay: "not-a-relay" is not a valid relay id/.test(bad.stderr),
    bad.stderr
  )

  const a = await c.up(await t.tmp(), ['--relay', id])
  const b = await c.up(await t.tmp(), [], { env: { FLUX_RELAY: id } })
  for (const n of [a, b]) {
    t.alike((await c.json<NodeStatus>(n.home, 'status')).nat.relays, [id], 'may relay through it')
  }
  t.ok(a.stdout().includes(`may relay through ${id}`), 'flux up says so')

  const key = (await c.run(a.home, 'project', 'create', 'Kiln')).stdout.trim()
  const invite = await c.json<CreatedInvite>(a.home, 'project', 'invite', key)
  t.is((await c.run(b.home, 'project', 'join', invite.code)).code, 0, 'B joins')
  const peers = await c.json<PeerInfo[]>(a.home, 'peers')
  const bId = (await c.json<NodeStatus>(b.home, 'status')).peerId
  t.is(peers.find((p) => p.id === bId)?.route, 'direct', 'on loopback the route is direct')
  const table = (await c.run(a.home, 'peers')).stdout
  t.ok(/ROUTE/.test(table) && /\bdirect\b/.test(table), 'flux peers shows the route')
  const st = await c.json<NodeStatus>(a.home, 'status')
  t.ok(st.nat.connections.direct >= 1, 'status counts the direct connection')
  t.alike(st.nat.failing, [], 'nothing failing')
})
