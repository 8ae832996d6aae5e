/**
 * A base far behind its peers applies less and fast-forwards sooner.
 *
 * Autobase takes a fast-forward that gets ready while it applies only once the update in
 * progress ends, and one update applies everything linearized so far: a late joiner that had
 * started on the creator's backlog before its fast-forward was ready applied all of it
 * (10,000 posts: 600-800 ms of CPU) before moving to the signed state it had been offered
 * (DESIGN.md, "A late joiner catches up by fast-forward, not by applying").
 *
 * Before each apply call, {@link CatchUp.beforeApply}:
 * - once a fast-forward is ready and worth taking, abandons the call by throwing
 *   {@link FastForwardReady}: Autobase drops the unflushed apply state and moves to the signed
 *   state instead of applying the rest of the backlog first. Never for an optimistic block,
 *   and never while this node's own appends are in flight (the update in progress writes them
 *   at its end);
 * - gives the event loop a turn when it has had none for `turnMs`, so that an apply that holds
 *   it (reads answered from memory) still lets in the messages a fast-forward needs. In the
 *   late-joiner bench the loop always had its turns on its own (RocksDB reads complete through
 *   it): this is a bound, not the cause of the gain.
 *
 * Neither changes what any peer computes: a fast-forward lands on a state signed by the
 * indexers, the state applying would have reached. It only changes when this node gets there.
 *
 * The abandon relies on Autobase 7.28.1's drain (pinned): an error thrown while its
 * `fastForwardTo` is set is swallowed and the fast-forward applied, unless a fast-forward
 * failed less than five minutes ago (then the error would stop the base, so nothing is thrown).
 * Autobase marks that swallow as such a failure, so the next fast-forward of this base waits
 * five minutes; applying goes on as usual meanwhile.
 */

/** What of Autobase 7.28.1's fast-forward state this reads (not in its typings). */
export interface FastForwardState {
  fastForwardTo: { length: number; minimum: number; force: boolean } | null
  fastForwardFailedAt: number
  core: { length: number }
  closing: unknown
  /** This node's own appends not yet written (null: none; the update may be writing them). */
  _appending: unknown[] | null
}

/** Autobase's MIN_FF_WAIT: after a failed (or swallowed) fast-forward, none for 5 min. */
const FF_RETRY_WAIT = 300_000

/** How long apply may hold the event loop before it gives it a turn (ms). */
const TURN_MS = 20

/** Thrown at the start of an apply call to let Autobase fast-forward instead (see above). */
class FastForwardReady extends Error {
  constructor() {
    super('a fast-forward is ready: this apply call is abandoned for it')
  }
}

export class CatchUp {
  /** When the event loop last had a turn that we know of (performance.now()). */
  private lastTurn = 0
  /** A turn-marker is scheduled and has not run yet: the loop has had no turn since. */
  private waiting = false
  /** Apply calls abandoned for a fast-forward, and turns given (for tests and status). */
  readonly counts = { abandoned: 0, turns: 0 }

  constructor(
    private readonly state: () => FastForwardState,
    private readonly turnMs = TURN_MS,
    private readonly now: () => number = () => performance.now(),
    private readonly wallNow: () => number = Date.now
  ) {}

  /**
   * `optimistic`: the call applies an optimistic block (Autobase takes an error there as the
   * block failing, not as a call to abandon), so it is never abandoned.
   */
  async beforeApply(optimistic = false): Promise<void> {
    const t = this.now()
    if (!this.waiting) {
      // the loop has had a turn since the last marker ran: count from now
      this.waiting = true
      this.lastTurn = t
      setImmediate(() => (this.waiting = false))
    } else if (t - this.lastTurn >= this.turnMs) {
      await new Promise<void>((resolve) => setImmediate(resolve))
      this.counts.turns++
      this.lastTurn = this.now()
    }
    if (!optimistic && this.fastForwardReady()) {
      this.counts.abandoned++
      throw new FastForwardReady()
    }
  }

  /** A fast-forward Autobase will take as soon as the apply in progress ends (its own test). */
  private fastForwardReady(): boolean {
    const s = this.state()
    const ff = s.fastForwardTo
    if (ff === null || s.closing) return false
    // an update that carries this node's own appends writes them to its core at its end:
    // abandoned, they would wait for the next one (Autobase's own preferFastForward path never
    // has them); applying on costs only time
    if (s._appending !== null) return false
    // thrown within five minutes of a failed one, the error would stop the base instead
    if (this.wallNow() - s.fastForwardFailedAt < FF_RETRY_WAIT) return false
    return ff.force || ff.length >= s.core.length + ff.minimum
  }
}
