/**
 * Watches a view and reports it every time it changes once it has applied at least `target`
 * ops. A report names the view by its core's length and tree hash: cheap to take, and equal
 * on two peers only if their views are identical block for block (Flux and the raw baseline
 * both write their views deterministically, so converged peers do reach equal trees). The
 * orchestrator confirms convergence with a full content hash (Flux's stateHash) afterwards.
 * Each report carries the time its snapshot was taken.
 */
import type Hyperbee from 'hyperbee'
import { now } from '../lib/util.js'
import type { HashSeen } from '../lib/protocol.js'

export interface Snapshot {
  applied(): Promise<number>
  /** Digest of every key and value of the view (slow: reads the whole view). */
  hash(): Promise<string>
  /** The view core's length and tree hash. */
  tree(): Promise<string>
  close(): Promise<void>
}

/** A view named by its core's length and (the start of its) tree hash. */
export async function treeId(bee: Hyperbee): Promise<string> {
  const hash = await bee.core.treeHash(bee.version)
  return `${bee.core.length}:${hash.toString('hex').slice(0, 12)}`
}

export class HashWatch {
  private running = false
  private dirty = false
  private last: string | null = null
  private closed = false
  private reachedAt = 0
  private readonly poll: NodeJS.Timeout
  latest: HashSeen | null = null
  /** The first report of every view seen, by hash. */
  private readonly history = new Map<string, HashSeen>()
  private readonly waiters = new Set<() => void>()

  constructor(
    readonly name: string,
    private readonly snapshot: () => Snapshot,
    private readonly target: number,
    private readonly report: (seen: HashSeen) => void,
    /** Also hash every key and value of each new view (reads it all, downloading what is missing). */
    private readonly content = false
  ) {
    // the update event is the trigger; the poll is a safety net for missed events
    this.poll = setInterval(() => this.trigger(), 250)
    this.trigger()
  }

  trigger(): void {
    if (this.closed) return
    if (this.running) {
      this.dirty = true
      return
    }
    this.running = true
    void this.run().finally(() => {
      this.running = false
    })
  }

  private async run(): Promise<void> {
    do {
      this.dirty = false
      const at = now()
      let snap: Snapshot
      try {
        snap = this.snapshot()
      } catch {
        continue // nothing to watch yet (a project still being joined): the poll retries
      }
      try {
        const applied = await snap.applied()
        if (applied < this.target) continue
        if (this.reachedAt === 0) this.reachedAt = at
        const tree = await snap.tree()
        if (tree === this.last) continue
        this.last = tree
        const seen: HashSeen = {
          watch: this.name,
          hash: tree,
          applied,
          at,
          hashMs: now() - at,
          reachedAt: this.reachedAt
        }
        if (this.content) {
          seen.content = await snap.hash()
          seen.doneAt = now()
          seen.hashMs = seen.doneAt - at
        }
        this.latest = seen
        if (!this.history.has(tree)) this.history.set(tree, seen)
        if (seen.content && !this.history.has(seen.content)) this.history.set(seen.content, seen)
        this.report(this.latest)
        for (const w of this.waiters) w()
      } catch {
        // a view being reorganised or closed: the next trigger tries again
      } finally {
        await snap.close().catch(() => {})
      }
    } while (this.dirty && !this.closed)
  }

  /** Resolve with the first report of view `hash` (tree or content), which may have been seen already. */
  waitFor(hash: string, timeout: number): Promise<HashSeen> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const seen = this.history.get(hash)
        if (seen) {
          cleanup()
          resolve(seen)
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(
          new Error(
            `${this.name}: view did not reach ${hash} in ${timeout} ms (at ${this.latest?.hash})`
          )
        )
      }, timeout)
      const cleanup = (): void => {
        clearTimeout(timer)
        this.waiters.delete(check)
      }
      this.waiters.add(check)
      check()
    })
  }

  close(): void {
    this.closed = true
    clearInterval(this.poll)
    this.waiters.clear()
  }
}
