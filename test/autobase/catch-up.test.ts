import test from 'brittle'
import { CatchUp, type FastForwardState } from '../../src/autobase/catch-up.js'
import type { FluxBase } from '../../src/autobase/base.js'
import type { BaseSystem } from '../../src/autobase/runner.js'
import { link, openAddBase, viewEntries, type AddOp, type Gate } from '../helpers/add-base.js'
import { waitFor } from '../cli/helpers.js'

// The decision of catch-up.ts on a stand-in for the four fields of Autobase's fast-forward
// state it reads, then on real bases: that the pinned Autobase has those fields, and the late
// joiner's race replayed on two bases (the late-joiner bench runs it over the network).

function stateWith(over: Partial<FastForwardState> = {}): FastForwardState {
  return {
    fastForwardTo: null,
    fastForwardFailedAt: 0,
    core: { length: 10 },
    closing: null,
    _appending: null,
    ...over
  }
}

const DAY = 86_400_000

test('catch up - an apply call is abandoned only for a fast-forward Autobase will take', async (t) => {
  let s = stateWith()
  const c = new CatchUp(
    () => s,
    20,
    () => 0,
    () => DAY
  )
  await c.beforeApply()
  t.is(c.counts.abandoned, 0, 'no fast-forward: apply goes on')

  s = stateWith({ fastForwardTo: { length: 26, minimum: 16, force: false } })
  await t.exception(c.beforeApply(), /a fast-forward is ready/, 'ready and worth it: abandoned')
  t.is(c.counts.abandoned, 1)

  s = stateWith({ fastForwardTo: { length: 25, minimum: 16, force: false } })
  await c.beforeApply()
  t.is(
    c.counts.abandoned,
    1,
    'less than the minimum ahead: Autobase would drop it, so apply goes on'
  )

  s = stateWith({ fastForwardTo: { length: 11, minimum: 16, force: true } })
  await t.exception(c.beforeApply(), /a fast-forward is ready/, 'a forced one is always taken')

  s = stateWith({
    fastForwardTo: { length: 100, minimum: 16, force: false },
    fastForwardFailedAt: DAY - 299_000
  })
  await c.beforeApply()
  t.is(c.counts.abandoned, 2, 'within five minutes of a failed one the error would stop the base')

  s = stateWith({ fastForwardTo: { length: 100, minimum: 16, force: false }, closing: {} })
  await c.beforeApply()
  s = stateWith({ fastForwardTo: { length: 100, minimum: 16, force: false } })
  await c.beforeApply(true)
  t.is(c.counts.abandoned, 2, 'never while closing, never for an optimistic block')
  s = stateWith({ fastForwardTo: { length: 100, minimum: 16, force: false }, _appending: [null] })
  await c.beforeApply()
  t.is(c.counts.abandoned, 2, "never while this node's own appends are in flight")
})

test('catch up - apply gives the event loop a turn once it has held it for turnMs', async (t) => {
  let now = 0
  const c = new CatchUp(
    () => stateWith(),
    20,
    () => now,
    () => DAY
  )
  // a long apply: calls follow each other without the event loop running in between
  await c.beforeApply()
  now = 10
  await c.beforeApply()
  t.is(c.counts.turns, 0, 'held 10 ms: no turn')
  now = 25
  let ranBetween = false
  setImmediate(() => (ranBetween = true))
  await c.beforeApply()
  t.is(c.counts.turns, 1, 'held 25 ms: a turn')
  t.ok(ranBetween, 'the event loop ran during it')
  // an apply call after the loop had its turns: no turn, whatever the clock says
  await new Promise<void>((resolve) => setImmediate(resolve))
  await new Promise<void>((resolve) => setImmediate(resolve))
  now = 1000
  await c.beforeApply()
  t.is(c.counts.turns, 1, 'the loop had a turn since: counted from now')
})

test('catch up - the pinned Autobase has the fast-forward state catch-up reads', async (t) => {
  const { store, base } = await openAddBase(await t.tmp(), null)
  await base.append({ type: 'add' })
  await base.update()
  const s = base.base as unknown as Record<string, unknown> & { core: { length: unknown } }
  t.is(s.fastForwardTo, null, 'fastForwardTo: null while none is ready')
  t.is(typeof s.fastForwardFailedAt, 'number', 'fastForwardFailedAt: a time')
  t.ok(typeof s.core.length === 'number' && s.core.length > 0, 'core.length: the system length')
  t.ok('closing' in s, 'closing')
  t.is(s._appending, null, '_appending: null once our appends are written')
  t.is(base.catchUp.counts.abandoned, 0, 'a base on its own abandons nothing')
  await base.close()
  await store.close()
})

/** Poll every 10 ms, bounded: what is awaited is Autobase's inner state, which emits nothing. */
const until = (check: () => boolean | Promise<boolean>, what: string | (() => string)) =>
  waitFor(async () => await check(), what, 15_000, 10)

test('catch up - a reader applying a backlog when a fast-forward is ready abandons it and lands on the signed state', async (t) => {
  const a = await openAddBase(await t.tmp(), null)
  const gate: Gate = { held: null, calls: 0 }
  const b = await openAddBase(await t.tmp(), a.base.key, { gate })
  const stateOf = async (x: { base: FluxBase<AddOp> }) => {
    await x.base.update()
    return {
      applied: (await x.base.bee.get('sys'))?.value,
      entries: (await viewEntries(x.base)).join('\n')
    }
  }
  // B follows A's first few blocks by applying them (too few to fast-forward)
  for (let i = 0; i < 4; i++) await a.base.append({ type: 'add' })
  let streams = link(a.store, b.store)
  await until(
    async () => (await viewEntries(b.base)).join() === (await viewEntries(a.base)).join(),
    'B to apply A'
  )
  for (const s of streams) s.destroy()

  // A writes a backlog of single-op blocks while B is away (far more than Autobase's minimum)
  for (let i = 0; i < 120; i++) await a.base.append({ type: 'add' })

  // B comes back, first on A's writer core alone: it applies (its first call is held at the
  // gate, the event loop free). Then on everything: it learns A's signed state, and
  // Autobase gets a fast-forward ready while the call is held. Released, the next apply call
  // must give way to it
  let release = (): void => {}
  gate.held = new Promise<void>((resolve) => (release = resolve))
  const callsBefore = gate.calls
  const ffState = b.base.base as unknown as FastForwardState
  const writerCore = link(a.base.base.local, b.store.get({ key: a.base.writerKey }))
  await until(() => gate.calls > callsBefore, 'B to apply from the writer core')
  t.is(ffState.core.length < 100, true, 'B has not fast-forwarded yet')
  streams = link(a.store, b.store)
  await until(() => ffState.fastForwardTo !== null, 'a fast-forward to be ready')
  gate.held = null
  release()

  await until(async () => {
    const [x, y] = [await stateOf(a), await stateOf(b)]
    return x.entries === y.entries
  }, "B to hold A's state")
  const [x, y] = [await stateOf(a), await stateOf(b)]
  t.alike(y.applied, x.applied, 'the same system record as A (124 ops applied)')
  t.is((x.applied as BaseSystem).applied, 124)
  t.is(b.base.failure, null, 'B works')
  t.comment(
    `abandoned ${b.base.catchUp.counts.abandoned}, apply calls while back ${gate.calls - callsBefore}`
  )
  t.ok(b.base.catchUp.counts.abandoned >= 1, 'an apply call gave way to the fast-forward')

  // and goes on applying normally afterwards
  await a.base.append({ type: 'add' })
  await until(
    async () => ((await stateOf(b)).applied as BaseSystem | undefined)?.applied === 125,
    'B to apply a new op'
  )
  for (const s of [...streams, ...writerCore]) s.destroy()
  await b.base.close()
  await a.base.close()
  await b.store.close()
  await a.store.close()
})
