import { FluxError } from '../errors.js'

/**
 * Settle with `work`, or fail with FluxError TIMEOUT and `message` after `ms`. The timer is
 * always cleared; `work` itself is not cancelled (the caller closes what it started).
 */
export async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | null = null
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FluxError('TIMEOUT', message)), ms)
  })
  try {
    return await Promise.race([work, expired])
  } finally {
    if (timer) clearTimeout(timer)
  }
}
