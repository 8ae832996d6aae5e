/**
 * Bringing back peers whose connection died under us: a NAT that changed its public address or
 * forgot its mappings, a router that rebooted, a relay that went away. Hyperswarm does not redial
 * a peer that dialed us (it knows no topic for it), and redials one we found only a few times, so
 * without this such a peer comes back only at the next topic lookup, about ten minutes later.
 *
 * A lost peer is dialed as an explicit peer (Hyperswarm's `joinPeer`: retried with back-off)
 * until a connection to it opens again, or for GIVE_UP ms; then it is left to the lookups. A
 * peer we disconnected on purpose (dropped, refused) is never redialed.
 */
import type Hyperswarm from 'hyperswarm'
import type { Clock, Timer } from '../util/clock.js'
import { toHex } from '../identity/keys.js'

/** How long a lost peer is redialed before it is left to the topic lookups. */
export const GIVE_UP = 15 * 60_000

export class Reconnect {
  /** Lost peers being redialed (swarm key, hex), with the timer that gives up on each. */
  private readonly lost = new Map<string, { key: Buffer; timer: Timer }>()
  private closed = false

  constructor(
    private readonly swarm: Hyperswarm,
    private readonly clock: Clock
  ) {}

  /** How many lost peers are being redialed now. */
  get size(): number {
    return this.lost.size
  }

  /** A connection to this peer died without our doing: dial it again. */
  dial(key: Buffer): void {
    const hex = toHex(key)
    if (this.closed || this.lost.has(hex)) return
    const timer = this.clock.setTimeout(() => this.forget(hex), GIVE_UP)
    this.lost.set(hex, { key, timer })
    this.swarm.joinPeer(key)
  }

  /** A connection to this peer opened (either way): stop dialing it. */
  found(key: Buffer): void {
    this.forget(toHex(key))
  }

  close(): void {
    this.closed = true
    for (const hex of [...this.lost.keys()]) this.forget(hex)
  }

  private forget(hex: string): void {
    const entry = this.lost.get(hex)
    if (!entry) return
    this.lost.delete(hex)
    entry.timer.clear()
    // the peer stays connected: leavePeer only stops Hyperswarm from dialing it on its own
    if (!this.swarm.destroyed) this.swarm.leavePeer(entry.key)
  }
}
