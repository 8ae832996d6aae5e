/**
 * Through NATs: real `flux up` processes behind the NAT lab's routers (test/nat), against two
 * `flux up` processes on the loopback testnet measured in the same run, interleaved run by run.
 *
 * - join: `project.join` with an invite on the joiner (what `flux project join` does, without
 *   its process start), until it returns writable; fresh nodes for every run, so the time
 *   includes finding the inviter and opening the connection through the NATs.
 * - 1,000 posts: written as a burst on one node (concurrent `post.add` calls over its control
 *   socket), until the other node has applied them all; through a holepunched connection
 *   (consistent/consistent NATs) and a relayed one (random/random NATs, a relay node).
 *
 * The lab needs root, `ip netns` and iptables: without them the figures are listed as not
 * measured, with why (a skip, not an error). `--quick` leaves them out too (they take minutes).
 */
import type { BenchContext, Pool, Suite } from '../lib/context.js'
import { failed, figure, skipped, type Figure, type FigureSpec } from '../lib/figure.js'
import { errorText, median, now, pollUntil } from '../lib/util.js'
import type { MethodName, ParamsOf, ResultOf } from '../../src/control/methods.js'
import { labAvailable } from '../../test/nat/lab.js'
import { NatWorld, PAIRINGS, type Pairing } from '../../test/nat/world.js'

/** A node driven over its control socket: a lab node or a loopback `flux up`. */
interface Node {
  call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>
  stop(): Promise<void>
}

const POSTS = 1000
const runs = (ctx: BenchContext): number => ctx.pick(3, 1)

function specs(): FigureSpec[] {
  const join = PAIRINGS.map((p): FigureSpec => ({
    name: `nat.join.${p.tag}`,
    label: `join -> writable, ${p.name}`,
    unit: 's',
    better: 'lower',
    baseline: 'loopback, same run',
    note: `project.join with an invite until writable, fresh nodes each run; route ${p.route}`
  }))
  const sync = (route: 'holepunched' | 'relayed', via: string): FigureSpec => ({
    name: `nat.posts.${route}`,
    label: `${POSTS} posts through a ${route} connection`,
    unit: 'posts/s',
    better: 'higher',
    baseline: 'loopback, same run',
    note: `${via}; a burst of ${POSTS} post.add calls on one node until the other has applied them all`
  })
  return [
    ...join,
    sync('holepunched', 'consistent/consistent NATs'),
    sync('relayed', 'random/random NATs through a relay node')
  ]
}

export const nat: Suite = {
  name: 'nat',
  specs,
  budget: (ctx) => ctx.pick(300_000, 60_000),
  async run(ctx: BenchContext, pool: Pool): Promise<Figure[]> {
    const all = specs()
    if (ctx.quick) {
      return all.map((s) =>
        skipped(s, 'not measured in --quick: run `npm run bench -- --only nat`')
      )
    }
    const available = await labAvailable()
    if (!available.ok) {
      return all.map((s) =>
        skipped(s, `not measured: needs root and network namespaces (${available.why})`)
      )
    }
    const world = await NatWorld.open('bench')
    const loopback = async (tag: string): Promise<[Node, Node]> => {
      const up = (name: string) => pool.fluxUp(ctx.dir(`${tag}-${name}`), ctx.bootstrap)
      const [a, b] = await Promise.all([up('a'), up('b')])
      return [a, b]
    }
    try {
      const joinFigures: Figure[] = []
      for (const p of PAIRINGS) {
        const spec = all.find((s) => s.name === `nat.join.${p.tag}`) as FigureSpec
        joinFigures.push(await joinFigure(ctx, world, p, spec, loopback))
      }
      const syncFigures = await syncFigure(ctx, world, all, loopback)
      return [...joinFigures, ...syncFigures]
    } finally {
      await world.close()
    }
  }
}

/** Join times through one pairing of NATs, interleaved with loopback joins. */
async function joinFigure(
  ctx: BenchContext,
  world: NatWorld,
  p: Pairing,
  spec: FigureSpec,
  loopback: (tag: string) => Promise<[Node, Node]>
): Promise<Figure> {
  const lab: number[] = []
  const base: number[] = []
  const errors: string[] = []
  for (let r = 0; r < runs(ctx); r++) {
    for (const side of ['lab', 'loopback'] as const) {
      let nodes: [Node, Node] | null = null
      try {
        if (side === 'lab') {
          const pair = await world.pair(p, `${p.tag}${r}`)
          nodes = [pair.a, pair.b]
        } else nodes = await loopback(`join-${p.tag}${r}`)
        const s = await joinSeconds(nodes[0], nodes[1])
        ;(side === 'lab' ? lab : base).push(s)
        ctx.progress(`${p.name} run ${r + 1}: ${side} join -> writable ${s.toFixed(2)} s`)
      } catch (err) {
        errors.push(`${side}: ${errorText(err)}`)
        ctx.progress(`${p.name} run ${r + 1}: ${side} FAILED ${errorText(err)}`)
      } finally {
        if (nodes) await Promise.all(nodes.map((n) => n.stop().catch(() => {})))
      }
    }
  }
  if (lab.length === 0 || base.length === 0) return failed(spec, errors.join('; '), lab, base)
  return figure(spec, lab, base, errors.length ? { note: `failed runs: ${errors.join('; ')}` } : {})
}

async function joinSeconds(a: Node, b: Node): Promise<number> {
  const created = await a.call('project.create', { name: 'bench' })
  const invite = await a.call('project.invite', { project: created.key })
  const started = now()
  const joined = await b.call('project.join', { code: invite.code, timeout: 120_000 })
  if (!joined.writable) throw new Error('joined read-only')
  return (now() - started) / 1000
}

/** Throughput of a burst of posts through a holepunched and a relayed connection. */
async function syncFigure(
  ctx: BenchContext,
  world: NatWorld,
  all: FigureSpec[],
  loopback: (tag: string) => Promise<[Node, Node]>
): Promise<Figure[]> {
  const holeSpec = all.find((s) => s.name === 'nat.posts.holepunched') as FigureSpec
  const relaySpec = all.find((s) => s.name === 'nat.posts.relayed') as FigureSpec
  const pairs: Array<{
    name: string
    nodes: [Node, Node]
    key: string
    rates: number[]
    writes: number[]
  }> = []
  try {
    const setups: Array<[string, () => Promise<[Node, Node]>]> = [
      ['loopback', () => loopback('posts')],
      [
        'holepunched',
        async () => {
          const pr = await world.pair(PAIRINGS[0] as Pairing, 'pcc')
          return [pr.a, pr.b]
        }
      ],
      [
        'relayed',
        async () => {
          const pr = await world.pair(PAIRINGS[2] as Pairing, 'prr')
          return [pr.a, pr.b]
        }
      ]
    ]
    for (const [name, setup] of setups) {
      const nodes = await setup()
      const entry = { name, nodes, key: '', rates: [] as number[], writes: [] as number[] }
      pairs.push(entry)
      const created = await nodes[0].call('project.create', { name: 'posts' })
      const invite = await nodes[0].call('project.invite', { project: created.key })
      await nodes[1].call('project.join', { code: invite.code, timeout: 120_000 })
      entry.key = created.key
    }
    for (let r = 0; r < runs(ctx); r++) {
      for (const entry of pairs) {
        const { rate, written } = await burst(entry.nodes[0], entry.nodes[1], entry.key)
        entry.rates.push(rate)
        entry.writes.push(written)
        ctx.progress(
          `${POSTS} posts run ${r + 1}: ${entry.name} ${rate.toFixed(0)} posts/s ` +
            `(all written on the first node after ${written.toFixed(2)} s)`
        )
      }
    }
  } catch (err) {
    const e = errorText(err)
    return [failed(holeSpec, e), failed(relaySpec, e)]
  } finally {
    for (const p of pairs) await Promise.all(p.nodes.map((n) => n.stop().catch(() => {})))
  }
  const [base, hole, relay] = pairs.map((p) => p.rates) as [number[], number[], number[]]
  const written = (i: number): string => median(pairs[i]?.writes ?? []).toFixed(2)
  const note = (i: number): string =>
    `all ${POSTS} written locally after ${written(i)} s (loopback ${written(0)} s): the writer's ` +
    'appends, not the path, set the pace; the lab adds no latency'
  return [
    figure(holeSpec, hole, base, { note: note(1) }),
    figure(relaySpec, relay, base, { note: note(2) })
  ]
}

/**
 * Posts/s from the first of POSTS concurrent posts on `a` until `b` has applied them all, and
 * when `a` had acknowledged them all (s).
 */
async function burst(a: Node, b: Node, key: string): Promise<{ rate: number; written: number }> {
  const before = await postsOn(b, key)
  const started = now()
  const writes = Array.from({ length: POSTS }, (_, i) =>
    a.call('post.add', { project: key, text: `burst post ${i}` })
  )
  await Promise.all(writes)
  const written = (now() - started) / 1000
  await pollUntil(
    `${POSTS} posts on the other node`,
    async () => (await postsOn(b, key)) >= before + POSTS,
    120_000,
    25
  )
  return { rate: POSTS / ((now() - started) / 1000), written }
}

async function postsOn(n: Node, key: string): Promise<number> {
  const list = await n.call('project.list', {})
  return list.find((p) => p.key === key)?.posts ?? 0
}
