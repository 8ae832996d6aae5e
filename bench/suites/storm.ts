/**
 * A connection storm (issue 10, item 7): a stranger opens many short connections, each with a
 * fresh key pair, to a Flux node that holds a project; against a raw Hyperswarm that accepts
 * everything, stormed the same way in the same run. Memory is read once the storm is over and
 * HyperDHT has let go of the handshakes (it keeps each for 10 s after its connection closed,
 * `handshakeClearWait`), after a forced collection: what stays is what a storm costs for good.
 */
import type { BenchContext, Pool, Suite } from '../lib/context.js'
import { failed, figure, type Figure, type FigureSpec } from '../lib/figure.js'
import { errorText, MiB, sleep } from '../lib/util.js'

const sizes = (ctx: BenchContext) => ({ connections: ctx.pick(2000, 400), runs: ctx.pick(2, 1) })
/** HyperDHT's handshakeClearWait (10 s), and a margin. */
const AFTER = 12_000

function specs(ctx: BenchContext): FigureSpec[] {
  const { connections } = sizes(ctx)
  const baseline = 'raw Hyperswarm accepting the same storm'
  return [
    {
      name: 'storm.heap',
      label: `JS heap kept after ${connections} stranger connections`,
      unit: 'MiB',
      better: 'lower',
      baseline,
      note: `heap after the storm minus before, both after a forced collection, ${AFTER / 1000} s after the last connection closed`
    },
    {
      name: 'storm.rss',
      label: `RSS grown by ${connections} stranger connections`,
      unit: 'MiB',
      better: 'lower',
      baseline,
      note: 'RSS after minus before (the allocator keeps its high-water mark: not all of it is held by anything)'
    }
  ]
}

interface Mem {
  rss: number
  heapUsed: number
}

export const storm: Suite = {
  name: 'storm',
  specs,
  budget: (ctx) => ctx.pick(300_000, 120_000),
  async run(ctx: BenchContext, pool: Pool): Promise<Figure[]> {
    const { connections, runs } = sizes(ctx)
    const heap = { flux: [] as number[], raw: [] as number[] }
    const rss = { flux: [] as number[], raw: [] as number[] }
    const errors: string[] = []
    for (let r = 0; r < runs; r++) {
      for (const kind of ['flux', 'raw'] as const) {
        try {
          const w = pool.spawn(`${kind}-listener-${r}`)
          let key: string
          if (kind === 'flux') {
            await w.call('flux.start', {
              id: 'n',
              home: ctx.dir(`storm-${r}`),
              bootstrap: ctx.bootstrap
            })
            await w.call('flux.create', { id: 'n', name: 'stormed' })
            key = await w.call<string>('storm.fluxListen', { id: 'n' })
          } else {
            key = await w.call<string>('storm.rawListen', { bootstrap: ctx.bootstrap })
          }
          const before = await w.call<Mem>('memory', { settle: 1500 })
          const s = pool.spawn(`stranger-${kind}-${r}`)
          const res = await s.call<{ opened: number; failed: number }>(
            'storm.hit',
            { bootstrap: ctx.bootstrap, key, n: connections },
            240_000
          )
          await pool.stop(s)
          await sleep(AFTER)
          const after = await w.call<Mem>('memory', { settle: 1500 })
          heap[kind].push((after.heapUsed - before.heapUsed) / MiB)
          rss[kind].push((after.rss - before.rss) / MiB)
          ctx.progress(
            `run ${r + 1}/${runs}, ${kind}: ${res.opened} connections opened (${res.failed} failed); ` +
              `heap ${(before.heapUsed / MiB).toFixed(1)} -> ${(after.heapUsed / MiB).toFixed(1)} MiB, ` +
              `RSS ${(before.rss / MiB).toFixed(0)} -> ${(after.rss / MiB).toFixed(0)} MiB`
          )
          await pool.stop(w)
        } catch (err) {
          errors.push(`${kind}: ${errorText(err)}`)
          ctx.progress(`run ${r + 1}/${runs}, ${kind}: FAILED ${errorText(err)}`)
        }
      }
    }
    const [h, m] = specs(ctx) as [FigureSpec, FigureSpec]
    if (heap.flux.length === 0 || heap.raw.length === 0) {
      return [h, m].map((x) => failed(x, errors.join('; ')))
    }
    const opt = errors.length ? { error: errors.join('; ') } : {}
    return [figure(h, heap.flux, heap.raw, opt), figure(m, rss.flux, rss.raw, opt)]
  }
}
