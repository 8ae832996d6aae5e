import test from 'brittle'
import { ManualClock, withTimeout } from '../../src/util/clock.js'
import { FluxError } from '../../src/errors.js'

test('clock - a manual clock moves only when told, and fires what falls due, in order', (t) => {
  const clock = new ManualClock(1_000)
  const fired: string[] = []
  clock.setTimeout(() => fired.push(`b@${clock.now()}`), 200)
  clock.setTimeout(() => fired.push(`a@${clock.now()}`), 100)
  const gone = clock.setTimeout(() => fired.push('cleared'), 150)
  gone.clear()
  t.is(clock.now(), 1_000, 'time stands still')
  clock.advance(99)
  t.alike(fired, [], 'nothing due yet')
  clock.advance(150)
  t.alike(fired, ['a@1100', 'b@1200'], 'each at its own time, a cleared timer never')
  t.is(clock.now(), 1_249)
  clock.set(5_000)
  t.is(clock.now(), 5_000)
  clock.set(10) // never back in time
  t.is(clock.now(), 5_000)
})

test('clock - an interval fires once per advance however many periods passed (as after a sleep)', (t) => {
  const clock = new ManualClock(0)
  let n = 0
  const timer = clock.setInterval(() => n++, 30_000)
  clock.advance(29_999)
  t.is(n, 0)
  clock.advance(1)
  t.is(n, 1, 'on its period')
  clock.advance(2 * 3600_000)
  t.is(n, 2, 'two hours later: once, not 240 times')
  clock.advance(30_000)
  t.is(n, 3, 'and on schedule after that')
  timer.clear()
  clock.advance(60_000)
  t.is(n, 3, 'cleared')
})

test('clock - withTimeout fails with TIMEOUT when the clock passes the bound', async (t) => {
  const clock = new ManualClock(0)
  const never = new Promise<void>(() => {})
  const waiting = withTimeout(never, 60_000, 'nothing came', clock)
  clock.advance(60_000)
  try {
    await waiting
    t.fail('resolved')
  } catch (err) {
    t.ok(err instanceof FluxError && err.code === 'TIMEOUT', String(err))
  }
  t.is(await withTimeout(Promise.resolve(7), 10, 'fast', clock), 7, 'work first: its value')
})
