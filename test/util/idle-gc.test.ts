import test from 'brittle'
import v8 from 'v8'
import { ManualClock } from '../../src/util/clock.js'
import { IdleGc, fullGc } from '../../src/util/idle-gc.js'

const MiB = 1024 * 1024

test('idle gc - collects once the heap has stayed grown for two looks; an idle node never again', (t) => {
  const clock = new ManualClock(0)
  let heap = 20 * MiB
  const collected: Array<[number, number]> = []
  const idle = new IdleGc({
    clock,
    size: () => heap,
    gc: () => {
      heap = 21 * MiB // what the burst left alive
    },
    every: 500,
    growth: 8 * MiB,
    onCollect: (before, after) => collected.push([before / MiB, after / MiB])
  })
  heap += 5 * MiB
  clock.advance(500)
  heap += 5 * MiB // 30 MiB: over the growth for the first time
  clock.advance(500)
  t.is(idle.collections, 0, 'not at the first look over the growth')
  heap += 4 * MiB
  clock.advance(500) // 34 MiB, over at the second look in a row
  t.is(idle.collections, 1, 'collected at the second')
  t.alike(collected, [[34, 21]])
  for (let i = 0; i < 10; i++) clock.advance(500)
  t.is(idle.collections, 1, 'an idle node does not collect again')
  heap += 7 * MiB // a small burst: under the growth
  for (let i = 0; i < 4; i++) clock.advance(500)
  t.is(idle.collections, 1, 'growth under the threshold is left to V8')
  // steady load: the heap keeps growing, and is collected at most every other look
  for (let i = 0; i < 8; i++) {
    heap += 10 * MiB
    clock.advance(500)
  }
  t.is(idle.collections, 5, 'under load, every other look')
  idle.stop()
  heap += 20 * MiB
  clock.advance(500)
  clock.advance(500)
  t.is(idle.collections, 5, 'stopped: no more looks')
})

test('idle gc - a heap V8 shrank by itself moves the baseline down', (t) => {
  const clock = new ManualClock(0)
  let heap = 30 * MiB
  const idle = new IdleGc({ clock, size: () => heap, gc: () => {}, growth: 8 * MiB })
  heap = 12 * MiB // V8's own collection
  clock.advance(500)
  heap = 19 * MiB // 7 MiB over what V8 kept: under the threshold
  clock.advance(500)
  clock.advance(500)
  t.is(idle.collections, 0)
  heap = 21 * MiB
  clock.advance(500)
  clock.advance(500)
  t.is(idle.collections, 1, '9 MiB over what V8 kept, at two looks')
  idle.stop()
})

test('idle gc - the real collector frees dead objects, and the process gets no global gc', (t) => {
  const gc = fullGc()
  t.is(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'no gc on our own global')
  gc()
  const before = v8.getHeapStatistics().used_heap_size
  let junk: unknown[] | null = []
  for (let i = 0; i < 200_000; i++) junk.push({ i, s: `garbage ${i}`, a: [i, i + 1] })
  const grown = v8.getHeapStatistics().used_heap_size
  t.ok(grown - before > 8 * MiB, `the garbage took ${((grown - before) / MiB).toFixed(1)} MiB`)
  junk = null
  gc()
  const after = v8.getHeapStatistics().used_heap_size
  t.ok(after - before < 2 * MiB, `kept ${((after - before) / MiB).toFixed(1)} MiB after collecting`)
})
