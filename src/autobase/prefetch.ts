/**
 * A writer's blocks are fetched a few at a time at first, more as they are applied.
 *
 * Autobase asks every peer's writer core for up to 256 blocks ahead of what it has loaded
 * (`MAX_PREFETCH` in its `lib/writer.js`), from the moment the writer opens. A late joiner
 * opens the creator's writer core before it knows whether it will fast-forward (it learns the
 * signed state only after applying the project's first blocks), so the creator's whole writer
 * core (2 MiB for a 10,000-post project) came in first, ahead of the messages the fast-forward
 * needed on the same connection, and most of it was never applied: the fast-forward skips it.
 *
 * Flux bases ask for {@link FIRST_PREFETCH} blocks ahead at first, and two more for each block
 * of that writer applied since (a slow start: the window grows with what apply takes, and so
 * with the link's speed), up to Autobase's own 256. A base applying a long backlog reaches
 * Autobase's window after about 124 blocks; a joiner that fast-forwards after a few blocks
 * never asks for the rest. What is fetched changes; what is applied, and so every view, does not.
 *
 * This replaces one method of Autobase 7.28.1's `Writer` (pinned; there is no option for it),
 * for Flux's bases only: a raw Autobase in the same process (the bench's baselines) keeps its
 * own. If the method is not the one this was written against, nothing is replaced and Autobase
 * keeps its own window (`test/autobase/prefetch.test.ts` checks the pinned version matches).
 */
import { createRequire } from 'module'

/** Autobase's own window (its `MAX_PREFETCH`): the most a writer asks for ahead. */
export const MAX_PREFETCH = 256
/** What a writer asks for ahead before any of its blocks is applied. */
export const FIRST_PREFETCH = 8

/** How many blocks to ask for ahead of what is loaded, `applied` blocks after the first ask. */
export function prefetchWindow(applied: number): number {
  return Math.min(MAX_PREFETCH, FIRST_PREFETCH + 2 * Math.max(0, applied))
}

/** A range download of Hypercore 11 (what `core.download` returns). */
interface Download {
  range: { end: number }
  destroy(): void
}

/** What of Autobase 7.28.1's `Writer` this reads and writes (not in its typings). */
export interface PrefetchingWriter {
  base: object
  core: { download(range: { start: number; end: number; linear: boolean }): Download }
  /** The writer's loaded blocks: `offset` the first not yet applied, `length` after the last. */
  nodes: { offset: number; length: number }
  range: Download | null
}

const bases = new WeakSet<object>()
/** Per writer: its `nodes.offset` at its first ask (what it has applied since counts). */
const firstOffset = new WeakMap<object, number>()

/**
 * Autobase's `Writer._resume`, with the window of {@link prefetchWindow}: ask for the blocks
 * from the first one not loaded, keeping the range already asked for if it is the same.
 */
export function resume(w: PrefetchingWriter): void {
  let first = firstOffset.get(w)
  if (first === undefined) firstOffset.set(w, (first = w.nodes.offset))
  const end = w.nodes.length + prefetchWindow(w.nodes.offset - first)
  if (w.range !== null) {
    if (w.range.range.end === end) return
    w.range.destroy()
  }
  w.range = w.core.download({ start: w.nodes.length, end, linear: true })
}

let installed: boolean | null = null

/**
 * Whether the pinned Autobase's `_resume` is the one {@link resume} stands in for: it asks
 * for `MAX_PREFETCH` blocks from `nodes.length`, linearly, and keeps a range of the same end.
 */
export function isReplaceable(source: string): boolean {
  const flat = source.replace(/\/\/[^\n]*/g, '').replace(/\s+/g, ' ')
  return (
    flat.includes('if (this.range.range.end === this.nodes.length + MAX_PREFETCH) return') &&
    flat.includes('this.range.destroy()') &&
    flat.includes(
      'this.range = this.core.download({ start: this.nodes.length, end: this.nodes.length + MAX_PREFETCH, linear: true })'
    )
  )
}

/** Give `base` (an Autobase) the slow start. Returns whether it is in place. */
export function slowStart(base: object): boolean {
  if (installed === null) installed = install()
  if (installed) bases.add(base)
  return installed
}

function install(): boolean {
  const require = createRequire(import.meta.url)
  const Writer = require('autobase/lib/writer.js') as { prototype: Record<string, unknown> }
  const own = Writer.prototype._resume
  if (typeof own !== 'function' || !isReplaceable(own.toString())) return false
  const autobase = own as (this: unknown) => void
  Writer.prototype._resume = function (this: PrefetchingWriter): void {
    if (bases.has(this.base)) resume(this)
    else autobase.call(this)
  }
  return true
}
