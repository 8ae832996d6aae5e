/** Bounded waiting: every wait in the demo ends, with a clear error when its bound is exceeded. */
import { FluxError, isFluxError } from '../errors.js'

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`
}

/** Settle with `promise`, or fail with TIMEOUT after `ms`, naming what was awaited. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | null = null
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new FluxError('TIMEOUT', `${what}: no answer within ${seconds(ms)}`)),
      ms
    )
  })
  try {
    return await Promise.race([promise, expired])
  } finally {
    if (timer) clearTimeout(timer)
  }
}

export interface PollOptions {
  /** Give up after this many ms. */
  timeout: number
  /** Pause between attempts. */
  interval?: number
  /** Checked before every attempt: throw to stop waiting early (a child died, Ctrl-C...). */
  abort?: () => void
  /** Whether an error thrown by the check means "not yet"; by default all but NODE_CLOSED. */
  retry?: (err: unknown) => boolean
}

/** A node process that has exited will not answer later: stop waiting at once. */
function notClosed(err: unknown): boolean {
  return !isFluxError(err, 'NODE_CLOSED')
}

/**
 * Call `check` until it returns something other than null or undefined. Errors thrown by
 * `check` count as "not yet" unless `retry` says otherwise (the last one is reported on
 * timeout).
 */
export async function poll<T>(
  what: string,
  check: () => Promise<T | null | undefined>,
  opts: PollOptions
): Promise<T> {
  const deadline = Date.now() + opts.timeout
  const interval = opts.interval ?? 150
  let last: unknown = null
  const expired = Symbol('expired')
  for (;;) {
    opts.abort?.()
    const left = deadline - Date.now()
    let timer: NodeJS.Timeout | null = null
    try {
      // the deadline cuts a hung check short, keeping the last real error for the report
      const value = await Promise.race([
        check(),
        new Promise<typeof expired>((resolve) => {
          timer = setTimeout(() => resolve(expired), Math.max(left, 1))
        })
      ])
      if (value === expired) break
      if (value !== null && value !== undefined) return value
    } catch (err) {
      if (!(opts.retry ?? notClosed)(err)) throw err
      last = err
    } finally {
      if (timer) clearTimeout(timer)
    }
    if (Date.now() + interval > deadline) break
    await sleep(interval)
  }
  opts.abort?.()
  const reason = last instanceof Error ? ` (last error: ${last.message})` : ''
  throw new FluxError(
    'TIMEOUT',
    `gave up waiting for ${what} after ${seconds(opts.timeout)}${reason}`
  )
}
