/**
 * Latency: one post on one node until it is visible (applied to the view) on another node
 * in another process; against raw Autobase doing the same between two writers. Flux and raw
 * posts alternate, one at a time, so both see the same machine.
 */
import type { BenchContext, Pool, Suite } from '../lib/context.js'
import { failed, figure, type Figure, type FigureSpec } from '../lib/figure.js'
import { closeGroup, fluxGroup, rawGroup, waitMesh, type Group } from '../lib/groups.js'
import { errorText, quantile, sleep } from '../lib/util.js'

const sizes = (ctx: BenchContext) => ({ posts: ctx.pick(60, 20), warmup: 5 })

function specs(ctx: BenchContext): FigureSpec[] {
  const { posts } = sizes(ctx)
  const note = `${posts} posts, one at a time, via app.content.post on the writer; visible = applied on the reader`
  return [
    {
      name: 'latency.median',
      label: 'post visible on a peer (median)',
      unit: 'ms',
      better: 'lower',
      baseline: 'raw Autobase, 2 indexers',
      target: { on: 'value', op: '<', limit: 100, text: '< 100 ms' },
      note
    },
    {
      name: 'latency.p95',
      label: 'post visible on a peer (p95)',
      unit: 'ms',
      better: 'lower',
      baseline: 'raw Autobase, 2 indexers'
    }
  ]
}

async function one(group: Group, i: number): Promise<number> {
  const [writer, reader] = group.members as [Group['members'][0], Group['members'][0]]
  const before = await reader.w.call<number>('applied', { id: reader.id })
  const visible = reader.w.call<number>(
    'waitApplied',
    { id: reader.id, count: before + 1, timeout: 20_000 },
    25_000
  )
  const cmd = group.kind === 'flux' ? 'flux.post' : 'raw.post'
  const { t0 } = await writer.w.call<{ t0: number; t1: number }>(cmd, { id: writer.id, i }, 20_000)
  return (await visible) - t0
}

export const latency: Suite = {
  name: 'latency',
  specs,
  budget: (ctx) => ctx.pick(120_000, 60_000),
  async run(ctx: BenchContext, pool: Pool): Promise<Figure[]> {
    const { posts, warmup } = sizes(ctx)
    const [med, p95] = specs(ctx) as [FigureSpec, FigureSpec]
    const workers = [pool.spawn('a'), pool.spawn('b')]
    let flux: Group | null = null
    let raw: Group | null = null
    try {
      ctx.progress('setting up two Flux members and two raw writers')
      flux = await fluxGroup(ctx, workers)
      raw = await rawGroup(ctx, workers)
      await waitMesh(flux, 1, 15_000)
      await waitMesh(raw, 1, 15_000)
      const f: number[] = []
      const r: number[] = []
      for (let i = 0; i < warmup; i++) {
        await one(flux, i)
        await one(raw, i)
      }
      for (let i = 0; i < posts; i++) {
        f.push(await one(flux, i))
        await sleep(10)
        r.push(await one(raw, i))
        await sleep(10)
        if ((i + 1) % 20 === 0) ctx.progress(`${i + 1}/${posts} posts`)
      }
      ctx.progress(
        `Flux median ${quantile(f, 0.5).toFixed(1)} ms, p95 ${quantile(f, 0.95).toFixed(1)} ms; ` +
          `raw median ${quantile(r, 0.5).toFixed(1)} ms, p95 ${quantile(r, 0.95).toFixed(1)} ms`
      )
      return [
        figure(med, f, r),
        figure(p95, [], [], { value: quantile(f, 0.95), baselineValue: quantile(r, 0.95) })
      ]
    } catch (err) {
      return [failed(med, errorText(err)), failed(p95, errorText(err))]
    } finally {
      if (flux) await closeGroup(flux)
      if (raw) await closeGroup(raw)
    }
  }
}
