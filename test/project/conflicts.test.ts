import test, { type Test } from 'brittle'
import { mesh, skewed, converged, until, type TestNode } from '../helpers/index.js'
import { encodeOp } from '../../src/autobase/envelope.js'
import { MAX_CLOCK_SKEW } from '../../src/autobase/merge.js'

const TEN_YEARS = 10 * 365 * 24 * 3600 * 1000

async function setTitle(
  n: TestNode,
  key: string,
  task: string,
  title: string,
  prev: string | null
): Promise<string> {
  const project = await n.node.projects.resolve(key)
  const op = project.makeOp({ type: 'task/set', task, field: 'title', value: title, prev })
  await project.appendRaw(encodeOp(op))
  return op.id
}

/** Every node holds `title` for the task. */
async function everywhere(
  t: Test,
  nodes: TestNode[],
  key: string,
  task: string,
  title: string,
  message: string
): Promise<void> {
  t.alike(
    await titles(nodes, key, task),
    nodes.map(() => title),
    message
  )
}

async function titles(nodes: TestNode[], key: string, task: string): Promise<string[]> {
  return Promise.all(
    nodes.map(
      async (n) => (await (await n.node.projects.resolve(key)).view.task(task))?.title.value ?? ''
    )
  )
}

/**
 * Three members of one project: `a` (its creator) and `b` on honest clocks that `time.elapsed`
 * moves forward, to model time passing, and `liar`, whose clock `time.ahead` moves (it jumps
 * once the node is a member: a node ten years ahead from the start would see every invite as
 * expired).
 */
async function clocked(t: Test) {
  const time = { elapsed: 0, ahead: 0 }
  const m = await mesh(t)
  const a = await m.create({ clock: skewed(() => time.elapsed) })
  const liar = await m.create({ clock: skewed(() => time.ahead) })
  const b = await m.create({ clock: skewed(() => time.elapsed) })
  const { key } = await a.app.projects.create({ name: 'p' })
  await liar.app.projects.join((await a.app.projects.invite(key)).code)
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  return { time, a, liar, b, key }
}

test('conflicts - concurrent edits of one field resolve the same on every peer', async (t) => {
  const m = await mesh(t)
  const [a, b, c] = [await m.create(), await m.create(), await m.create()]
  const { key } = await a.app.projects.create({ name: 'p' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  await c.app.projects.join((await a.app.projects.invite(key)).code)
  const task = await a.app.content.addTask(key, 'original')
  await until(c.node, async () => (await c.node.projects.resolve(key)).view.task(task.id))
  const orig = (await (await a.node.projects.resolve(key)).view.task(task.id))!.title.id
  // three writers edit the same title, each having seen only the original: truly concurrent
  const ids = await Promise.all([
    setTitle(a, key, task.id, 'from a', orig),
    setTitle(b, key, task.id, 'from b', orig),
    setTitle(c, key, task.id, 'from c', orig)
  ])
  await converged([a, b, c], key)
  const result = await titles([a, b, c], key, task.id)
  t.is(new Set(result).size, 1, `one winner everywhere: ${result[0]}`)
  const reg = (await (await a.node.projects.resolve(key)).view.task(task.id))!.title
  t.ok(ids.includes(reg.id), 'the winner is one of the concurrent edits')
})

test('conflicts - a far-future clock does not win forever', async (t) => {
  const { time, a, liar, b, key } = await clocked(t)
  time.ahead = TEN_YEARS
  const task = await a.app.content.addTask(key, 'original')
  await until(b.node, async () => (await b.node.projects.resolve(key)).view.task(task.id))
  await until(liar.node, async () => (await liar.node.projects.resolve(key)).view.task(task.id))
  const orig = (await (await a.node.projects.resolve(key)).view.task(task.id))!.title.id

  // the liar edits; its timestamp is clamped to the mesh clock plus the allowed skew
  const liarId = await setTitle(liar, key, task.id, 'from the future', orig)
  await converged([a, liar, b], key)
  const stored = (await (await b.node.projects.resolve(key)).view.task(task.id))!.title
  t.is(stored.id, liarId, 'the liar edit applied')
  t.ok(
    stored.ts <= Date.now() + MAX_CLOCK_SKEW,
    'its effective timestamp is clamped, not ten years ahead'
  )

  // an edit made after seeing the liar's value wins, whatever the clocks say
  const seen = await setTitle(b, key, task.id, 'fixed by b', stored.id)
  await converged([a, liar, b], key)
  await everywhere(t, [a, liar, b], key, task.id, 'fixed by b', 'causal edit wins everywhere')
  t.is((await (await a.node.projects.resolve(key)).view.task(task.id))!.title.id, seen)

  // the liar again edits concurrently (it saw the original only) ...
  const liar2 = await setTitle(liar, key, task.id, 'future again', orig)
  await converged([a, liar, b], key)
  const afterLiar = (await (await a.node.projects.resolve(key)).view.task(task.id))!.title
  // ... and once the honest peers' clocks have moved past the skew window (time passes, they
  // write), a concurrent honest edit beats it
  time.elapsed = MAX_CLOCK_SKEW + 60_000
  await a.app.content.post(key, 'time passes for a')
  await b.app.content.post(key, 'time passes for b')
  await converged([a, liar, b], key)
  await setTitle(b, key, task.id, 'honest, later', orig)
  await converged([a, liar, b], key)
  const final = await titles([a, liar, b], key, task.id)
  t.alike(
    final,
    ['honest, later', 'honest, later', 'honest, later'],
    'a later concurrent edit beats the clamped liar'
  )
  t.comment(
    `liar's second edit ${afterLiar.id === liar2 ? 'won' : 'lost'} its first conflict; clamped ts ${afterLiar.ts}`
  )
})

test('conflicts - a stale edit made alone by a clock ten years fast loses to honest edits made after it', async (t) => {
  const { time, a, liar, b, key } = await clocked(t)
  const one = await a.app.content.addTask(key, 'original one')
  const two = await a.app.content.addTask(key, 'original two')
  await converged([a, liar, b], key)
  const view = async (n: TestNode, task: string) =>
    (await (await n.node.projects.resolve(key)).view.task(task))!.title
  const [orig1, orig2] = [(await view(a, one.id)).id, (await view(a, two.id)).id]

  // the fast node, alone, edits both titles (it saw only the originals)
  time.ahead = TEN_YEARS
  await liar.node.network.pause()
  await setTitle(liar, key, one.id, 'stale one', orig1)
  await setTitle(liar, key, two.id, 'stale two', orig2)
  // honest members edit later: b at 15 minutes, then a at 30 minutes after seeing b's edit
  time.elapsed = 15 * 60_000
  const b1 = await setTitle(b, key, one.id, 'b at 15', orig1)
  await setTitle(b, key, two.id, 'b at 15', orig2)
  await converged([a, b], key)
  time.elapsed = 30 * 60_000
  await setTitle(a, key, one.id, 'a at 30', b1)
  await converged([a, b], key)

  // the fast node returns: its edits land last, and lose everywhere
  await liar.node.network.resume()
  await converged([a, liar, b], key, 60_000)
  await everywhere(t, [a, liar, b], key, one.id, 'a at 30', 'the latest honest edit stands')
  await everywhere(
    t,
    [a, liar, b],
    key,
    two.id,
    'b at 15',
    'a single honest edit made after it stands too'
  )
})

test('conflicts - a fast clock that saw one block more still loses to an honest edit made after a quiet spell', async (t) => {
  const { time, a, liar, b, key } = await clocked(t)
  const task = await a.app.content.addTask(key, 'original')
  await converged([a, liar, b], key)
  const orig = (await (await a.node.projects.resolve(key)).view.task(task.id))!.title.id

  // b goes offline; a writes a minute on and the fast node sees it: its causal past now runs a
  // minute later than b's
  await b.node.network.pause()
  time.elapsed = 60_000
  const seen = await a.app.content.addTask(key, 'seen by the fast node only')
  await converged([a, liar], key)
  const latest = (await (await a.node.projects.resolve(key)).view.task(seen.id))!.title.ts
  // the fast node, alone and ten years ahead, edits; then b, offline, edits 15 minutes on
  time.ahead = TEN_YEARS
  await liar.node.network.pause()
  await setTitle(liar, key, task.id, 'stale', orig)
  time.elapsed = 15 * 60_000
  const honest = await setTitle(b, key, task.id, 'b at 15', orig)

  // everyone comes back: both edits were clamped (b's by its quiet spell), the fast node's to a
  // later bound; under causal rule 2 it won everywhere, under rule 3 the bounds tie and the
  // claim that ran less past its bound wins: b's, by ten years
  await b.node.network.resume()
  await liar.node.network.resume()
  await converged([a, liar, b], key, 60_000)
  await everywhere(t, [a, liar, b], key, task.id, 'b at 15', 'the honest edit stands everywhere')
  const reg = (await (await liar.node.projects.resolve(key)).view.task(task.id))!.title
  t.is(reg.id, honest, "b's edit holds the register on the fast node too")
  t.ok((reg.over ?? 0) > 0, 'b was clamped: its quiet spell is not provable')
  t.ok(
    reg.ts < latest + MAX_CLOCK_SKEW,
    "b's merge time is below the fast node's bound: only the tie lets b win"
  )
})
