import test from 'brittle'
import Corestore from 'corestore'
import { CatchUp, type FastForwardState } from '../../src/autobase/catch-up.js'
import { FluxBase } from '../../src/autobase/base.js'
import { createApply, type ApplyContext, type BaseSystem } from '../../src/autobase/runner.js'
import type { Codec } from '../../src/autobase/envelope.js'
import type { Obj } from '../../src/autobase/shapes.js'

// The decision of catch-up.ts on a stand-in for the four fields of Autobase's fast-forward
// state it reads (a real late joiner's race cannot be replayed on demand; the late-joiner
// bench runs the real one); the last test checks that the pinned Autobase has those fields.

function stateWith(over: Partial<FastForwardState> = {}): FastForwardState {
  return {
    fastForwardTo: null,
    fastForwardFailedAt: 0,
    core: { length: 10 },
    closing: null,
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

type Op = { v: number; id: string; ts: number; type: 'add' }
const codec: Codec<Op> = {
  version: 1,
  maxOpBytes: 1024,
  maxBlockBytes: 64 * 1024,
  maxBatchOps: 0,
  maxDepth: 4,
  body: (o: Obj) => (o.type === 'add' ? { type: 'add' } : 'unknown op type')
}

test('catch up - the pinned Autobase has the fast-forward state catch-up reads', async (t) => {
  const store = new Corestore(await t.tmp())
  const base = new FluxBase<Op>(store, {
    key: null,
    encryptionKey: null,
    codec,
    apply: () =>
      createApply<Op, BaseSystem, ApplyContext<BaseSystem>>({
        codec,
        systemKey: 'sys',
        emptySystem: () => ({ applied: 0, skipped: 0, clocks: {} }),
        skipKey: (seq) => `skip/${seq}`,
        seen: (b, op) => b.has(`op/${op.id}`),
        context: (ctx) => ctx,
        apply: async (ctx, op) => ctx.b.put(`add/${op.id}`, true),
        applied: async (ctx, op) => ctx.b.put(`op/${op.id}`, true),
        skipped: async (b, _sys, _author, op) => b.put(`op/${op.id}`, true)
      })
  })
  await base.ready()
  await base.append({ type: 'add' })
  await base.update()
  const s = base.base as unknown as Record<string, unknown> & { core: { length: unknown } }
  t.is(s.fastForwardTo, null, 'fastForwardTo: null while none is ready')
  t.is(typeof s.fastForwardFailedAt, 'number', 'fastForwardFailedAt: a time')
  t.ok(typeof s.core.length === 'number' && s.core.length > 0, 'core.length: the system length')
  t.ok('closing' in s, 'closing')
  t.is(base.catchUp.counts.abandoned, 0, 'a base on its own abandons nothing')
  await base.close()
  await store.close()
})
