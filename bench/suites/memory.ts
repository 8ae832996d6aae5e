/**
 * Memory (RSS after forced garbage collection, in fresh worker processes):
 * - one `flux up`-like process (the daemon: node + control socket) holding one project of
 *   1,000 posts, against a raw process (Corestore + Hyperswarm + Autobase with Hyperbee) holding
 *   the same;
 * - what each added node costs when many share one process: idle nodes, and a 20-node mesh
 *   sharing one project (every node a member, all connected), against the raw stack doing the
 *   same (idle: Corestore + listening Hyperswarm; mesh: raw Autobase replicas, all writers).
 */
import type { BenchContext, Pool, Suite } from '../lib/context.js'
import { failed, figure, type Figure, type FigureSpec } from '../lib/figure.js'
import { errorText, MiB, pollUntil, sleep } from '../lib/util.js'
import type { WorkerProcess } from '../lib/worker-process.js'
import { postText } from '../worker/replica.js'

const sizes = (ctx: BenchContext) => ({
  runs: ctx.pick(2, 1),
  idle: ctx.pick(20, 10),
  mesh: 20,
  posts: 1000,
  settle: ctx.pick(2000, 1000)
})

function specs(ctx: BenchContext): FigureSpec[] {
  const s = sizes(ctx)
  return [
    {
      name: 'memory.up',
      label: `RSS of flux up just after ${s.posts} posts`,
      unit: 'MiB',
      better: 'lower',
      baseline: 'raw Corestore+Hyperswarm+Autobase process',
      target: { on: 'value', op: '<', limit: 100, text: '< 100 MiB' },
      note:
        `a real \`flux up\` (bin/flux.js) after ${s.posts} concurrent post.add requests on its control socket; ` +
        'baseline: a worker process with a raw base after the same number of concurrent append+update; RSS without forced GC'
    },
    {
      name: 'memory.up.restarted',
      label: 'RSS of flux up restarted, holding it',
      unit: 'MiB',
      better: 'lower',
      baseline: 'raw process reopening its base',
      target: { on: 'value', op: '<', limit: 100, text: '< 100 MiB' },
      note: 'the same home started again, idle, no peer; RSS without forced GC'
    },
    {
      name: 'memory.node.idle',
      label: 'each added idle node, shared process',
      unit: 'MiB',
      better: 'lower',
      baseline: 'raw Corestore + listening Hyperswarm',
      target: { on: 'value', op: '<', limit: 5, text: '< 5 MiB' },
      note: `(RSS with ${s.idle + 1} nodes - RSS with 1) / ${s.idle}`
    },
    {
      name: 'memory.node.mesh',
      label: `each added node, ${s.mesh}-node mesh on one project`,
      unit: 'MiB',
      better: 'lower',
      baseline: `raw Autobase, ${s.mesh} replicas in a mesh`,
      // issue 16: at most raw's memory plus 20 %
      target: { on: 'ratio', op: '<=', limit: 1.2, text: 'raw + 20 %' },
      note: `(RSS with ${s.mesh} members connected - RSS with the creator alone) / ${s.mesh - 1}`
    }
  ]
}

interface Mem {
  rss: number
  heapUsed: number
  external: number
}

/** Where the memory of the last up-like processes went (for the progress lines). */
const breakdown: string[] = []

async function rss(w: WorkerProcess, settle: number, label?: string, gc = true): Promise<number> {
  const m = await w.call<Mem>('memory', { settle, gc }, 30_000)
  if (label) {
    breakdown.push(
      `${label}: rss ${(m.rss / MiB).toFixed(0)}, JS heap ${(m.heapUsed / MiB).toFixed(0)}, buffers ${(m.external / MiB).toFixed(0)} MiB`
    )
  }
  return m.rss / MiB
}

/**
 * RSS of a real `flux up` holding one project of N posts (posted over its control socket, all
 * at once), just after posting and again after a restart (the same home, idle); or of a raw
 * worker process holding the same ops, likewise.
 */
async function upLike(
  ctx: BenchContext,
  pool: Pool,
  kind: 'flux' | 'raw',
  r: number
): Promise<[number, number]> {
  const s = sizes(ctx)
  if (kind === 'flux') {
    const home = ctx.dir(`up${r}`)
    let up = await pool.fluxUp(home, ctx.bootstrap)
    let started: number
    let after: number
    try {
      await sleep(s.settle)
      started = up.rss()
      const project = await up.call('project.create', { name: 'bench' })
      const posts: Promise<unknown>[] = []
      for (let i = 0; i < s.posts; i++)
        posts.push(up.call('post.add', { project: project.key, text: postText(i) }))
      await Promise.all(posts)
      await sleep(s.settle)
      after = up.rss()
    } finally {
      await up.stop()
    }
    up = await pool.fluxUp(home, ctx.bootstrap)
    try {
      await sleep(s.settle)
      const restarted = up.rss()
      breakdown.push(
        `flux up: ${started.toFixed(0)} MiB started empty, ${after.toFixed(0)} after the posts, ${restarted.toFixed(0)} restarted`
      )
      return [after, restarted]
    } finally {
      await up.stop()
    }
  }
  const dir = ctx.dir(`rawup${r}`)
  let w = pool.spawn(`raw-up${r}`)
  let key: string
  let empty: number
  let after: number
  try {
    await sleep(s.settle)
    empty = await rss(w, 0, undefined, false)
    key = (
      await w.call<{ key: string }>('raw.start', {
        id: 'n',
        dir,
        bootstrap: ctx.bootstrap,
        key: null
      })
    ).key
    const all: Promise<unknown>[] = []
    for (let i = 0; i < s.posts; i++) all.push(w.call('raw.post', { id: 'n', i }, 60_000))
    await Promise.all(all)
    after = await rss(w, s.settle, undefined, false)
  } finally {
    await pool.stop(w)
  }
  w = pool.spawn(`raw-up${r}b`)
  try {
    await w.call('raw.start', { id: 'n', dir, bootstrap: ctx.bootstrap, key })
    const restarted = await rss(w, s.settle, undefined, false)
    breakdown.push(
      `raw worker: ${empty.toFixed(0)} MiB empty (Node and all bench modules loaded), ${after.toFixed(0)} after the ops, ${restarted.toFixed(0)} restarted`
    )
    return [after, restarted]
  } finally {
    await pool.stop(w)
  }
}

async function idle(
  ctx: BenchContext,
  pool: Pool,
  kind: 'flux' | 'raw',
  r: number
): Promise<number> {
  const s = sizes(ctx)
  const w = pool.spawn(`${kind}-idle${r}`)
  const start = (i: number): Promise<unknown> =>
    kind === 'flux'
      ? w.call('flux.start', {
          id: `n${i}`,
          home: ctx.dir(`idle${r}-${i}`),
          bootstrap: ctx.bootstrap
        })
      : w.call('raw.idle', {
          id: `n${i}`,
          dir: ctx.dir(`rawidle${r}-${i}`),
          bootstrap: ctx.bootstrap
        })
  try {
    await start(0)
    const m0 = await rss(w, s.settle)
    for (let i = 1; i <= s.idle; i++) await start(i)
    const m1 = await rss(w, s.settle)
    return (m1 - m0) / s.idle
  } finally {
    await pool.stop(w)
  }
}

async function mesh(
  ctx: BenchContext,
  pool: Pool,
  kind: 'flux' | 'raw',
  r: number
): Promise<{ perNode: number; peers: number }> {
  const s = sizes(ctx)
  const w = pool.spawn(`${kind}-mesh${r}`)
  const ids = Array.from({ length: s.mesh }, (_, i) => `m${i}`)
  const [first, ...rest] = ids as [string, ...string[]]
  try {
    let m0: number
    if (kind === 'flux') {
      await w.call('flux.start', {
        id: first,
        home: ctx.dir(`mesh${r}-0`),
        bootstrap: ctx.bootstrap,
        pairingPoll: 500
      })
      await w.call('flux.create', { id: first, name: 'bench' })
      m0 = await rss(w, s.settle)
      for (const id of rest) {
        await w.call('flux.start', {
          id,
          home: ctx.dir(`mesh${r}-${id}`),
          bootstrap: ctx.bootstrap,
          pairingPoll: 500
        })
      }
      const { code } = await w.call<{ code: string }>('flux.invite', {
        id: first,
        uses: rest.length
      })
      await Promise.all(
        rest.map((id) => w.call('flux.join', { id, code, timeout: 90_000 }, 95_000))
      )
    } else {
      const { key } = await w.call<{ key: string }>('raw.start', {
        id: first,
        dir: ctx.dir(`rawmesh${r}-0`),
        bootstrap: ctx.bootstrap,
        key: null
      })
      m0 = await rss(w, s.settle)
      const writers: string[] = []
      for (const id of rest) {
        const x = await w.call<{ writer: string }>('raw.start', {
          id,
          dir: ctx.dir(`rawmesh${r}-${id}`),
          bootstrap: ctx.bootstrap,
          key
        })
        writers.push(x.writer)
      }
      await w.call('raw.addWriters', { id: first, keys: writers, indexer: false })
      await Promise.all(
        rest.map((id) => w.call('raw.waitWritable', { id, timeout: 60_000 }, 65_000))
      )
    }
    // every member connected to every other (bounded: report what was reached)
    let least = 0
    await pollUntil(
      'mesh',
      async () => {
        const counts = await Promise.all(ids.map((id) => w.call<number>('peers', { id })))
        least = Math.min(...counts)
        return least >= s.mesh - 1
      },
      30_000,
      500
    ).catch(() => {})
    // and every view caught up with the creator's
    const want = await w.call<number>('applied', { id: first })
    await pollUntil(
      'views',
      async () =>
        (await Promise.all(ids.map((id) => w.call<number>('applied', { id })))).every(
          (x) => x >= want
        ),
      30_000,
      500
    )
    const m1 = await rss(w, s.settle)
    return { perNode: (m1 - m0) / rest.length, peers: least }
  } finally {
    await pool.stop(w)
  }
}

export const memory: Suite = {
  name: 'memory',
  specs,
  budget: (ctx) => ctx.pick(240_000, 100_000),
  async run(ctx: BenchContext, pool: Pool): Promise<Figure[]> {
    const s = sizes(ctx)
    const [upSpec, restartSpec, idleSpec, meshSpec] = specs(ctx) as [
      FigureSpec,
      FigureSpec,
      FigureSpec,
      FigureSpec
    ]
    const out: Figure[] = []
    const measure = async (
      spec: FigureSpec,
      fn: (kind: 'flux' | 'raw', r: number) => Promise<number>,
      what: string
    ): Promise<void> => {
      const f: number[] = []
      const b: number[] = []
      const errors: string[] = []
      for (let r = 0; r < s.runs; r++) {
        for (const kind of ['flux', 'raw'] as const) {
          try {
            ;(kind === 'flux' ? f : b).push(await fn(kind, r))
          } catch (err) {
            errors.push(`${kind}: ${errorText(err)}`)
          }
        }
        ctx.progress(
          `${what} run ${r + 1}/${s.runs}: Flux ${f.at(-1)?.toFixed(1)} MiB, raw ${b.at(-1)?.toFixed(1)} MiB`
        )
      }
      out.push(
        f.length
          ? figure(spec, f, b, errors.length ? { error: errors.join('; ') } : {})
          : failed(spec, errors.join('; '))
      )
    }
    // the up-like processes give two figures per run
    const restarted = { flux: [] as number[], raw: [] as number[] }
    await measure(
      upSpec,
      async (k, r) => {
        const [after, again] = await upLike(ctx, pool, k, r)
        restarted[k].push(again)
        return after
      },
      'flux up RSS'
    )
    ctx.progress(breakdown.join('; '))
    const up = out.at(-1)
    if (up) up.note = `${up.note ?? ''}; ${breakdown.slice(0, 2).join('; ')}`
    out.push(
      restarted.flux.length
        ? figure(restartSpec, restarted.flux, restarted.raw)
        : failed(restartSpec, 'not measured')
    )
    await measure(idleSpec, (k, r) => idle(ctx, pool, k, r), 'per idle node')
    const peers: number[] = []
    await measure(
      meshSpec,
      async (k, r) => {
        const x = await mesh(ctx, pool, k, r)
        peers.push(x.peers)
        return x.perNode
      },
      `per node in a ${s.mesh}-node mesh`
    )
    const last = out.at(-1)
    if (last)
      last.note = `${last.note ?? ''}; fewest peers per node reached (Flux, raw per run): ${peers.join('/')} of ${s.mesh - 1}`
    return out
  }
}
