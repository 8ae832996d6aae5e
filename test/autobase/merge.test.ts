import test from 'brittle'
import {
  wins,
  meshClock,
  effectiveTs,
  MAX_CLOCK_SKEW,
  type Register
} from '../../src/autobase/merge.js'

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
