/**
 * Local op throughput of one node, no network traffic: Flux posts one by one (awaiting each,
 * through app.content.post as the CLI does) and in a burst (many concurrent Project.append calls,
 * which Flux coalesces), against raw Autobase + Hyperbee doing the same puts and raw
 * Hypercore appends. Every run uses fresh projects/bases: per-op cost grows with a base's size.
 */
import type { BenchContext, Pool, Suite } from '../lib/context.js'
import { figure, type Figure, type FigureSpec } from '../lib/figure.js'
import { errorText, now } from '../lib/util.js'
import { postText } from '../worker/replica.js'
import type { WriteMode, WriteResult } from '../worker/replica.js'

const sizes = (ctx: BenchContext) => ({
  runs: ctx.pick(3, 2),
  serial: ctx.pick(300, 100),
  burst: ctx.pick(5000, 2000),
  batch: 100
})

function specs(ctx: BenchContext): FigureSpec[] {
  const s = sizes(ctx)
  return [
    {
      name: 'throughput.post.serial',
      label: 'posts one by one (app.content.post)',
      unit: 'ops/s',
      better: 'higher',
      baseline: 'raw Autobase+Hyperbee, append+update each',
      note: `${s.serial} posts, each awaited`
    },
    {
      name: 'throughput.cli.serial',
      label: 'posts one by one (flux up socket)',
      unit: 'ops/s',
      better: 'higher',
      baseline: 'raw Autobase+Hyperbee, append+update each',
      // issue 16: one by one at least at raw Autobase's rate
      target: { on: 'ratio', op: '>=', limit: 1, text: "at raw's rate" },
      note: `${s.serial} post.add requests to a real \`flux up\`, each awaited (as \`flux post\` does, without its process start)`
    },
    {
      name: 'throughput.post.serial-vs-hypercore',
      label: 'posts one by one vs Hypercore',
      unit: 'ops/s',
      better: 'higher',
      baseline: 'raw Hypercore, one append each'
    },
    {
      name: 'throughput.post.burst',
      label: 'post burst (Project.append x N)',
      unit: 'ops/s',
      better: 'higher',
      baseline: `raw Autobase+Hyperbee, arrays of ${s.batch}`,
      target: { on: 'value', op: '>=', limit: 5000, text: '>= 5000 ops/s' },
      note: `${s.burst} concurrent appends until all acknowledged and applied to the view`
    },
    {
      name: 'throughput.post.burst-vs-hypercore',
      label: 'post burst vs Hypercore',
      unit: 'ops/s',
      better: 'higher',
      baseline: `raw Hypercore, arrays of ${s.batch}`
    },
    {
      name: 'throughput.api.burst',
      label: 'post burst (app.content.post x N)',
      unit: 'ops/s',
      better: 'higher',
      baseline: `raw Autobase+Hyperbee, arrays of ${s.batch}`,
      note: `${s.burst} concurrent app.content.post calls (each reads its post back, as the API returns it)`
    }
  ]
}

export const throughput: Suite = {
  name: 'throughput',
  specs,
  budget: (ctx) => ctx.pick(150_000, 60_000),
  async run(ctx: BenchContext, pool: Pool): Promise<Figure[]> {
    const s = sizes(ctx)
    const w = pool.spawn('local')
    const rates: Record<string, number[]> = {}
    const errors: string[] = []
    let n = 0
    const record = (k: string, ops: number, ms: number): void => {
      ;(rates[k] ??= []).push((ops * 1000) / ms)
    }

    const fluxRun = async (key: string, ops: number, mode: WriteMode): Promise<void> => {
      const id = `f${++n}`
      await w.call('flux.start', { id, home: ctx.dir(id), bootstrap: ctx.bootstrap })
      try {
        await w.call('flux.create', { id, name: 'bench' })
        const r = await w.call<WriteResult>('write', { id, n: ops, mode }, 120_000)
        record(key, ops, r.applied - r.started)
      } finally {
        await w.call('close', { id })
      }
    }
    const rawRun = async (key: string, ops: number, mode: WriteMode): Promise<void> => {
      const id = `r${++n}`
      await w.call('raw.start', { id, dir: ctx.dir(id), bootstrap: null, key: null })
      try {
        const r = await w.call<WriteResult>('write', { id, n: ops, mode, batch: s.batch }, 120_000)
        record(key, ops, r.applied - r.started)
      } finally {
        await w.call('close', { id })
      }
    }
    const coreRun = async (key: string, ops: number, batch: number): Promise<void> => {
      const id = `c${++n}`
      await w.call('core.open', { id, dir: ctx.dir(id), key: null })
      try {
        const r = await w.call<{ started: number; done: number }>(
          'core.append',
          { id, n: ops, size: 220, batch },
          120_000
        )
        record(key, ops, r.done - r.started)
      } finally {
        await w.call('close', { id })
      }
    }

    const upRun = async (key: string, ops: number): Promise<void> => {
      const up = await pool.fluxUp(ctx.dir(`up${++n}`), ctx.bootstrap)
      try {
        const project = await up.call('project.create', { name: 'bench' })
        const t0 = now()
        for (let i = 0; i < ops; i++)
          await up.call('post.add', { project: project.key, text: postText(i) })
        record(key, ops, now() - t0)
      } finally {
        await up.stop()
      }
    }

    const steps: Array<[string, () => Promise<void>]> = [
      ['Flux one by one', () => fluxRun('fluxSerial', s.serial, 'cli-serial')],
      ['flux up one by one', () => upRun('upSerial', s.serial)],
      ['raw Autobase one by one', () => rawRun('rawSerial', s.serial, 'cli-serial')],
      ['Hypercore one by one', () => coreRun('coreSerial', s.serial * 3, 1)],
      ['Flux burst', () => fluxRun('fluxBurst', s.burst, 'burst')],
      ['raw Autobase batched', () => rawRun('rawBatch', s.burst, 'batch')],
      ['Hypercore batched', () => coreRun('coreBatch', s.burst * 4, s.batch)],
      ['Flux API burst', () => fluxRun('apiBurst', s.burst, 'api-burst')]
    ]
    // warm up (JIT, module loading, first RocksDB open): measured, then forgotten
    ctx.progress('warming up')
    try {
      await fluxRun('warm', 50, 'cli-serial')
      await fluxRun('warm', 500, 'burst')
      await rawRun('warm', 50, 'cli-serial')
      await rawRun('warm', 500, 'batch')
      await coreRun('warm', 500, 1)
    } catch (err) {
      errors.push(`warm-up: ${errorText(err)}`)
    }
    delete rates.warm
    for (let r = 0; r < s.runs; r++) {
      for (const [what, step] of steps) {
        try {
          await step()
        } catch (err) {
          errors.push(`${what}: ${errorText(err)}`)
        }
      }
      const last = (k: string): string => (rates[k]?.at(-1) ?? NaN).toFixed(0)
      ctx.progress(
        `run ${r + 1}/${s.runs}: one by one ${last('fluxSerial')} ops/s (socket ${last('upSerial')}, raw ${last('rawSerial')}, hypercore ${last('coreSerial')}); ` +
          `burst ${last('fluxBurst')} ops/s (raw batched ${last('rawBatch')}, hypercore ${last('coreBatch')}, API ${last('apiBurst')})`
      )
    }
    const [serial, cli, serialCore, burst, burstCore, api] = specs(ctx) as [
      FigureSpec,
      FigureSpec,
      FigureSpec,
      FigureSpec,
      FigureSpec,
      FigureSpec
    ]
    const error = errors.length ? errors.join('; ') : undefined
    const opt = error ? { error } : {}
    const r = (k: string): number[] => rates[k] ?? []
    return [
      figure(serial, r('fluxSerial'), r('rawSerial'), opt),
      figure(cli, r('upSerial'), r('rawSerial'), opt),
      figure(serialCore, r('fluxSerial'), r('coreSerial'), opt),
      figure(burst, r('fluxBurst'), r('rawBatch'), opt),
      figure(burstCore, r('fluxBurst'), r('coreBatch'), opt),
      figure(api, r('apiBurst'), r('rawBatch'), opt)
    ]
  }
}
