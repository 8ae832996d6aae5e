/**
 * Whether any DHT node answers. A node whose bootstrap is wrong or down finds no DHT node, and
 * then no peer, ever: without this it shows "0 peers" and nothing else. Judged on the Clock:
 * no DHT node known for SILENT_AFTER ms (from the start, or since the last one went away) makes
 * the DHT silent; one answering again ends it.
 */
import type HyperDHT from 'hyperdht'
import type { Clock, Timer } from '../util/clock.js'
import type { DhtStatus } from '../api.js'

/** How long no DHT node may answer before the node says so (ms). */
export const SILENT_AFTER = 30_000
/** How often the routing table is looked at (ms). */
const CHECK_EVERY = 5_000

export class DhtWatch {
  private silent = false
  /** Since when no DHT node is known (null: some are). */
  private emptySince: number
  private readonly timers: Timer[]

  constructor(
    private readonly dht: Pick<HyperDHT, 'toArray'>,
    private readonly clock: Clock,
    /** The DHT went silent (true) or answers again (false). */
    private readonly onchange: (status: DhtStatus) => void
  ) {
    this.emptySince = clock.now()
    this.timers = [
      clock.setInterval(() => this.check(), CHECK_EVERY),
      clock.setTimeout(() => this.check(), SILENT_AFTER)
    ]
  }

  status(): DhtStatus {
    return {
      nodes: this.nodes(),
      silent: this.silent,
      silentSince: this.silent ? this.emptySince : null
    }
  }

  close(): void {
    for (const t of this.timers) t.clear()
  }

  private nodes(): number {
    try {
      return this.dht.toArray().length
    } catch {
      return 0 // destroyed under us
    }
  }

  private check(): void {
    const now = this.clock.now()
    if (this.nodes() > 0) {
      this.emptySince = now
      if (!this.silent) return
      this.silent = false
      this.onchange(this.status())
      return
    }
    if (this.silent || now - this.emptySince < SILENT_AFTER) return
    this.silent = true
    this.onchange(this.status())
  }
}
