/**
 * A project: one Flux base (the kit's Autobase wrapper) in its own Corestore namespace, with
 * the project's ops, apply and view.
 */
import type Corestore from 'corestore'
import { FluxBase } from '../autobase/base.js'
import type { Clock } from '../util/clock.js'
import { ProjectView } from '../views/project-queries.js'
import { toHex } from '../identity/keys.js'
import { createProjectApply } from './apply/index.js'
import { projectCodec, type Op } from './ops.js'
import { chooseIndexers, nextStep, presentTime } from './indexers.js'

export interface ProjectOptions {
  /** The project key, or null to create a new project. */
  key: Buffer | null
  /** The data encryption key; null for a public project or a host without read access. */
  encryptionKey: Buffer | null
  /** Clock for op timestamps (tests inject skewed clocks). */
  clock?: Clock
  /** The node's shared Autobase wakeup protocol. */
  wakeup?: unknown
}

export class Project extends FluxBase<Op> {
  readonly view: ProjectView
  /** This node's profile id (hex) as a member of the project; '' on a node without one. */
  memberId = ''

  constructor(store: Corestore, opts: ProjectOptions) {
    // apply tells the view the number each post got (the view exists once super() returns)
    const numbered: { view: ProjectView | null } = { view: null }
    super(store, {
      key: opts.key,
      encryptionKey: opts.encryptionKey,
      codec: projectCodec,
      apply: (ids) =>
        createProjectApply(ids, { numbered: (id, n, start) => numbered.view?.hint(id, n, start) }),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.wakeup ? { wakeup: opts.wakeup } : {}),
      messages: {
        notWritable: 'this node is not a writer of the project',
        waitWritable: 'not yet accepted as a writer: no member is online to add us',
        closing: 'the project is closing',
        stopped: 'the project stopped'
      }
    })
    this.view = new ProjectView(this.bee)
    numbered.view = this.view
    this.on('update', () => {
      this.fetchView()
      void this.nudgeIndexing().catch(() => {})
    })
  }

  private fetching = 0

  /**
   * Offline-first: a member holds the whole view. A fast-forwarded view arrives as a length
   * whose blocks would come one request at a time as they are read; they are asked for at
   * once instead (a late joiner of a 10k-post project held its view about a second sooner).
   */
  private fetchView(): void {
    const core = this.bee.core
    if (this.closing || core.contiguousLength >= core.length || this.fetching >= core.length) return
    this.fetching = core.length
    core.download({ start: core.contiguousLength, end: core.length })
  }

  private nudging = false
  private nudged = ''

  /**
   * An indexer hand-over step waits for an apply call when a new indexer became active through
   * an ack (acks run no apply): each wanted, active indexer then appends one `indexing/step`
   * per state of the indexers, and apply takes the step (src/project/apply/indexing.ts).
   */
  private async nudgeIndexing(): Promise<void> {
    const sys = this.base.system
    if (this.nudging || this.closing || !this.writable || sys === null) return
    const active = this.tipIndexers()
    const pending = sys.pendingIndexers.map((k) => toHex(k)).sort()
    const me = this.writerId
    const state = `${active.join()}|${pending.join()}`
    if (!active.includes(me) || state === this.nudged) return
    this.nudging = true
    try {
      const record = await this.view.indexing()
      if (record === null) return
      const seen = (await this.view.system()).seen ?? {}
      const wanted = chooseIndexers(record.candidates, seen, presentTime(record.candidates, seen))
      if (!wanted.includes(me) || nextStep(active, pending, wanted) === null) return
      this.nudged = state
      await this.append({ type: 'indexing/step' })
    } finally {
      this.nudging = false
    }
  }

  /** Our writer key (hex): how the project's members know this node. */
  get writerId(): string {
    return toHex(this.writerKey)
  }

  /** Whether this node can read the project's data (it holds the key, or the project is public). */
  async readable(): Promise<boolean> {
    if (this.base.encryptionKey !== null) return true
    return (await this.view.project()) !== null
  }

  /**
   * How far behind the peers we are: blocks our peers have announced in the writer cores we
   * know of, that we have not downloaded yet. 0 means in sync with everyone connected.
   */
  syncState(): { writers: number; behind: number; peers: number } {
    let behind = 0
    for (const w of this.base.activeWriters) {
      for (const peer of w.core.peers) {
        behind += Math.max(0, peer.remoteLength - w.core.contiguousLength)
      }
    }
    return { writers: this.base.activeWriters.size, behind, peers: this.peerCount() }
  }

  /**
   * Peers replicating this project with us: distinct connections on any of its cores (the
   * system core, every writer we follow, our own). Counting only our own writer core's peers
   * missed every peer of a node that writes nothing (a key-only host, a reader) or little.
   * Replication starts only once the admission gate let a peer in, so these are admitted.
   */
  peerCount(): number {
    const seen = new Set<string>()
    const cores = [
      this.base.core,
      this.base.local,
      ...[...this.base.activeWriters].map((w) => w.core)
    ]
    for (const core of cores) {
      for (const peer of core?.peers ?? []) seen.add(toHex(peer.remotePublicKey))
    }
    return seen.size
  }
}
