import test from 'brittle'
import Corestore from 'corestore'
import { FluxBase } from '../../src/autobase/base.js'
import { createApply, type ApplyContext, type BaseSystem } from '../../src/autobase/runner.js'
import type { Codec } from '../../src/autobase/envelope.js'
import type { Obj } from '../../src/autobase/shapes.js'

// A burst (ops appended in one tick, none awaited before the next) goes out as one writer
// block: fewer signatures, fewer blocks for every peer to download and apply. The flush starts
// a microtask after the first append (DESIGN.md "Speed", item 5, "One block per burst").

type Op = { v: number; id: string; ts: number; type: 'add'; n: number }
const codec: Codec<Op> = {
  version: 1,
  maxOpBytes: 1024,
  maxBlockBytes: 256 * 1024,
  maxBatchOps: 1000,
  maxDepth: 4,
  body: (o: Obj) =>
    o.type === 'add' && typeof o.n === 'number' ? { type: 'add', n: o.n } : 'unknown op type'
}

async function openBase(dir: string): Promise<{ store: Corestore; base: FluxBase<Op> }> {
  const store = new Corestore(dir)
  const base = new FluxBase<Op>(store, {
    key: null,
    encryptionKey: null,
    codec,
    apply: () =>
      createApply<Op, BaseSystem, ApplyContext<BaseSystem>>({
        codec,
        systemKey: 'sys',
        emptySystem: () => ({ applied: 0, skipped: 0, clocks: {} }),
        skipKey: (seq) => `skip/${seq}`,
        seen: (b, op) => b.has(`op/${op.id}`),
        context: (ctx) => ctx,
        apply: async (ctx, op) => ctx.b.put(`add/${String(op.n).padStart(4, '0')}`, op.id),
        applied: async (ctx, op) => ctx.b.put(`op/${op.id}`, true),
        skipped: async (b, _sys, _author, op) => b.put(`op/${op.id}`, true)
      })
  })
  await base.ready()
  return { store, base }
}

test('burst - ops appended in one tick are one writer block; awaited one by one, one block each', async (t) => {
  const { store, base } = await openBase(await t.tmp())
  const local = base.base.local
  const start = local.length

  const burst: Promise<unknown>[] = []
  for (let n = 0; n < 100; n++) burst.push(base.append({ type: 'add', n }))
  await Promise.all(burst)
  t.is(local.length - start, 1, 'a burst of 100 ops: one block')

  const before = local.length
  for (let n = 100; n < 103; n++) await base.append({ type: 'add', n })
  t.is(local.length - before, 3, 'three ops awaited one by one: three blocks')

  await base.update()
  const sys = (await base.bee.get('sys'))?.value as BaseSystem
  t.is(sys.applied, 103, 'every op of the burst applied')
  const first = await base.bee.get('add/0000')
  const last = await base.bee.get('add/0099')
  t.ok(first !== null && last !== null, 'the first and last op of the burst in the view')
  await base.close()
  await store.close()
})
