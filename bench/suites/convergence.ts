/**
 * Convergence: K members each writing M ops at the same moment; the time from the start
 * signal until every member's view hash is identical. Flux (members added by invite, as
 * non-indexer writers) against raw Autobase with every writer an indexer.
 */
import type { BenchContext, Pool, Suite } from '../lib/context.js'
import { failed, figure, skipped, type Figure, type FigureSpec } from '../lib/figure.js'
import { closeGroup, converged, fluxGroup, rawGroup, waitMesh, type Group } from '../lib/groups.js'
import { errorText, median, now, TimeoutError, within } from '../lib/util.js'
import type { WriteResult } from '../worker/replica.js'

interface Shape {
  k: number
  m: number
  runs: number
  /** Bounds on one run's convergence, Flux and raw. */
  timeout: { flux: number; raw: number }
}

function shapeOf(ctx: BenchContext, k: number): Shape {
  if (k === 3) {
    return {
      k,
      m: ctx.pick(1000, 300),
      runs: ctx.pick(3, 1),
      timeout: { flux: ctx.pick(60_000, 30_000), raw: ctx.pick(60_000, 30_000) }
    }
  }
  return { k, m: 1000, runs: 1, timeout: { flux: 150_000, raw: 75_000 } }
}

function spec(s: Shape, mode: string): FigureSpec {
  return {
    name: `converge.${s.k}x${s.m}`,
    label: `converge ${s.k} writers x ${s.m} ops`,
    unit: 's',
    better: 'lower',
    baseline: `raw Autobase, ${s.k} indexers`,
    note: `each writer submits its ${s.m} ops ${mode}; time from the start signal to identical view hashes, one process per writer`,
    ...(s.k === 3 && s.m === 1000
      ? { target: { on: 'value' as const, op: '<' as const, limit: 5, text: '< 5 s' } }
      : {})
  }
}

/** How each writer submits its ops: 'burst' (all at once, each acknowledged) or 'serial'. */
const MODE = (process.env.FLUX_BENCH_CONVERGE_MODE ?? 'burst') as 'burst' | 'serial'
const MODE_TEXT = MODE === 'burst' ? 'at once (a burst of appends)' : 'one at a time, awaiting each'

interface ViewInfo {
  view: { length: number; appended: number; truncations: number; truncated: number }
}

/** One measurement on a fresh group: seconds to converge, the slowest writer's write time, and what the views went through. */
async function once(
  group: Group,
  s: Shape,
  timeout: number
): Promise<{ converge: number; writes: number; diag: string }> {
  const first = group.members[0]!
  const before = await first.w.call<number>('applied', { id: first.id })
  const infos = (): Promise<ViewInfo[]> =>
    Promise.all(group.members.map((m) => m.w.call<ViewInfo>('info', { id: m.id })))
  const pre = await infos()
  const target = before + s.k * s.m
  let t0 = 0
  let all: Promise<WriteResult[]> = Promise.resolve([])
  const result = await converged(group, target, timeout, async () => {
    t0 = now()
    all = Promise.all(
      group.members.map((m) =>
        m.w.call<WriteResult>('write', { id: m.id, n: s.m, mode: MODE }, timeout)
      )
    )
    all.catch(() => {})
  })
  // every op is applied everywhere, so every write has been acknowledged (the reply may lag)
  const writes = await within(all, 30_000, 'write acknowledgements').catch(
    () => [] as WriteResult[]
  )
  await confirmContent(group)
  const post = await infos()
  const lastAck = writes.length ? Math.max(...writes.map((w) => w.acked)) - t0 : NaN
  const final = post[0]?.view.length ?? 0
  const written = post.map((p, i) => p.view.appended - (pre[i]?.view.appended ?? 0))
  const truncs = post.map((p, i) => p.view.truncations - (pre[i]?.view.truncations ?? 0))
  const grown = final - (pre[0]?.view.length ?? 0)
  const diag =
    `all ops applied everywhere at ${((Math.max(...result.seen.map((x) => x.reachedAt)) - t0) / 1000).toFixed(2)} s; ` +
    `view blocks written per member ${written.join('/')} for ${grown} kept (${truncs.join('/')} truncations)`
  return { converge: (result.at - t0) / 1000, writes: lastAck / 1000, diag }
}

/**
 * Identical view cores mean identical views; check it with the full content hash anyway. A view
 * that moves while it is read (members still appending, e.g. an indexer hand-over step) can give
 * a torn read: the views must agree once they settle, within three tries.
 */
export async function confirmContent(group: Group): Promise<string> {
  let hashes: Array<{ hash: string }> = []
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt > 0) await converged(group, 0, 30_000)
    hashes = await Promise.all(
      group.members.map((m) => m.w.call<{ hash: string }>('hash', { id: m.id }, 60_000))
    )
    const h = hashes[0]?.hash ?? ''
    if (hashes.every((x) => x.hash === h)) return h
  }
  throw new Error(
    `views have identical cores but different content hashes: ${hashes.map((x) => x.hash.slice(0, 8)).join(',')}`
  )
}

/** What one shape needs, roughly, when both sides hit their bounds (for the run's time budget). */
function worstCase(s: Shape): number {
  return s.runs * (s.timeout.flux + s.timeout.raw + 2 * 30_000)
}

function makeSuite(name: string, k: number, fullOnly: boolean): Suite {
  return {
    name,
    specs: (ctx) => (fullOnly && ctx.quick ? [] : [spec(shapeOf(ctx, k), MODE_TEXT)]),
    budget: (ctx) => worstCase(shapeOf(ctx, k)) + 30_000,
    async run(ctx: BenchContext, pool: Pool): Promise<Figure[]> {
      if (fullOnly && ctx.quick) return []
      const s = shapeOf(ctx, k)
      const sp = spec(s, MODE_TEXT)
      // the 10-writer case is the one that can blow the run's time budget: run it last, if there is time
      if (fullOnly && ctx.remaining() < Math.min(worstCase(s), 200_000)) {
        ctx.progress(
          `skipped: ${Math.round(ctx.remaining() / 1000)} s left of the run's time budget`
        )
        return [
          skipped(
            sp,
            `skipped: not enough time left in the run's budget (${Math.round(ctx.remaining() / 1000)} s)`
          )
        ]
      }
      const workers = Array.from({ length: s.k }, (_, i) => pool.spawn(`w${i}`))
      const flux: number[] = []
      const raw: number[] = []
      const censored = { flux: false, raw: false }
      const fluxWrites: number[] = []
      const rawWrites: number[] = []
      const errors: string[] = []
      for (let r = 0; r < s.runs; r++) {
        for (const kind of ['flux', 'raw'] as const) {
          const tag = `${s.k}x${s.m} ${kind} run ${r + 1}/${s.runs}`
          let group: Group | null = null
          try {
            ctx.progress(`${tag}: setting up ${s.k} ${kind === 'flux' ? 'members' : 'writers'}`)
            group = kind === 'flux' ? await fluxGroup(ctx, workers) : await rawGroup(ctx, workers)
            const least = await waitMesh(group, s.k - 1, 20_000)
            // start from identical views: the setup itself must have settled
            await converged(group, 0, 30_000)
            const x = await once(group, s, s.timeout[kind])
            ;(kind === 'flux' ? flux : raw).push(x.converge)
            ;(kind === 'flux' ? fluxWrites : rawWrites).push(x.writes)
            ctx.progress(
              `${tag}: ${x.converge.toFixed(2)} s to converge (last write acknowledged at ${x.writes.toFixed(2)} s; ${x.diag}; mesh ${least}/${s.k - 1} peers)`
            )
          } catch (err) {
            if (err instanceof TimeoutError && group !== null && /converge/.test(err.message)) {
              // a bound reached: the figure is at least the bound
              ;(kind === 'flux' ? flux : raw).push(s.timeout[kind] / 1000)
              censored[kind] = true
              ctx.progress(
                `${tag}: not converged within ${s.timeout[kind] / 1000} s (${err.message})`
              )
            } else {
              errors.push(`${kind}: ${errorText(err)}`)
              ctx.progress(`${tag}: FAILED ${errorText(err)}`)
            }
          } finally {
            if (group) await closeGroup(group)
          }
        }
      }
      await Promise.all(workers.map((w) => pool.stop(w)))
      const med = (xs: number[]): string => (xs.length ? median(xs).toFixed(2) : '-')
      const notes = [
        `writes acknowledged after ${med(fluxWrites)} s (Flux) / ${med(rawWrites)} s (raw)`
      ]
      if (censored.flux) notes.push(`Flux hit its ${s.timeout.flux / 1000} s bound in some run`)
      if (censored.raw) notes.push(`raw hit its ${s.timeout.raw / 1000} s bound in some run`)
      if (flux.length === 0 && raw.length === 0) return [failed(sp, errors.join('; '))]
      return [
        figure(sp, flux, raw, {
          note: notes.join('; '),
          valueLowerBound: censored.flux,
          baselineLowerBound: censored.raw,
          ...(errors.length ? { error: errors.join('; ') } : {})
        })
      ]
    }
  }
}

export const convergence = makeSuite('convergence', 3, false)
export const convergence10 = makeSuite('convergence-10', 10, true)
