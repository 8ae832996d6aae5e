/**
 * A full garbage collection once a long-running process goes quiet after a burst.
 *
 * V8 collects its old generation when it grows, not when the process goes idle: after a burst
 * of 1,000 posts `flux up` kept about 13 MiB of dead objects (and their external buffers)
 * until the next burst, so its RSS stayed 20-28 MiB above what it holds. Node gives V8 no idle
 * notification, so the node does it itself: every `every` ms it reads the heap's used size;
 * once that is at least `growth` bytes above what the last collection kept, and it moved by
 * less than `quiet` bytes since the previous look (the burst is over), it collects (see `look`). A busy
 * node is never interrupted (its heap keeps moving), an idle one never collects again (its heap
 * does not grow), and a collection of a heap this size takes a few milliseconds.
 */
import v8 from 'v8'
import vm from 'vm'
import type { Clock, Timer } from './clock.js'

export interface IdleGcOptions {
  clock: Clock
  /** The heap's used bytes now (default: V8's own figure). */
  used?: () => number
  /** A full collection (default: V8's, see {@link fullGc}). */
  gc?: () => void
  /** How often to look (ms, default 500). */
  every?: number
  /** Collect once the heap holds this many bytes more than the last collection kept. */
  growth?: number
  /** ... and moved by less than this many bytes since the previous look. */
  quiet?: number
  /** After each collection: the bytes used before and after. */
  onCollect?: (before: number, after: number) => void
}

const MiB = 1024 * 1024

/**
 * V8's full collection, without `--expose-gc` on the command line: the flag is set at run
 * time and the `gc` function taken from a fresh context (it is only installed in contexts made
 * after the flag is set), so the process's own global gets no `gc`.
 */
export function fullGc(): () => void {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as unknown
  if (typeof gc !== 'function') throw new Error('V8 did not give a gc function')
  return gc as () => void
}

export class IdleGc {
  private readonly used: () => number
  private readonly gc: () => void
  private readonly growth: number
  private readonly quiet: number
  private readonly timer: Timer
  /** What the last collection kept (or the heap when we started). */
  private kept: number
  private last: number
  collections = 0

  constructor(private readonly opts: IdleGcOptions) {
    this.used = opts.used ?? (() => v8.getHeapStatistics().used_heap_size)
    this.gc = opts.gc ?? fullGc()
    this.growth = opts.growth ?? 8 * MiB
    this.quiet = opts.quiet ?? 1 * MiB
    this.kept = this.used()
    this.last = this.kept
    this.timer = opts.clock.setInterval(() => this.look(), opts.every ?? 500)
  }

  /** One look at the heap (what the timer runs). */
  look(): void {
    const now = this.used()
    const moved = Math.abs(now - this.last)
    this.last = now
    if (now < this.kept) this.kept = now // V8 collected by itself
    if (now - this.kept < this.growth || moved >= this.quiet) return
    // twice: the first frees the dead objects, the second gives back the pages the first one's
    // sweep emptied (after one, V8 kept 30 MiB of heap committed for 18 MiB used)
    this.gc()
    this.gc()
    const after = this.used()
    this.kept = after
    this.last = after
    this.collections++
    this.opts.onCollect?.(now, after)
  }

  stop(): void {
    this.timer.clear()
  }
}
