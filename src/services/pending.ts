/**
 * The I Accept queue: peers waiting for the user's approval, one row per peer, persisted in
 * node.json. Bounded: at most MAX_PENDING rows (the least recently seen is dismissed first),
 * and rate-limited: at most NEW_PER_MINUTE new rows a minute (a flood of strangers beyond that
 * gets no row and is refused), so a flood costs bounded memory and a bounded number of writes.
 */
import type { Clock, Timer } from '../util/clock.js'
import type { NodeState, PendingPeer } from '../store/node-state.js'

export const MAX_PENDING = 64
export const NEW_PER_MINUTE = 32
/** Updates to rows (last seen, attempts) are written at most this often (ms). */
const PERSIST_EVERY = 1000

export class PendingQueue {
  private readonly rows = new Map<string, PendingPeer>()
  /** When the latest new rows were made (for the rate limit). */
  private recent: number[] = []
  private persisting: Timer | null = null

  constructor(
    private readonly state: NodeState,
    private readonly clock: Clock
  ) {
    for (const row of state.pending()) this.rows.set(row.peer, row)
  }

  list(): PendingPeer[] {
    return [...this.rows.values()].sort((a, b) => a.firstSeen - b.firstSeen)
  }

  get(peer: string): PendingPeer | null {
    return this.rows.get(peer) ?? null
  }

  get size(): number {
    return this.rows.size
  }

  /**
   * A peer asks (again): update its row, or make one. Returns the row, the rows dismissed to
   * make room, or null when the rate limit refuses a new row.
   */
  record(
    peer: string,
    seen: Omit<PendingPeer, 'peer' | 'firstSeen' | 'lastSeen' | 'attempts'>
  ): { row: PendingPeer; evicted: PendingPeer[]; added: boolean } | null {
    const now = this.clock.now()
    const known = this.rows.get(peer)
    if (known) {
      const row: PendingPeer = {
        ...known,
        ...seen,
        profile: seen.profile ?? known.profile,
        name: seen.name ?? known.name,
        lastSeen: now,
        attempts: known.attempts + 1
      }
      this.rows.set(peer, row)
      this.persistSoon()
      return { row, evicted: [], added: false }
    }
    this.recent = this.recent.filter((t) => now - t < 60_000)
    if (this.recent.length >= NEW_PER_MINUTE) return null
    this.recent.push(now)
    const evicted: PendingPeer[] = []
    while (this.rows.size >= MAX_PENDING) {
      const oldest = [...this.rows.values()].sort((a, b) => a.lastSeen - b.lastSeen)[0]
      if (oldest === undefined) break
      this.rows.delete(oldest.peer)
      evicted.push(oldest)
    }
    const row: PendingPeer = { peer, ...seen, firstSeen: now, lastSeen: now, attempts: 1 }
    this.rows.set(peer, row)
    this.persistSoon()
    return { row, evicted, added: true }
  }

  /** Take a peer out of the queue (approved, dismissed or blocked). */
  async remove(peer: string): Promise<PendingPeer | null> {
    const row = this.rows.get(peer) ?? null
    if (row === null) return null
    this.rows.delete(peer)
    await this.persist()
    return row
  }

  /** Write the queue now (and cancel a pending write). */
  async persist(): Promise<void> {
    this.persisting?.clear()
    this.persisting = null
    await this.state.putPending(this.list())
  }

  close(): void {
    this.persisting?.clear()
  }

  private persistSoon(): void {
    if (this.persisting !== null) return
    this.persisting = this.clock.setTimeout(() => {
      this.persisting = null
      void this.state.putPending(this.list()).catch(() => {})
    }, PERSIST_EVERY)
  }
}
