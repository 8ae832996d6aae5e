/**
 * The one source of time for Flux's services: the wall clock for what is judged by time
 * (expiry of invites, link codes and delegations; op timestamps) and the timers they run on.
 * Services take a Clock; nothing below the composition root calls Date.now() or setTimeout
 * itself, so tests drive time-based rules with a {@link ManualClock} instead of waiting.
 */
import { FluxError } from '../errors.js'

/** A scheduled callback; `clear()` cancels it (safe to call twice). */
export interface Timer {
  clear(): void
}

export interface Clock {
  /** Wall time in ms since the epoch. */
  now(): number
  /** Run `fn` once after `ms` (a bound on something awaited: it keeps the process alive). */
  setTimeout(fn: () => void, ms: number): Timer
  /** Run `fn` every `ms` (background work: it never keeps the process alive on its own). */
  setInterval(fn: () => void, ms: number): Timer
}

/** The machine's clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms)
    return { clear: () => clearTimeout(t) }
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms)
    t.unref()
    return { clear: () => clearInterval(t) }
  }
}

interface Scheduled {
  at: number
  every: number
  fn: () => void
  cleared: boolean
  real: Timer
}

/**
 * A clock a test moves by hand. `now()` changes only by `set` or `advance`; `advance(ms)` fires
 * every timer that falls due, in order, as if that much time had passed (an interval fires once
 * however many of its periods passed, as after a machine's sleep). Timers also still fire after
 * their real delay, so that network retries (which are not the rule under test) keep going.
 */
export class ManualClock implements Clock {
  private current: number
  private readonly timers = new Set<Scheduled>()

  constructor(start = Date.now()) {
    this.current = start
  }

  now(): number {
    return this.current
  }

  /** Jump to an absolute time (never back past a timer already fired). */
  set(ms: number): void {
    this.advance(ms - this.current)
  }

  /** Move time forward by `ms`, firing every timer that falls due. */
  advance(ms: number): void {
    const target = this.current + Math.max(0, ms)
    for (;;) {
      let next: Scheduled | null = null
      for (const t of this.timers) if (t.at <= target && (next === null || t.at < next.at)) next = t
      if (next === null) break
      this.current = Math.max(this.current, next.at)
      this.fire(next, target)
    }
    this.current = target
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.schedule(fn, ms, 0)
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.schedule(fn, ms, Math.max(1, ms))
  }

  private schedule(fn: () => void, ms: number, every: number): Timer {
    const t: Scheduled = {
      at: this.current + Math.max(0, ms),
      every,
      fn,
      cleared: false,
      real: systemClock[every > 0 ? 'setInterval' : 'setTimeout'](() => {
        if (!t.cleared) this.run(t)
      }, ms)
    }
    this.timers.add(t)
    return {
      clear: () => {
        t.cleared = true
        t.real.clear()
        this.timers.delete(t)
      }
    }
  }

  private fire(t: Scheduled, target: number): void {
    // an interval's next tick is its first one after the target
    if (t.every > 0) t.at += t.every * (Math.floor((target - t.at) / t.every) + 1)
    this.run(t)
  }

  private run(t: Scheduled): void {
    if (t.every === 0) {
      t.cleared = true
      t.real.clear()
      this.timers.delete(t)
    }
    t.fn()
  }
}

/**
 * Settle with `work`, or fail with FluxError TIMEOUT and `message` after `ms`. The timer is
 * always cleared; `work` itself is not cancelled (the caller closes what it started).
 */
export async function withTimeout<T>(
  work: Promise<T>,
  ms: number,
  message: string,
  clock: Clock = systemClock
): Promise<T> {
  let timer: Timer | null = null
  const expired = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(new FluxError('TIMEOUT', message)), ms)
  })
  try {
    return await Promise.race([work, expired])
  } finally {
    ;(timer as Timer | null)?.clear()
  }
}
