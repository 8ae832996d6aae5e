/**
 * A project: one Autobase in its own Corestore namespace, with a Hyperbee view.
 * Owns the append path (with coalescing of ops that arrive close together) and the view.
 */
import type Autobase from 'autobase'
import type Hyperbee from 'hyperbee'
import ReadyResource from 'ready-resource'
import crypto from 'hypercore-crypto'
import type Corestore from 'corestore'
import { createApply } from '../autobase/apply.js'
import { openViewBase } from '../autobase/view-base.js'
import {
  encodeOp,
  joinBatch,
  MAX_BATCH_OPS,
  MAX_BLOCK_BYTES,
  MAX_OP_BYTES,
  OP_VERSION,
  validateOp,
  type Op,
  type OpBody
} from '../autobase/ops.js'
import { ProjectView } from '../views/queries.js'
import { FluxError } from '../errors.js'
import { withTimeout } from '../util/timeout.js'
import { toHex } from '../identity/keys.js'

export interface ProjectOptions {
  /** The project key, or null to create a new project. */
  key: Buffer | null
  /** The data encryption key; null for a public project or a host without read access. */
  encryptionKey: Buffer | null
  /** Clock used for op timestamps (tests inject skewed clocks). */
  now?: () => number
  /** The node's shared Autobase wakeup protocol (see Network.wakeup). */
  wakeup?: unknown
}

/** A batch block stays well inside what apply accepts. */
const BATCH_OPS = Math.min(500, MAX_BATCH_OPS)
const BATCH_BYTES = MAX_BLOCK_BYTES / 2

interface Pending {
  /** The encoded block: a validated op (batched with its neighbours) or a raw block. */
  block: Buffer
  /** Whether the block is one op that may share a batch block. */
  batchable: boolean
  resolve: () => void
  reject: (err: unknown) => void
}

export class Project extends ReadyResource {
  readonly store: Corestore
  readonly base: Autobase<Hyperbee>
  readonly view: ProjectView
  private readonly now: () => number
  /** This node's profile id (hex) as a member of the project; '' on a node without one. */
  memberId = ''
  private pending: Pending[] = []
  private flushing: Promise<void> | null = null

  constructor(store: Corestore, opts: ProjectOptions) {
    super()
    this.store = store
    this.now = opts.now ?? Date.now
    this.base = openViewBase(
      store,
      opts.key,
      {
        encryptionKey: opts.encryptionKey,
        wakeup: opts.wakeup,
        apply: (ids) => createApply(ids)
      },
      this
    )
    this.view = new ProjectView(this.base.view)
  }

  protected override async _open(): Promise<void> {
    await this.base.ready()
  }

  protected override async _close(): Promise<void> {
    if (this.flushing) await this.flushing.catch(() => {})
    await this.base.close()
  }

  get key(): Buffer {
    return this.base.key
  }

  get discoveryKey(): Buffer {
    return this.base.discoveryKey
  }

  get writable(): boolean {
    return this.base.writable
  }

  /** Our writer key (hex): how the project's members know this node. */
  get writerId(): string {
    return toHex(this.base.local.key as Buffer)
  }

  /** Build a full op from a body: a fresh id and this node's clock. */
  makeOp(body: OpBody): Op {
    return {
      v: OP_VERSION,
      id: crypto.randomBytes(16).toString('hex'),
      ts: this.now(),
      ...body
    } as Op
  }

  /**
   * Append one op. Resolves once it is durably in our writer core (an acknowledged op
   * survives a crash). Ops submitted while an append is in flight are coalesced: they are
   * written together as one batch block, in one Autobase append.
   */
  async append(body: OpBody): Promise<Op> {
    const op = this.makeOp(body)
    const checked = validateOp(op)
    if (!checked.ok) throw new FluxError('INVALID_INPUT', checked.reason)
    const block = encodeOp(op)
    const bytes = block.byteLength
    if (bytes > MAX_OP_BYTES) {
      throw new FluxError(
        'INVALID_INPUT',
        `the op is too large (${bytes} bytes, at most ${MAX_OP_BYTES})`
      )
    }
    await this.enqueue(block, true)
    return op
  }

  /** Append an already encoded block as is (no validation: peers validate in apply). */
  appendRaw(block: Buffer): Promise<void> {
    return this.enqueue(block, false)
  }

  private enqueue(block: Buffer, batchable: boolean): Promise<void> {
    if (this.closing) return Promise.reject(new FluxError('NODE_CLOSED', 'the project is closing'))
    if (!this.base.writable) {
      return Promise.reject(
        new FluxError('NOT_WRITABLE', 'this node is not a writer of the project')
      )
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ block, batchable, resolve, reject })
      if (this.flushing === null) this.flushing = this.flush()
    })
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending
        this.pending = []
        try {
          await this.base.append(toBlocks(batch))
          for (const p of batch) p.resolve()
        } catch (err) {
          for (const p of batch) p.reject(err)
        }
      }
    } finally {
      this.flushing = null
    }
  }

  /** Whether this node can read the project's data (it holds the key, or the project is public). */
  async readable(): Promise<boolean> {
    if (this.base.encryptionKey !== null) return true
    return (await this.view.project()) !== null
  }

  /** Wait until this node is a writer, or fail after `timeout` ms. */
  async waitWritable(timeout: number): Promise<void> {
    if (this.base.writable) return
    await withTimeout(
      this.base.waitForWritable(),
      timeout,
      'not yet accepted as a writer: no member is online to add us'
    )
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
    return { writers: this.base.activeWriters.size, behind, peers: this.base.local.peers.length }
  }

  async update(): Promise<void> {
    await this.base.update()
  }
}

/** Pack queued ops into batch blocks (bounded in ops and bytes), keeping raw blocks in order. */
function toBlocks(queue: Pending[]): Buffer[] {
  const blocks: Buffer[] = []
  let ops: Buffer[] = []
  let bytes = 0
  const cut = (): void => {
    if (ops.length > 0) blocks.push(joinBatch(ops))
    ops = []
    bytes = 0
  }
  for (const p of queue) {
    if (!p.batchable) {
      cut()
      blocks.push(p.block)
      continue
    }
    if (ops.length >= BATCH_OPS || bytes + p.block.byteLength > BATCH_BYTES) cut()
    ops.push(p.block)
    bytes += p.block.byteLength
  }
  cut()
  return blocks
}
