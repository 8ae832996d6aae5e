/**
 * The naive use of the raw stack, as a baseline: one Autobase whose Hyperbee view gets the
 * same puts as a Flux post (post record, feed entry, op index, a counter), every writer an
 * indexer, ops appended with the library's own calls.
 */
import path from 'path'
import Corestore from 'corestore'
import Autobase from 'autobase'
import Hyperbee from 'hyperbee'
import type Hyperswarm from 'hyperswarm'
import crypto from 'hypercore-crypto'
import { now } from '../lib/util.js'
import { viewDigest } from '../../src/views/project-queries.js'
import { loopbackSwarm, replicateOn, joinTopic } from './loopback.js'
import {
  postText,
  trackView,
  type Replica,
  type ViewStats,
  type WriteMode,
  type WriteResult
} from './replica.js'
import { treeId, type Snapshot } from './watch.js'

type RawOp =
  | { type: 'post'; id: string; ts: number; text: string }
  | { type: 'add'; key: string; indexer: boolean }

const SYS = 'sys'

async function apply(
  nodes: Autobase.ApplyNode[],
  view: Hyperbee,
  host: Autobase.ApplyHost
): Promise<void> {
  const b = view.batch()
  const sys = ((await b.get(SYS))?.value as { applied: number } | undefined) ?? { applied: 0 }
  for (const node of nodes) {
    if (node.value === null) continue
    let op: RawOp
    try {
      op = JSON.parse((node.value as Buffer).toString('utf-8')) as RawOp
    } catch {
      continue
    }
    if (op.type === 'add') {
      await host.addWriter(Buffer.from(op.key, 'hex'), { indexer: op.indexer })
      continue
    }
    sys.applied++
    await b.put('post/' + op.id, { id: op.id, seq: sys.applied, text: op.text, ts: op.ts })
    await b.put('feed/' + String(sys.applied).padStart(12, '0'), op.id)
    await b.put('op/' + op.id, { seq: sys.applied, type: 'post' })
  }
  await b.put(SYS, sys)
  await b.flush()
}

function encode(op: RawOp): Buffer {
  return Buffer.from(JSON.stringify(op))
}

function post(i: number): Buffer {
  return encode({
    type: 'post',
    id: crypto.randomBytes(16).toString('hex'),
    ts: Date.now(),
    text: postText(i)
  })
}

export interface RawStartOptions {
  dir: string
  /** Null: no network (local throughput). */
  bootstrap: string[] | null
  /** Hex key of an existing base, or null to create one. */
  key: string | null
}

export class RawActor implements Replica {
  store!: Corestore
  base!: Autobase<Hyperbee>
  swarm: Hyperswarm | null = null
  private viewStats: ViewStats | null = null

  static async start(opts: RawStartOptions): Promise<RawActor> {
    const a = new RawActor()
    a.store = new Corestore(path.join(opts.dir, 'store'))
    await a.store.ready()
    a.base = new Autobase<Hyperbee>(
      a.store,
      opts.key === null ? null : Buffer.from(opts.key, 'hex'),
      {
        valueEncoding: 'binary',
        ackInterval: 1000,
        open: (s) =>
          new Hyperbee(s.get({ name: 'view' }), {
            keyEncoding: 'utf-8',
            valueEncoding: 'json',
            extension: false
          }),
        apply
      }
    )
    a.base.on('error', () => {})
    await a.base.ready()
    a.viewStats = trackView(a.base.view.core)
    if (opts.bootstrap !== null) {
      a.swarm = replicateOn(loopbackSwarm(opts.bootstrap), a.store)
      await joinTopic(a.swarm, a.base.discoveryKey)
    }
    return a
  }

  get key(): string {
    return this.base.key.toString('hex')
  }

  get writerKey(): string {
    return (this.base.local.key as Buffer).toString('hex')
  }

  async addWriters(keys: string[], indexer: boolean): Promise<void> {
    await this.base.append(keys.map((key) => encode({ type: 'add', key, indexer })))
    await this.base.update()
  }

  async write(n: number, mode: WriteMode, batch: number): Promise<WriteResult> {
    const started = now()
    switch (mode) {
      case 'cli-serial':
        // the app's full path: append, then read our own write back
        for (let i = 0; i < n; i++) {
          await this.base.append(post(i))
          await this.base.update()
        }
        break
      case 'serial':
        for (let i = 0; i < n; i++) await this.base.append(post(i))
        break
      case 'burst':
      case 'api-burst': {
        const all: Promise<unknown>[] = []
        for (let i = 0; i < n; i++) all.push(this.base.append(post(i)))
        await Promise.all(all)
        break
      }
      case 'batch':
        for (let i = 0; i < n; i += batch) {
          const arr: Buffer[] = []
          for (let j = i; j < Math.min(n, i + batch); j++) arr.push(post(j))
          await this.base.append(arr)
        }
        break
    }
    const acked = now()
    await this.base.update()
    return { started, acked, applied: now() }
  }

  async postOne(i: number): Promise<{ t0: number; t1: number }> {
    const t0 = now()
    await this.base.append(post(i))
    await this.base.update()
    return { t0, t1: now() }
  }

  async applied(): Promise<number> {
    return ((await this.base.view.get(SYS))?.value as { applied: number } | undefined)?.applied ?? 0
  }

  snapshot(): Snapshot {
    const snap = this.base.view.snapshot()
    return {
      applied: async () =>
        ((await snap.get(SYS))?.value as { applied: number } | undefined)?.applied ?? 0,
      hash: () => viewDigest(snap),
      tree: () => treeId(snap),
      close: () => snap.close()
    }
  }

  onUpdate(fn: () => void): () => void {
    this.base.on('update', fn)
    return () => this.base.off('update', fn)
  }

  peers(): number {
    return this.swarm?.connections.size ?? 0
  }

  async info(): Promise<Record<string, unknown>> {
    return {
      local: { length: this.base.local.length, bytes: this.base.local.byteLength },
      view: {
        length: this.base.view.core.length,
        bytes: this.base.view.core.byteLength,
        ...this.viewStats
      },
      peers: this.peers()
    }
  }

  async close(): Promise<void> {
    if (this.swarm) await this.swarm.destroy()
    await this.base.close()
    await this.store.close()
  }
}

/** An idle raw node: a Corestore and a listening Hyperswarm, nothing else (memory baseline). */
export class IdleRawNode {
  store!: Corestore
  swarm!: Hyperswarm

  static async start(dir: string, bootstrap: string[]): Promise<IdleRawNode> {
    const n = new IdleRawNode()
    n.store = new Corestore(path.join(dir, 'store'))
    await n.store.ready()
    n.swarm = replicateOn(loopbackSwarm(bootstrap, await n.store.createKeyPair('swarm')), n.store)
    await n.swarm.listen()
    return n
  }

  async close(): Promise<void> {
    await this.swarm.destroy()
    await this.store.close()
  }
}
