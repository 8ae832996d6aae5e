/**
 * FluxBase: what every Flux Autobase is, whatever its ops. Binary blocks, a Hyperbee view
 * (utf-8 keys, JSON values), encrypted or not, on the node's shared wakeup protocol; a
 * validated append that resolves once the op is durably in this writer's core; ops submitted
 * while an append is in flight coalesced into one batch block where the base allows batches.
 * Projects and profiles (and the bases to come) differ only in their codec and their rules.
 */
import Autobase from 'autobase'
import Hyperbee from 'hyperbee'
import ReadyResource from 'ready-resource'
import crypto from 'hypercore-crypto'
import b4a from 'b4a'
import type Hypercore from 'hypercore'
import type Corestore from 'corestore'
import { FluxError } from '../errors.js'
import { systemClock, withTimeout, type Clock } from '../util/clock.js'
import {
  encodeOp,
  joinBatch,
  validateOp,
  type Codec,
  type Envelope,
  type Validation
} from './envelope.js'
import type { ApplyFunction, HeadsReader, UnexpectedListener } from './runner.js'
import { CatchUp, type FastForwardState } from './catch-up.js'
import { slowStart } from './prefetch.js'

export interface FluxBaseOptions<O extends Envelope & { type: string }> {
  /** The base key, or null to create a new base (this writer becomes its bootstrap). */
  key: Buffer | null
  /** The data encryption key; null for a public base or a host without read access. */
  encryptionKey: Buffer | null
  codec: Codec<O>
  /**
   * Build the apply function; `bootstrap` gives the bootstrap key (hex) when it runs, and
   * `onUnexpected` is told of ops skipped as unexpected errors (the base emits a warning).
   */
  apply: (ids: {
    readonly bootstrap: string
    readonly onUnexpected: UnexpectedListener
    readonly headsOf: HeadsReader
  }) => ApplyFunction
  /** Clock for op timestamps. */
  clock?: Clock
  /** The node's shared Autobase wakeup protocol. */
  wakeup?: unknown
  /** Let non-writers append blocks that apply may accept (profile recovery). */
  optimistic?: boolean
  /** What NOT_WRITABLE and a timeout waiting to become a writer say, for this kind of base. */
  messages?: { notWritable?: string; waitWritable?: string; closing?: string; stopped?: string }
}

/** An op without its envelope (id, version and timestamp are added by the base). */
export type BodyOf<O> = O extends unknown ? Omit<O, keyof Envelope> : never

/** A batch block stays well inside what apply accepts. */
const BATCH_OPS = 500

interface Pending {
  /** The encoded block: a validated op (batched with its neighbours) or a raw block. */
  block: Buffer
  /** Whether the block is one op that may share a batch block. */
  batchable: boolean
  resolve: () => void
  reject: (err: unknown) => void
}

export class FluxBase<O extends Envelope & { type: string }> extends ReadyResource {
  readonly store: Corestore
  readonly base: Autobase<Hyperbee>
  protected readonly codec: Codec<O>
  protected readonly clock: Clock
  private readonly messages: {
    notWritable: string
    waitWritable: string
    closing: string
    stopped: string
  }
  /**
   * Why Autobase stopped this base (it closes a base when applying or updating fails), or
   * null while it works. Peer input cannot cause it (see runner.ts); the node's own failures
   * (storage, a full disk) can. Status shows it instead of failing.
   */
  failure: FluxError | null = null
  private pending: Pending[] = []
  private flushing: Promise<void> | null = null
  /** Long applies give the event loop turns; a far-behind base fast-forwards sooner. */
  readonly catchUp: CatchUp

  constructor(store: Corestore, opts: FluxBaseOptions<O>) {
    super()
    this.store = store
    this.codec = opts.codec
    this.clock = opts.clock ?? systemClock
    this.messages = {
      notWritable: opts.messages?.notWritable ?? 'this node is not a writer of the base',
      waitWritable: opts.messages?.waitWritable ?? 'not yet accepted as a writer',
      closing: opts.messages?.closing ?? 'the base is closing',
      stopped: opts.messages?.stopped ?? 'the base stopped'
    }
    const key = opts.key
    let bootstrap = key === null ? '' : b4a.toString(key, 'hex')
    const apply = opts.apply({
      get bootstrap() {
        return bootstrap
      },
      onUnexpected: (err, op) => {
        const why = err instanceof Error ? `${err.name}: ${err.message}` : 'unknown error'
        const msg = `op ${op.id} (${op.type}) was skipped by an unexpected error in apply: ${why}`
        this.emit('warning', new FluxError('INTERNAL', msg))
      },
      headsOf: (writer, length) => this.headsOf(writer, length)
    })
    const base: Autobase<Hyperbee> = new Autobase<Hyperbee>(store, key, {
      encryptionKey: opts.encryptionKey,
      valueEncoding: 'binary',
      ackInterval: 1000,
      ...(opts.optimistic ? { optimistic: true } : {}),
      ...(opts.wakeup ? { wakeup: opts.wakeup } : {}),
      open: (viewStore) =>
        new Hyperbee(viewStore.get({ name: 'view' }), {
          keyEncoding: 'utf-8',
          valueEncoding: 'json',
          extension: false
        }),
      apply: async (nodes, view, host) => {
        if (bootstrap === '') bootstrap = b4a.toString(base.key, 'hex')
        await this.catchUp.beforeApply(nodes.some((n) => n.optimistic === true))
        return apply(nodes, view, host)
      }
    })
    this.base = base
    // writer blocks a few at a time at first, more as they are applied (prefetch.ts)
    slowStart(base)
    this.catchUp = new CatchUp(() => base as unknown as FastForwardState)
    base.on('update', () => this.emit('update'))
    base.on('writable', () => this.emit('writable'))
    base.on('error', (err: unknown) => {
      if (this.failure === null) {
        this.failure = FluxError.from(err)
        this.emit('stopped', this.failure)
      }
      this.emit('warning', err)
    })
  }

  protected override async _open(): Promise<void> {
    await this.base.ready()
  }

  /**
   * Close after draining: finish our appends, then let Autobase finish applying what it holds
   * before it closes. Autobase 7.28.1 closes its local core and apply state without waiting for
   * an update in flight: the views were saved but not the record of the ops they hold, and on
   * restart the node signed a view its peers could not rebuild (DESIGN.md "Restarts"). The
   * node stops replication first, so nothing new arrives while draining.
   */
  protected override async _close(): Promise<void> {
    if (this.flushing) await this.flushing.catch(() => {})
    if (this.base.opened && !this.base.closing) await this.base.update().catch(() => {})
    await this.base.close()
    for (const core of this.writerCores.values()) await core.close().catch(() => {})
    this.writerCores.clear()
  }

  /** Sessions on writer cores whose blocks apply reads (acks' heads), kept while the base runs. */
  private readonly writerCores = new Map<string, Hypercore>()

  /**
   * The heads a writer block names, read from the block (see runner.ts `HeadsReader`): through
   * the session Autobase itself reads writer cores with (its block encoding and encryption).
   * A block Autobase linearized is always local, so every peer reads the same heads.
   */
  private async headsOf(
    writer: string,
    length: number
  ): Promise<Array<{ key: Uint8Array; length: number }> | null> {
    if (length < 1) return null
    let core = this.writerCores.get(writer)
    if (core === undefined) {
      const make = (this.base as unknown as { _makeWriterCore(key: Buffer): Hypercore })
        ._makeWriterCore
      core = make.call(this.base, b4a.from(writer, 'hex') as Buffer)
      this.writerCores.set(writer, core)
    }
    await core.ready()
    if (!(await core.has(length - 1))) return null
    const block = (await core.get(length - 1, { wait: false })) as unknown as {
      node?: { heads?: Array<{ key: Uint8Array; length: number }> }
    } | null
    return block?.node?.heads ?? null
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

  /** This node's writer core key. */
  get writerKey(): Buffer {
    return this.base.local.key as Buffer
  }

  /** The view every query reads. */
  get bee(): Hyperbee {
    return this.base.view
  }

  /** Build a full op from a body: a fresh id and this node's clock. */
  makeOp(body: BodyOf<O>): O {
    return {
      v: this.codec.version,
      id: crypto.randomBytes(16).toString('hex'),
      ts: this.clock.now(),
      ...body
    } as unknown as O
  }

  /** Check a full op the way every peer's apply will (its shape; rights are judged in apply). */
  validate(op: O): Validation<O> {
    return validateOp(this.codec, op)
  }

  /**
   * Append one op. Throws INVALID_INPUT for a malformed or oversized op, NOT_WRITABLE when this
   * node is not (yet) a writer. Resolves once the op is durably in our writer core (an
   * acknowledged op survives a crash). Rights are judged by apply, on every peer.
   */
  async append(body: BodyOf<O>): Promise<O> {
    const op = this.makeOp(body)
    const checked = this.validate(op)
    if (!checked.ok) throw new FluxError('INVALID_INPUT', checked.reason)
    const block = encodeOp(checked.op)
    if (block.byteLength > this.codec.maxOpBytes) {
      throw new FluxError(
        'INVALID_INPUT',
        `the op is too large (${block.byteLength} bytes, at most ${this.codec.maxOpBytes})`
      )
    }
    await this.enqueue(block, this.codec.maxBatchOps > 0)
    return checked.op
  }

  /** Append an already encoded block as is (no validation: peers validate in apply). */
  appendRaw(block: Buffer): Promise<void> {
    return this.enqueue(block, false)
  }

  /**
   * Writer keys (hex) of the indexers as of the signed state: the quorum whose signatures count
   * now. A change of indexers at the tip takes effect only once the old quorum has signed it.
   */
  async signedIndexers(): Promise<string[]> {
    const info = await this.base.getIndexedInfo()
    return (info?.indexers ?? []).map((i) => b4a.toString(i.key, 'hex')).sort()
  }

  /** Writer keys (hex) of the indexers at the tip (the change may not be signed yet). */
  tipIndexers(): string[] {
    return (this.base.system?.indexers ?? []).map((i) => b4a.toString(i.key, 'hex')).sort()
  }

  async update(): Promise<void> {
    await this.base.update()
  }

  /** Wait until this node is a writer, or fail with TIMEOUT after `timeout` ms. */
  async waitWritable(timeout: number): Promise<void> {
    if (this.base.writable) return
    await withTimeout(this.base.waitForWritable(), timeout, this.messages.waitWritable, this.clock)
  }

  private enqueue(block: Buffer, batchable: boolean): Promise<void> {
    const stopped = this.stoppedError()
    if (stopped !== null) return Promise.reject(stopped)
    if (this.closing) return Promise.reject(new FluxError('NODE_CLOSED', this.messages.closing))
    if (!this.base.writable) {
      return Promise.reject(new FluxError('NOT_WRITABLE', this.messages.notWritable))
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ block, batchable, resolve, reject })
      // after a microtask: ops appended in the same tick (a burst) go out as one block
      if (this.flushing === null) this.flushing = Promise.resolve().then(() => this.flush())
    })
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending
        this.pending = []
        try {
          await this.base.append(this.toBlocks(batch))
          for (const p of batch) p.resolve()
        } catch (err) {
          for (const p of batch) p.reject(err)
        }
      }
    } finally {
      this.flushing = null
    }
  }

  /**
   * What using a stopped base says (null while it works): the cause when it is known (a full
   * disk), else BASE_STOPPED with Autobase's reason.
   */
  stoppedError(): FluxError | null {
    const failure = this.failure
    if (failure === null) return null
    if (failure.code === 'DISK_FULL') return failure
    return new FluxError(
      'BASE_STOPPED',
      `${this.messages.stopped} after an error (${failure.detail}); restart the node ` +
        '(flux stop, then flux up)'
    )
  }

  /** Pack queued ops into batch blocks (bounded in ops and bytes), keeping raw blocks in order. */
  private toBlocks(queue: Pending[]): Buffer[] {
    const maxOps = Math.min(BATCH_OPS, this.codec.maxBatchOps)
    const maxBytes = this.codec.maxBlockBytes / 2
    const blocks: Buffer[] = []
    let ops: Buffer[] = []
    let bytes = 0
    const cut = (): void => {
      if (ops.length > 0) blocks.push(joinBatch(this.codec.version, ops))
      ops = []
      bytes = 0
    }
    for (const p of queue) {
      if (!p.batchable) {
        cut()
        blocks.push(p.block)
        continue
      }
      if (ops.length >= maxOps || bytes + p.block.byteLength > maxBytes) cut()
      ops.push(p.block)
      bytes += p.block.byteLength
    }
    cut()
    return blocks
  }
}
