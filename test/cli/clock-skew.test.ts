/**
 * Skewed clocks for real (issue 10): `flux up` nodes as separate processes, each clock moved
 * by libfaketime (LD_PRELOAD), not by an injected Clock. Monotonic clocks stay real
 * (FAKETIME_DONT_FAKE_MONOTONIC) so timers keep working; only Date.now() and the like move.
 * Without libfaketime (apt-get install libfaketime) the test says it did not run.
 */
import test, { type Test } from 'brittle'
import fs from 'fs'
import path from 'path'
import { cli, waitFor, type Cli, type FluxNodeProc } from './helpers.js'
import type { CreatedInvite, NodeStatus, ProjectDetail, TaskInfo } from '../../src/api.js'

const MINUTE = 60_000
const YEAR = 365 * 24 * 60 * MINUTE

/** libfaketime's library (the thread-safe build first: node runs threads), or null. */
function libfaketime(): string | null {
  if (process.platform !== 'linux') return null
  const dirs = ['/usr/lib/faketime', '/usr/local/lib/faketime']
  try {
    for (const arch of fs.readdirSync('/usr/lib'))
      dirs.push(path.join('/usr/lib', arch, 'faketime'))
  } catch {}
  for (const dir of dirs) {
    for (const name of ['libfaketimeMT.so.1', 'libfaketime.so.1']) {
      if (fs.existsSync(path.join(dir, name))) return path.join(dir, name)
    }
  }
  return null
}

/** Every node's titles for `tasks` and its state hash, once all nodes agree on both. */
async function agreed(c: Cli, nodes: FluxNodeProc[], key: string, tasks: string[], what: string) {
  let seen = ''
  return waitFor(
    async () => {
      const shown = await Promise.all(
        nodes.map((n) => c.json<ProjectDetail>(n.home, 'project', 'show', key))
      )
      const lists = await Promise.all(
        nodes.map((n) => c.json<TaskInfo[]>(n.home, 'task', 'list', key))
      )
      const titles = lists.map((l) => tasks.map((id) => l.find((x) => x.id === id)?.title ?? '?'))
      const lines = titles.map((x) => x.join(' | '))
      seen = lines.map((l, i) => `${l} ${shown[i]?.stateHash?.slice(0, 8)}`).join('; ')
      const hash = shown[0]?.stateHash ?? null
      const same = hash !== null && shown.every((s) => s.stateHash === hash)
      return same && lines.every((l) => l === lines[0]) ? titles[0]! : null
    },
    () => `${what} (${seen})`,
    60_000,
    250
  )
}

/** Nodes whose clocks libfaketime moves; null (after saying so) when it is not installed. */
async function skewedNodes(t: Test) {
  const lib = libfaketime()
  if (lib === null) {
    t.comment('libfaketime is not installed (apt-get install libfaketime): this test did not run')
    t.pass('skipped: libfaketime not installed')
    return null
  }
  const c = cli(t)
  await c.dht()
  /** `flux up` for `home` with its clock `offset` from the real one (FAKETIME syntax). */
  async function up(home: string, offset: string, skew: number): Promise<FluxNodeProc> {
    const env = { LD_PRELOAD: lib!, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: '1' }
    const node = await c.up(home, [], { env })
    // the node's own clock, as it says: libfaketime must really apply inside it
    const off = (await c.json<NodeStatus>(home, 'status')).startedAt - Date.now()
    t.ok(
      Math.abs(off - skew) < 2 * MINUTE,
      `${path.basename(home)} runs ${offset} (its clock is ${(off / MINUTE).toFixed(1)} min off)`
    )
    return node
  }
  return {
    c,
    up,
    async restart(node: FluxNodeProc, offset: string, skew: number) {
      await node.stop()
      return up(node.home, offset, skew)
    },
    async edit(n: FluxNodeProc, key: string, task: string, title: string) {
      const r = await c.run(n.home, 'task', 'edit', key, task, '--title', title)
      t.is(r.code, 0, `${path.basename(n.home)} sets "${title}"`)
    },
    /** A project made by `a` and joined by the others, with one task; its key and task id. */
    async project(a: FluxNodeProc, others: FluxNodeProc[]) {
      const key = (await c.run(a.home, 'project', 'create', 'Clocks')).stdout.trim()
      for (const n of others) {
        const invite = await c.json<CreatedInvite>(a.home, 'project', 'invite', key)
        t.is((await c.run(n.home, 'project', 'join', invite.code)).code, 0, 'joined')
      }
      const task = (await c.json<TaskInfo>(a.home, 'task', 'add', key, 'original')).id
      await agreed(c, [a, ...others], key, [task], 'every member sees the task')
      return { key, task }
    }
  }
}

test('cli - clocks skewed for real (libfaketime): a node ten years fast that edited alone loses to honest edits made later', async (t) => {
  t.timeout(180_000)
  const s = await skewedNodes(t)
  if (s === null) return
  const { c, up, restart, edit } = s
  let a = await up(await t.tmp(), '+0', 0)
  let b = await up(await t.tmp(), '+0', 0)
  let f = await up(await t.tmp(), '+0', 0)
  const { key, task } = await s.project(a, [b, f])
  const two = (await c.json<TaskInfo>(a.home, 'task', 'add', key, 'original two')).id
  await agreed(c, [a, b, f], key, [task, two], 'every member sees both tasks')

  // f's machine jumps ten years ahead; it comes back alone (the others frozen) and edits both
  // titles, having seen only the originals
  const frozen = [a, b]
  t.teardown(() => frozen.forEach((n) => n.child.kill('SIGCONT')), { order: -1 })
  await f.stop()
  a.child.kill('SIGSTOP')
  b.child.kill('SIGSTOP')
  f = await up(f.home, '+10y', 10 * YEAR)
  await edit(f, key, task, 'stale')
  await edit(f, key, two, 'stale two')
  await f.stop()
  a.child.kill('SIGCONT')
  b.child.kill('SIGCONT')

  // honest members edit later: b 15 minutes on (both titles), then a 30 minutes on after seeing
  // b's edit (the first). b's edits, made with nothing newer in their causal past, count (like
  // the stale ones) as ten minutes past about the same time: both clamped, a tie under causal
  // rule 3, which the claim that ran less past its bound wins (DESIGN.md, "Concurrent edits")
  a = await restart(a, '+15m', 15 * MINUTE)
  b = await restart(b, '+15m', 15 * MINUTE)
  await edit(b, key, task, 'b at 15')
  await edit(b, key, two, 'b at 15')
  t.alike(await agreed(c, [a, b], key, [task, two], 'a sees b'), ['b at 15', 'b at 15'])
  a = await restart(a, '+30m', 30 * MINUTE)
  await edit(a, key, task, 'a at 30')
  t.alike(await agreed(c, [a, b], key, [task, two], 'b sees a'), ['a at 30', 'b at 15'])

  // the fast node returns: its stale edits land last and lose everywhere
  f = await up(f.home, '+10y', 10 * YEAR)
  t.alike(
    await agreed(c, [a, b, f], key, [task, two], 'the fast node is back: one state'),
    ['a at 30', 'b at 15'],
    'the honest later titles stand on every node, one state hash'
  )
})

test('cli - clocks skewed for real (libfaketime): an edit from a clock an hour slow wins over the one it saw; a joiner ten years ahead is told its clock', async (t) => {
  t.timeout(180_000)
  const s = await skewedNodes(t)
  if (s === null) return
  const { c, up, restart, edit } = s
  const a = await up(await t.tmp(), '+0', 0)
  let b = await up(await t.tmp(), '+0', 0)
  const { key, task } = await s.project(a, [b])
  await edit(a, key, task, 'a, on time')
  t.alike(await agreed(c, [a, b], key, [task], 'b sees a'), ['a, on time'])

  // b's machine runs an hour slow: its edit, made after seeing a's, wins (causal order)
  b = await restart(b, '-1h', -60 * MINUTE)
  await edit(b, key, task, 'b, an hour slow')
  t.alike(
    await agreed(c, [a, b], key, [task], 'the slow edit reaches a'),
    ['b, an hour slow'],
    'a later edit from a slow clock wins over the one it saw, on every node'
  )

  // a joiner ten years ahead: the invite is expired by its clock, and it is told so
  const g = await up(await t.tmp(), '+10y', 10 * YEAR)
  const invite = await c.json<CreatedInvite>(a.home, 'project', 'invite', key)
  const joined = await c.run(g.home, 'project', 'join', invite.code)
  t.not(joined.code, 0, `the join fails (exit ${joined.code})`)
  const said = joined.stderr + joined.stdout
  const year = new Date(Date.now() + 10 * YEAR).getUTCFullYear()
  t.ok(
    new RegExp(`expired at .* by this machine's clock \\(it says ${year}-`).test(said) &&
      said.includes("if this machine's clock is wrong"),
    `it names its clock: ${said.trim()}`
  )
})
