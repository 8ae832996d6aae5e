/** Small helpers shared by the orchestrator and the workers: clocks, bounded waits, statistics. */
import { performance } from 'perf_hooks'

/**
 * Wall-clock milliseconds with sub-millisecond resolution. Comparable across processes on one
 * machine (each process adds its own high-resolution offset to the same system clock), which is
 * how latencies between a writer process and a reader process are taken.
 */
export function now(): number {
  return performance.timeOrigin + performance.now()
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`timed out after ${(ms / 1000).toFixed(1)} s: ${what}`)
    this.name = 'TimeoutError'
  }
}

/** Settle with `promise`, or reject with a TimeoutError naming `what` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | null = null
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms)
  })
  try {
    return await Promise.race([promise, expired])
  } finally {
    if (timer) clearTimeout(timer)
  }
}

/** Call `check` every `interval` ms until it returns a value other than null/undefined/false. */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeout: number,
  interval = 100
): Promise<T> {
  const deadline = Date.now() + timeout
  for (;;) {
    const v = await check()
    if (v !== null && v !== undefined && v !== false) return v
    if (Date.now() >= deadline) throw new TimeoutError(what, timeout)
    await sleep(interval)
  }
}

export function median(xs: number[]): number {
  return quantile(xs, 0.5)
}

/** Linear-interpolated quantile (q in 0..1) of the finite values; NaN for none. */
export function quantile(xs: number[], q: number): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const pos = (s.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  const a = s[lo] as number
  const b = s[hi] as number
  return a + (b - a) * (pos - lo)
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}

export const MiB = 1024 * 1024

/**
 * Resolve with what `check` returns the first time it returns a value other than null: it runs
 * on every event `subscribe` delivers and on a poll (a safety net for missed events), one run at
 * a time, re-running at once if events arrived meanwhile. A throwing check (a view being
 * updated) is simply tried again later. Rejects with a TimeoutError after `timeout` ms.
 */
export async function firstPass<T>(
  check: () => Promise<T | null>,
  subscribe: (fn: () => void) => () => void,
  opts: { poll: number; timeout: number; what: string }
): Promise<T> {
  let off: () => void = () => {}
  const passed = new Promise<T>((resolve) => {
    let busy = false
    let again = false
    let done = false
    const run = async (): Promise<void> => {
      if (busy) {
        again = true
        return
      }
      busy = true
      try {
        do {
          again = false
          const value = await check()
          if (value !== null && !done) {
            done = true
            off()
            resolve(value)
          }
        } while (again && !done)
      } catch {
        // the view is being updated: the next event checks again
      } finally {
        busy = false
      }
    }
    const unsubscribe = subscribe(() => void run())
    const poll = setInterval(() => void run(), opts.poll)
    off = () => {
      unsubscribe()
      clearInterval(poll)
    }
    void run()
  })
  try {
    return await within(passed, opts.timeout, opts.what)
  } finally {
    off()
  }
}
