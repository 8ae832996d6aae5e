/**
 * A minimal FluxBase on the apply kit, for tests of the base itself (appends, bursts, catching
 * up): one op type, `add`, applied as `add/<op id>` in the view, with the kit's own records.
 */
import Corestore from 'corestore'
import type { Duplex } from 'stream'
import { FluxBase } from '../../src/autobase/base.js'
import { createApply, type ApplyContext, type BaseSystem } from '../../src/autobase/runner.js'
import type { Codec } from '../../src/autobase/envelope.js'
import type { Obj } from '../../src/autobase/shapes.js'

export type AddOp = { v: number; id: string; ts: number; type: 'add' }

/** Apply calls held at a gate while `held` is set (the event loop stays free), and counted. */
export interface Gate {
  held: Promise<void> | null
  calls: number
}

function codecOf(batches: boolean): Codec<AddOp> {
  return {
    version: 1,
    maxOpBytes: 1024,
    maxBlockBytes: 256 * 1024,
    maxBatchOps: batches ? 1000 : 0,
    maxDepth: 4,
    body: (o: Obj) => (o.type === 'add' ? { type: 'add' } : 'unknown op type')
  }
}

export async function openAddBase(
  dir: string,
  key: Buffer | null,
  opts: { batches?: boolean; gate?: Gate } = {}
): Promise<{ store: Corestore; base: FluxBase<AddOp> }> {
  const codec = codecOf(opts.batches === true)
  const gate = opts.gate ?? null
  const inner = createApply<AddOp, BaseSystem, ApplyContext<BaseSystem>>({
    codec,
    systemKey: 'sys',
    emptySystem: () => ({ applied: 0, skipped: 0, clocks: {} }),
    skipKey: (seq) => `skip/${seq}`,
    seen: (b, op) => b.has(`op/${op.id}`),
    context: (ctx) => ctx,
    apply: async (ctx, op) => ctx.b.put(`add/${op.id}`, true),
    applied: async (ctx, op) => ctx.b.put(`op/${op.id}`, true),
    skipped: async (b, _sys, _author, op) => b.put(`op/${op.id}`, true)
  })
  const store = new Corestore(dir)
  const base = new FluxBase<AddOp>(store, {
    key,
    encryptionKey: null,
    codec,
    apply: () => async (nodes, view, host) => {
      if (gate !== null) {
        gate.calls++
        if (gate.held) await gate.held
      }
      await inner(nodes, view, host)
    }
  })
  await base.ready()
  return { store, base }
}

/** Every entry of a base's view, as text (equal on two peers exactly when their views are). */
export async function viewEntries(base: FluxBase<AddOp>, prefix = ''): Promise<string[]> {
  const out: string[] = []
  const range = prefix ? { gte: prefix, lt: prefix + '\uffff' } : {}
  for await (const e of base.bee.createReadStream(range)) {
    out.push(`${e.key}=${JSON.stringify(e.value)}`)
  }
  return out
}

/** Replicate two stores, or one core alone (their own streams; the typings leave them out). */
export function link(a: unknown, b: unknown): Array<{ destroy(): void }> {
  type Replicable = { replicate(initiator: boolean): Duplex }
  const s1 = (a as Replicable).replicate(true)
  const s2 = (b as Replicable).replicate(false)
  s1.on('error', () => {})
  s2.on('error', () => {})
  s1.pipe(s2).pipe(s1)
  return [s1, s2]
}
