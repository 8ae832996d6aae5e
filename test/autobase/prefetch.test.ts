import test from 'brittle'
import fs from 'fs'
import { createRequire } from 'module'
import {
  FIRST_PREFETCH,
  MAX_PREFETCH,
  isReplaceable,
  prefetchWindow,
  resume,
  slowStart,
  type PrefetchingWriter
} from '../../src/autobase/prefetch.js'
import type { BaseSystem } from '../../src/autobase/runner.js'
import { link, openAddBase, type Gate } from '../helpers/add-base.js'
import { waitFor } from '../cli/helpers.js'

// The writer prefetch's slow start (prefetch.ts): the window, the stand-in for Autobase's
// `_resume` on a stand-in writer, that the pinned Autobase has the method it replaces, and on
// real bases: a reader asks for a few of a writer's blocks at first, and still applies them all.

test('prefetch - the window starts small and grows with what is applied, up to Autobase’s', (t) => {
  t.is(prefetchWindow(0), FIRST_PREFETCH, 'nothing applied yet: the first window')
  t.is(prefetchWindow(-3), FIRST_PREFETCH, 'never below it')
  t.is(prefetchWindow(10), FIRST_PREFETCH + 20, 'two more for each block applied')
  t.is(prefetchWindow(124), MAX_PREFETCH, "Autobase's window after 124 blocks")
  t.is(prefetchWindow(10_000), MAX_PREFETCH, 'and never more')
})

/** A stand-in for Autobase's Writer: the ranges it asks for, and which were dropped. */
function standIn(offset: number, length: number) {
  const asked: Array<{ start: number; end: number; linear: boolean; destroyed: boolean }> = []
  const w: PrefetchingWriter = {
    base: {},
    nodes: { offset, length },
    range: null,
    core: {
      download(r) {
        const entry = { ...r, destroyed: false }
        asked.push(entry)
        return { range: { end: r.end }, destroy: () => void (entry.destroyed = true) }
      }
    }
  }
  return { w, asked }
}

test('prefetch - resume asks from the first block not loaded, for the window, linearly', (t) => {
  const { w, asked } = standIn(5, 7)
  resume(w)
  t.alike(asked, [{ start: 7, end: 7 + FIRST_PREFETCH, linear: true, destroyed: false }])
  resume(w)
  t.is(asked.length, 1, 'the same window again: the range asked for is kept')
  // three blocks applied, two more loaded
  w.nodes.offset = 8
  w.nodes.length = 9
  resume(w)
  t.is(asked.length, 2)
  t.ok(asked[0]?.destroyed, 'the old range is dropped')
  t.alike(asked[1], { start: 9, end: 9 + FIRST_PREFETCH + 6, linear: true, destroyed: false })
  w.nodes.offset = 5000
  w.nodes.length = 5004
  resume(w)
  t.is(asked[2]?.end, 5004 + MAX_PREFETCH, "far along: Autobase's own window")
})

test('prefetch - the pinned Autobase has the _resume this stands in for', (t) => {
  const require = createRequire(import.meta.url)
  const source = fs.readFileSync(require.resolve('autobase/lib/writer.js'), 'utf-8')
  t.ok(source.includes(`const MAX_PREFETCH = ${MAX_PREFETCH}`), "Autobase's window is 256")
  t.ok(isReplaceable(source), '_resume asks for MAX_PREFETCH blocks from nodes.length, linearly')
  t.absent(isReplaceable(source.replace('linear: true', 'linear: false')), 'another one is not')
  t.ok(slowStart({}), 'so the slow start is in place')
})

test('prefetch - a reader asks for a few of a writer’s blocks at first, and applies them all', async (t) => {
  const a = await openAddBase(await t.tmp(), null)
  for (let i = 0; i < 60; i++) await a.base.append({ type: 'add' })
  const gate: Gate = { held: null, calls: 0 }
  let release = (): void => {}
  gate.held = new Promise<void>((resolve) => (release = resolve))
  const b = await openAddBase(await t.tmp(), a.base.key, { gate })
  // A's writer core alone: B cannot learn A's signed state, so it applies every block itself
  // (no fast-forward pauses its writers)
  const streams = link(a.base.base.local, b.store.get({ key: a.base.writerKey }))

  // B's first apply call is held: what it has asked A's writer core for is what it asks
  // before applying anything
  await waitFor(async () => gate.calls > 0, 'B to apply', 15_000, 10)
  type Writers = { activeWriters: { get(key: Buffer): PrefetchingWriter | null } }
  const writer = (b.base.base as unknown as Writers).activeWriters.get(a.base.writerKey)
  t.ok(writer !== null && writer.range !== null, "B fetches A's writer core")
  const ahead = writer!.range!.range.end - writer!.nodes.length
  t.comment(`asked ${ahead} blocks ahead, ${writer!.nodes.offset} applied`)
  t.ok(
    ahead <= prefetchWindow(writer!.nodes.offset),
    `B asked ${ahead} blocks ahead: at most the slow start's window, not Autobase's 256`
  )
  gate.held = null
  release()

  await waitFor(
    async () => {
      await b.base.update()
      return ((await b.base.bee.get('sys'))?.value as BaseSystem | undefined)?.applied === 60
    },
    "B to apply all of A's 60 blocks",
    15_000,
    10
  )
  t.is(b.base.failure, null, 'B works')
  for (const s of streams) s.destroy()
  await b.base.close()
  await a.base.close()
  await b.store.close()
  await a.store.close()
})
