/**
 * A full garbage collection once a long-running process has settled after a burst.
 *
 * V8 collects its old generation when it grows, not when the process goes idle: after a burst
 * of 1,000 posts `flux up` kept about 13 MiB of dead objects (and their external buffers)
 * until the next burst, so its RSS stayed 20-28 MiB above what it holds. Node gives V8 no idle
 * notification, so the node does it itself: every `every` ms it reads the heap's size (what V8
 * has committed for it: its own collections free objects but keep the pages a burst grew), and
 * once that has been at least `growth` bytes above what the last collection left at two looks
 * in a row, it collects (see `look`). A node under steady load collects at most every
 * other look (a full collection of a heap this size takes a few milliseconds); an idle one
 * never collects again (its heap does not grow).
 */
import v8 from 'v8'
import vm from 'vm'
import type { Clock, Timer } from './clock.js'

export interface IdleGcOptions {
  clock: Clock
  /**
   * The heap's size now (default: what V8 has committed for it, which stays grown after a
   * burst even when V8's own collections have freed most of it).
   */
  size?: () => number
  /** A full collection (default: V8's, see {@link fullGc}). */
  gc?: () => void
  /** How often to look (ms, default 500). */
  every?: number
  /** Collect once the heap is this many bytes bigger than the last collection left it. */
  growth?: number
  /** After each collection: the heap's size before and after. */
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
  private readonly size: () => number
  private readonly gc: () => void
  private readonly growth: number
  private readonly timer: Timer
  /** What the last collection kept (or the heap when we started). */
  private kept: number
  /** The previous look found the heap over the growth. */
  private armed = false
  collections = 0

  constructor(private readonly opts: IdleGcOptions) {
    this.size = opts.size ?? (() => v8.getHeapStatistics().total_heap_size)
    this.gc = opts.gc ?? fullGc()
    this.growth = opts.growth ?? 8 * MiB
    this.kept = this.size()
    this.timer = opts.clock.setInterval(() => this.look(), opts.every ?? 500)
  }

  /** One look at the heap (what the timer runs). */
  look(): void {
    const now = this.size()
    if (now < this.kept) this.kept = now // V8 collected by itself
    const over = now - this.kept >= this.growth
    if (!over || !this.armed) {
      this.armed = over
      return
    }
    // twice: the first frees the dead objects, the second gives back the pages the first one's
    // sweep emptied (after one, V8 kept 30 MiB of heap committed for 18 MiB used)
    this.gc()
    this.gc()
    const after = this.size()
    this.kept = after
    this.armed = false
    this.collections++
    this.opts.onCollect?.(now, after)
  }

  stop(): void {
    this.timer.clear()
  }
}
