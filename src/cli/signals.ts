/** Stopping the long-running verbs (dht, up) on SIGINT or SIGTERM. */
import { FluxError } from '../errors.js'

export interface Shutdown {
  /** Resolves with the first SIGINT or SIGTERM. */
  signal: Promise<NodeJS.Signals>
  dispose(): void
}

/**
 * Listen for SIGINT and SIGTERM from now on (so a signal during startup is not lost). The
 * first asks for a clean stop; a second one means the person gave up waiting: exit at once.
 */
export function onShutdown(): Shutdown {
  let first: NodeJS.Signals | null = null
  let resolve: (s: NodeJS.Signals) => void = () => {}
  const signal = new Promise<NodeJS.Signals>((r) => (resolve = r))
  const handler = (s: NodeJS.Signals): void => {
    if (first === null) {
      first = s
      resolve(s)
      return
    }
    process.stderr.write(`flux: ${s} again: exiting without a clean stop\n`)
    process.exit(1)
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return {
    signal,
    dispose() {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    }
  }
}

/** Bound a shutdown step: a stop that hangs must not keep the process alive for ever. */
export async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | null = null
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new FluxError('TIMEOUT', `${what} did not finish within ${ms / 1000}s`)),
          ms
        )
      })
    ])
  } finally {
    if (timer) clearTimeout(timer)
  }
}
