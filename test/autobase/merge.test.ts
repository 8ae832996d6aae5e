import test from 'brittle'
import {
  wins,
  meshClock,
  effectiveTs,
  MAX_CLOCK_SKEW,
  type Register
} from '../../src/autobase/merge.js'
import { write, type Ctx } from '../../src/project/apply/context.js'

const reg = (id: string, ts: number): Register<string> => ({ value: id, id, ts, by: 'w' })

test('merge - first write wins an empty register', (t) => {
  t.ok(wins(null, { id: 'a'.repeat(32), ts: 1, prev: null }))
})

test('merge - a causal successor wins whatever its timestamp', (t) => {
  const current = reg('b'.repeat(32), 10_000)
  t.ok(
    wins(current, { id: 'a'.repeat(32), ts: 1, prev: current.id }),
    'older clock, but it saw the value'
  )
})

test('merge - concurrent writes: later timestamp, then greater id, in either order', (t) => {
  const x = { id: '1'.repeat(32), ts: 100, prev: null }
  const y = { id: '2'.repeat(32), ts: 200, prev: null }
  t.ok(wins(reg(x.id, x.ts), y) && !wins(reg(y.id, y.ts), x), 'later ts wins in both orders')
  const p = { id: '3'.repeat(32), ts: 100, prev: null }
  const q = { id: '4'.repeat(32), ts: 100, prev: null }
  t.ok(
    wins(reg(p.id, p.ts), q) && !wins(reg(q.id, q.ts), p),
    'equal ts: greater id wins in both orders'
  )
})

test('merge - the mesh clock ignores one far-off writer', (t) => {
  const now = 1_700_000_000_000
  const future = now + 10 * 365 * 24 * 3600 * 1000
  t.is(meshClock({ a: now, b: now + 5, c: future }), now + 5, 'median of three')
  t.is(meshClock({ a: now, c: future }), now, 'lower median of two')
  t.is(effectiveTs(future, { a: now, b: now }), now + MAX_CLOCK_SKEW, 'far-future ts is clamped')
  t.is(effectiveTs(now + 1000, { a: now }), now + 1000, 'a small skew is kept')
})

test('merge - an op is bounded by what its writer could know; at equal times the smaller claim wins', (t) => {
  const clocks = { a: 1_000_000, b: 1_000_000, c: 9_000_000_000 }
  t.is(effectiveTs(5_000_000, clocks, null), 1_000_000 + MAX_CLOCK_SKEW, 'the mesh clock bounds it')
  t.is(effectiveTs(5_000_000, clocks, 0), MAX_CLOCK_SKEW, 'and so does its causal past')
  t.is(effectiveTs(500, clocks, 0), 500, 'an honest clock is taken as is')
  const cur = { value: 'x', id: 'b'.repeat(32), ts: 600, by: 'w', over: 1_000_000 }
  t.ok(wins(cur, { id: 'a'.repeat(32), ts: 600, over: 10, prev: null }), 'claimed less: wins')
  t.absent(wins(cur, { id: 'c'.repeat(32), ts: 600, over: 2_000_000, prev: null }), 'claimed more')
  t.ok(wins({ ...cur, over: 0 }, { id: 'c'.repeat(32), ts: 600, prev: null }), 'then the op id')
})

test('merge - causal rule 3: clamped writes within the skew window tie; the smaller claim wins', (t) => {
  const tie = MAX_CLOCK_SKEW
  const YEARS = 10 * 365 * 24 * 3600 * 1000
  // a fast clock's stale edit, clamped to a bound 39 ms later than an honest one's
  const liar = { value: 'stale', id: 'f'.repeat(32), ts: 600_039, by: 'l', over: YEARS }
  const honest = { id: '1'.repeat(32), ts: 600_000, over: 300_000, prev: null }
  t.absent(wins(liar, honest), 'rule 2 (no tie): the later bound wins, even a liar')
  t.ok(wins(liar, { ...honest, tie }), 'rule 3: the honest claim wins')
  t.absent(
    wins({ ...honest, value: 'b', by: 'b' }, { ...liar, prev: null, tie }),
    'in either order'
  )
  // bounds a window apart are not a tie: the later one is provably later
  const far = { ...honest, ts: liar.ts - tie, tie }
  t.absent(wins(liar, far), 'a bound a full window earlier loses')
  // a write that was not clamped is judged by its time, window or not
  t.absent(wins(liar, { ...honest, over: 0, tie }), 'an unclamped write does not tie')
  t.absent(
    wins({ ...liar, over: 0 }, { ...honest, tie }),
    'nor does a clamped write with an unclamped register'
  )
  // equal claims within the window: the later bound, then the op id
  const cur = { value: 'x', id: '5'.repeat(32), ts: 1_000, by: 'w', over: 50 }
  t.ok(wins(cur, { id: '2'.repeat(32), ts: 1_001, over: 50, prev: null, tie }), 'later bound')
  t.ok(wins(cur, { id: '6'.repeat(32), ts: 1_000, over: 50, prev: null, tie }), 'then the id')
  t.absent(wins(cur, { id: '4'.repeat(32), ts: 1_000, over: 50, prev: null, tie }), 'lesser id')
})

test('merge - a project keeps the rule it was made with: only causal rule 3 ties', (t) => {
  const op = { id: 'a'.repeat(32), prev: null }
  const ctx = (causal?: number): Ctx =>
    ({ mergeTs: 5, over: 7, sys: causal === undefined ? {} : { causal } }) as unknown as Ctx
  t.alike(write(ctx(3), op), { ...op, ts: 5, over: 7, tie: MAX_CLOCK_SKEW }, 'rule 3')
  t.alike(write(ctx(2), op), { ...op, ts: 5, over: 7 }, 'rule 2: no tie')
  t.alike(write(ctx(), op), { ...op, ts: 5, over: 7 }, 'rule 1: no tie')
})
