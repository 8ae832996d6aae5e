import test from 'brittle'
import { cli, waitFor } from './helpers.js'
import type {
  NodeStatus,
  PeerRuleInfo,
  PendingInfo,
  PostInfo,
  ToggleChangeResult,
  ToggleState
} from '../../src/api.js'

test('cli - toggles: show, set, the Auto-Connect interplay, clear errors; I Accept with approve; kept across a restart', async (t) => {
  t.timeout(180_000)
  const c = cli(t)
  await c.dht()
  const bHome = await t.tmp()
  let b = await c.up(bHome, [], { name: 'Bo' })
  const all = await c.json<ToggleState>(b.home, 'toggle')
  t.alike(
    [all.accept, all.pause, all.isolate, all.autoConnect],
    [false, false, false, false],
    'all toggles off on a new node'
  )

  // the interplay: a restriction turns Auto-Connect off, and Auto-Connect waits for none
  t.is(
    (await c.json<ToggleChangeResult>(b.home, 'toggle', 'auto-connect', 'on')).toggles.autoConnect,
    true
  )
  const accept = await c.run(b.home, 'toggle', 'accept', 'on')
  t.is(accept.code, 0)
  t.is(accept.stdout.trim(), 'accept is on (auto-connect turned off)', 'says what else changed')
  const refused = await c.run(b.home, 'toggle', 'auto-connect', 'on')
  t.is(refused.code, 1, 'Auto-Connect under I Accept: refused')
  t.ok(
    /error TOGGLE_CONFLICT: Auto-Connect stays off while I Accept is on: turn it off first/.test(
      refused.stderr
    ),
    refused.stderr.trim()
  )
  const unknown = await c.run(b.home, 'toggle', 'lockdown', 'on')
  t.is(unknown.code, 2, 'an unknown toggle is a usage error')
  t.ok(/accept or pause or isolate or auto-connect/.test(unknown.stderr), unknown.stderr.trim())
  t.is((await c.run(b.home, 'toggle', 'pause', 'maybe')).code, 2, 'on or off only')
  t.is((await c.run(b.home, 'toggle', 'pause')).code, 2, 'a state is needed')
  const noSuch = await c.run(b.home, 'approve', 'zzzzzzzz')
  t.is(noSuch.code, 1)
  t.ok(/error PEER_NOT_FOUND: no peer "zzzzzzzz"/.test(noSuch.stderr), noSuch.stderr.trim())
  t.ok(
    (await c.json<NodeStatus>(b.home, 'status')).toggles.accept,
    '`flux status` shows the toggles'
  )

  // I Accept for real: a stranger holding B's public project by key waits until approved
  const key = (await c.run(b.home, 'project', 'create', 'Open kiln', '--public')).stdout.trim()
  await c.json<PostInfo>(b.home, 'post', key, 'for approved eyes')
  const a = await c.up(await t.tmp(), [], { name: 'Ada' })
  const aId = (await c.json<NodeStatus>(a.home, 'status')).peerId
  t.is((await c.run(a.home, 'project', 'join', key)).code, 0, 'A holds the project by key')
  const row = await waitFor(
    async () => (await c.json<PendingInfo[]>(b.home, 'pending')).find((p) => p.id === aId),
    'A in `flux pending`',
    30_000,
    200
  )
  t.is(row.name, 'Ada', 'with the profile name it proved')
  const human = await c.run(b.home, 'pending')
  t.ok(
    human.stdout.includes(aId) && human.stdout.includes('"Ada"?'),
    'the table shows it, as a claim'
  )
  const feedOfA = async (): Promise<PostInfo[] | null> => {
    const r = await c.run(a.home, 'feed', key, '--json')
    return r.code === 0 ? (r.json as PostInfo[]) : null
  }
  const before = await c.run(a.home, 'feed', key)
  t.ok(/PROJECT_UNREADABLE/.test(before.stderr), 'A has received nothing of the project yet')
  const approved = await c.json<PeerRuleInfo>(b.home, 'approve', aId.slice(0, 12))
  t.is(approved.id, aId, 'approved by a prefix of its id')
  await waitFor(async () => (await feedOfA())?.length === 1, 'A to sync once approved', 30_000, 200)

  // a restart keeps the toggles
  await b.stop()
  b = await c.up(bHome)
  const kept = await c.json<ToggleState>(b.home, 'toggle')
  t.alike([kept.accept, kept.autoConnect], [true, false], 'I Accept kept, Auto-Connect still off')
  t.is(
    (await c.json<PendingInfo[]>(b.home, 'pending')).length,
    0,
    'the approved peer left the queue for good'
  )
})
