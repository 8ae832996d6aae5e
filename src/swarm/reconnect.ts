/**
 * Bringing back peers whose connection died under us: a NAT that changed its public address or
 * forgot its mappings, a router that rebooted, a relay that went away. Hyperswarm does not redial
 * a peer that dialed us (it knows no topic for it), and redials one we found only a few times, so
 * without this such a peer comes back only at the next topic lookup, about ten minutes later.
 *
 * A lost peer is dialed again on a schedule of our own (at once, then after 2, 5, 10, 20 and
 * 30 s, then every minute) until a connection to it opens, or for GIVE_UP ms. Each attempt is one
 * Hyperswarm dial (`joinPeer`, left again once the dial has failed): Hyperswarm's own quick
 * retries of explicit peers would be spent in seconds against a NAT that changes ports per peer,
 * through which HyperDHT punches only every 20 s. A peer we disconnected on purpose (dropped,
 * refused) is never redialed.
 */
import type Hyperswarm from 'hyperswarm'
import type { Clock, Timer } from '../util/clock.js'
import { toHex } from '../identity/keys.js'

/** How long a lost peer is redialed before it is left to the topic lookups. */
export const GIVE_UP = 15 * 60_000
/** Pauses between attempts (the last repeats). */
export const BACKOFF = [2_000, 5_000, 10_000, 20_000, 30_000, 60_000]
/** An attempt that neither failed nor connected by then counts as failed. */
const ATTEMPT_TIMEOUT = 30_000
/** At most this many lost peers are redialed at once; past it the longest lost is let go. */
export const MAX_LOST = 256

interface Lost {
  key: Buffer
  since: number
  step: number
  /** A dial of ours is under way. */
  trying: boolean
  timer: Timer | null
}

export class Reconnect {
  /** Lost peers being redialed, by swarm key (hex). */
  private readonly lost = new Map<string, Lost>()
  private closed = false

  constructor(
    private readonly swarm: Hyperswarm,
    private readonly clock: Clock
  ) {}

  /** How many lost peers are being redialed now. */
  get size(): number {
    return this.lost.size
  }

  /** A connection to this peer died without our doing: dial it again until it is back. */
  dial(key: Buffer): void {
    const hex = toHex(key)
    if (this.closed || this.lost.has(hex)) return
    const entry: Lost = { key, since: this.clock.now(), step: 0, trying: false, timer: null }
    while (this.lost.size >= MAX_LOST) this.forget(this.lost.keys().next().value as string)
    this.lost.set(hex, entry)
    this.attempt(entry)
  }

  /** A dial to this peer failed: if it was ours, the next one waits its turn. */
  failed(key: Buffer): void {
    const entry = this.lost.get(toHex(key))
    if (entry?.trying) this.next(entry)
  }

  /** A connection to this peer opened (either way): stop dialing it. */
  found(key: Buffer): void {
    this.forget(toHex(key))
  }

  close(): void {
    this.closed = true
    for (const hex of [...this.lost.keys()]) this.forget(hex)
  }

  private attempt(entry: Lost): void {
    if (this.closed || this.swarm.destroyed) return
    if (this.clock.now() - entry.since >= GIVE_UP) return this.forget(toHex(entry.key))
    entry.trying = true
    entry.timer = this.clock.setTimeout(() => this.next(entry), ATTEMPT_TIMEOUT)
    this.swarm.joinPeer(entry.key)
  }

  private next(entry: Lost): void {
    entry.trying = false
    entry.timer?.clear()
    // one dial per attempt: Hyperswarm would otherwise retry an explicit peer on its own
    if (!this.swarm.destroyed) this.swarm.leavePeer(entry.key)
    const pause = BACKOFF[Math.min(entry.step++, BACKOFF.length - 1)] as number
    entry.timer = this.clock.setTimeout(() => this.attempt(entry), pause)
  }

  private forget(hex: string): void {
    const entry = this.lost.get(hex)
    if (!entry) return
    this.lost.delete(hex)
    entry.timer?.clear()
    // the peer stays connected: leavePeer only stops Hyperswarm from dialing it on its own
    if (!this.swarm.destroyed) this.swarm.leavePeer(entry.key)
  }
}
