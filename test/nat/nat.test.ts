/**
 * Flux through real NATs: `flux up` processes in network namespaces behind iptables NAT routers
 * (test/nat/lab.ts), a private `flux dht` on the lab's public side. Each pairing of NATs joins a
 * project by invite, posts from both sides and converges to one state hash over the route it
 * must take. Needs root, `ip netns` and iptables: without them every test here is one passing
 * line that says why it did not run (never a failure).
 */
import test, { type Test } from 'brittle'
import { spawnSync } from 'child_process'
import fs from 'fs'
import { labAvailable } from './lab.js'
import { fluxJson, runFlux } from './nodes.js'
import { waitFor } from '../cli/helpers.js'
import type { CreatedInvite } from '../../src/api.js'
import {
  NatWorld,
  PAIRINGS,
  converged,
  createAndJoin,
  peerOf,
  status,
  type Pairing
} from './world.js'

const available = await labAvailable()
/** The codes of a holepunch that could not get through. */
const PUNCH = /HOLEPUNCH|CANNOT_HOLEPUNCH|REMOTE_NOT_HOLEPUNCH/

if (!available.ok) {
  test(`nat - not run: ${available.why}`, (t) => {
    t.comment(`the NAT lab needs root, ip netns and iptables: ${available.why}`)
    t.pass(`skipped: ${available.why}`)
  })
} else {
  const world = await NatWorld.open('t')

  for (const p of PAIRINGS) {
    test(`nat - ${p.name}: join by invite, post, converge, route ${p.route}`, async (t) => {
      t.timeout(240_000)
      await pairing(t, p)
    })
  }

  test('nat - random/random without a relay: status and live status say why it fails', async (t) => {
    t.timeout(120_000)
    const p: Pairing = { ...PAIRINGS[2]!, tag: 'nr', relay: false }
    const { a, b } = await world.pair(p)
    t.teardown(() => Promise.all([a.stop(), b.stop()]))
    const created = await runFlux(['project', 'create', 'Unreachable', '--home', a.home])
    const key = created.stdout.trim()
    // the bare key puts B on the project's topic without waiting to be a writer: it dials A
    const joined = await runFlux(['project', 'join', key, '--home', b.home])
    t.is(joined.code, 0, 'B holds the project by its key')
    const failing = await waitFor(
      async () => {
        for (const n of [a, b]) {
          const f = (await status(n)).nat.failing.find((x) => PUNCH.test(x.code))
          if (f) return { node: n, failure: f }
        }
        return null
      },
      'a failing connection attempt in flux status',
      60_000
    )
    t.comment(`${failing.node.name}: ${failing.failure.code}: ${failing.failure.reason}`)
    t.ok(/relay/.test(failing.failure.reason), 'status says why, and that a relay would help')
    const st = await status(failing.node)
    t.is(st.nat.kind, 'random', 'status: behind a NAT that randomizes ports')
    t.is(st.nat.behindNat, true, 'status: behind a NAT')
    t.is(st.peers, 0, 'no connection')
    const text = (await runFlux(['status', '--home', failing.node.home])).stdout
    t.ok(/nat\s+random/.test(text), 'flux status shows the NAT kind')
    t.ok(
      new RegExp(`failing\\s+\\S+: .*${failing.failure.code}`).test(text),
      'and the failing attempt'
    )
    t.ok(/flux up --relay/.test(text), 'and what to do about it')
    const live = failing.node.proc
      .events()
      .find((e) => e.event === 'connect-failed' && PUNCH.test(String(e.code)))
    t.ok(live, "flux up's live status printed the failing attempt")
  })

  test('nat - random/random through a relay a project member offers, without --relay', async (t) => {
    t.timeout(150_000)
    const host = await world.lab.publicHost('member-relay')
    const r = await world.flux.up(host, 'member-relay', world.bootstrap, [
      '--serve-relay',
      '--reachable'
    ])
    const { a, b } = await world.pair({ ...PAIRINGS[2]!, tag: 'mo', relay: false })
    t.teardown(() => Promise.all([a.stop(), b.stop(), r.stop()]))
    const relayId = (await status(r)).nat.relaying?.id
    // A's project gets the relay node as a member first, then B
    const { key } = await createAndJoin(a, r)
    const invite = await fluxJson<CreatedInvite>(a.home, 'project', 'invite', key)
    const joined = await runFlux(['project', 'join', invite.code, '--home', b.home])
    t.is(joined.code, 0, 'B joins by invite')
    const offered = await waitFor(
      async () => ((await status(a)).nat.relays.includes(relayId ?? '') ? true : null),
      'A to take up the member relay',
      30_000
    )
    t.ok(offered, "A may relay through the member's relay, offered over flux/relay/v1")
    const [ab, ba] = await Promise.all([peerOf(a, b, 60_000), peerOf(b, a, 60_000)])
    t.is(ab.route, 'relayed', `A reaches B relayed (${ab.address})`)
    t.is(ba.route, 'relayed', `B reaches A relayed (${ba.address})`)
  })

  test('nat - a NAT that forgets its mappings or changes its public address: reconnect, catch up', async (t) => {
    t.timeout(180_000)
    const p: Pairing = { ...PAIRINGS[0]!, tag: 'mc' }
    const { a, b, ra } = await world.pair(p)
    t.teardown(() => Promise.all([a.stop(), b.stop()]))
    const { key } = await createAndJoin(a, b)
    await runFlux(['post', key, 'before', '--home', b.home])
    await converged([a, b], key, 1)
    const oldWan = ra.wan

    await world.lab.flushMappings(ra)
    await runFlux(['post', key, 'after the flush', '--home', b.home])
    await converged([a, b], key, 2)
    t.pass("after a conntrack flush on A's router, A has B's new post")

    const started = Date.now()
    const newWan = await world.lab.renumber(ra)
    t.not(newWan, oldWan, `A's router moved from ${oldWan} to ${newWan}`)
    for (let i = 0; i < 3; i++)
      await runFlux(['post', key, `after renumbering ${i}`, '--home', b.home])
    await converged([a, b], key, 5, 90_000)
    t.comment(`caught up ${((Date.now() - started) / 1000).toFixed(1)} s after the address change`)
    const seen = await peerOf(b, a)
    t.ok(
      seen.address?.startsWith(`${newWan}:`),
      `B now reaches A at its new address (${seen.address})`
    )
    t.is(seen.route, 'holepunched', 'holepunched again')
  })

  test('nat - lab teardown: no namespace, process or folder left', async (t) => {
    await world.close()
    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf-8' })
      .stdout.split('\n')
      .filter((l) => l.startsWith(`${world.lab.id}-`))
    t.alike(left, [], 'every namespace of the lab deleted')
    t.is(world.flux.running(), 0, 'every flux process of the lab ended')
    t.absent(fs.existsSync(world.dir), "the nodes' homes removed")
  })

  async function pairing(t: Test, p: Pairing): Promise<void> {
    const { a, b } = await world.pair(p)
    t.teardown(() => Promise.all([a.stop(), b.stop()]))
    const [sa, sb] = await Promise.all([status(a), status(b)])
    t.comment(
      `A: ${sa.nat.kind} ${sa.nat.publicAddress}; B: ${sb.nat.kind} ${sb.nat.publicAddress}`
    )
    if (p.route !== 'direct') {
      t.is(sa.nat.kind, p.a, `A's status: ${p.a} NAT`)
      t.is(sb.nat.kind, p.b, `B's status: ${p.b} NAT`)
    }
    const { key, joinMs } = await createAndJoin(a, b)
    t.comment(`flux project join until writable: ${(joinMs / 1000).toFixed(2)} s`)
    await Promise.all([
      runFlux(['post', key, 'from A', '--home', a.home]),
      runFlux(['post', key, 'from B', '--home', b.home])
    ])
    const hash = await converged([a, b], key, 2)
    t.ok(hash, `one state hash on both: ${hash.slice(0, 16)}`)
    const [ab, ba] = await Promise.all([peerOf(a, b), peerOf(b, a)])
    t.is(ab.route, p.route, `A reaches B ${p.route} (${ab.address})`)
    t.is(ba.route, p.route, `B reaches A ${p.route} (${ba.address})`)
    const text = (await runFlux(['peers', '--home', a.home])).stdout
    t.ok(new RegExp(`\\b${p.route}\\b`).test(text), 'flux peers shows the route')
  }
}
