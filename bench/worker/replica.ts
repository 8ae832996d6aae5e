/** What the generic worker commands (write, watch, post, wait) need from any replica. */
import type { Snapshot } from './watch.js'

export type WriteMode =
  /** one op at a time, each awaited, through the app's full path (Flux: app.content.post) */
  | 'cli-serial'
  /** one append at a time, each awaited */
  | 'serial'
  /** every op submitted at once, each acknowledged on its own (Flux coalesces these) */
  | 'burst'
  /** appends of arrays of `batch` ops, one after the other */
  | 'batch'
  /** every op submitted at once through the app's full path (Flux: app.content.post) */
  | 'api-burst'

export interface WriteResult {
  started: number
  /** Every op acknowledged by the local writer. */
  acked: number
  /** ...and applied to the local view. */
  applied: number
}

export interface Replica {
  write(n: number, mode: WriteMode, batch: number): Promise<WriteResult>
  applied(): Promise<number>
  snapshot(): Snapshot
  onUpdate(fn: () => void): () => void
  peers(): number
  info(): Promise<Record<string, unknown>>
  close(): Promise<void>
}

/** Op text of about the size of a short chat message. */
export function postText(i: number): string {
  return `bench post ${i} `.padEnd(96, 'lorem ipsum dolor sit amet ')
}

/** What a view core went through: blocks written, and reorganisations (truncations). */
export interface ViewStats {
  appended: number
  truncations: number
  truncated: number
}

/** Count what is written to and undone in a view core (Autobase truncates on reorder). */
export function trackView(core: {
  length: number
  on(event: string, fn: (...args: unknown[]) => void): unknown
}): ViewStats {
  const stats: ViewStats = { appended: 0, truncations: 0, truncated: 0 }
  let last = core.length
  core.on('append', () => {
    stats.appended += Math.max(0, core.length - last)
    last = core.length
  })
  core.on('truncate', (ancestors: unknown) => {
    const to = typeof ancestors === 'number' ? ancestors : core.length
    stats.truncations++
    stats.truncated += Math.max(0, last - to)
    last = to
  })
  return stats
}
