/**
 * Phonebooks and auto-connect: N nodes (in this process) with Auto-Connect on find a mesh
 * started by two nodes that connected by peer id, until every node's signed entry is in every
 * phonebook (the same view hash everywhere); connections per node and memory per node at the
 * end. Baseline: raw Hyperswarm, N nodes joining one topic, until each has as many
 * connections as the Flux node with the fewest.
 */
import crypto from 'crypto'
import Hyperswarm from 'hyperswarm'
import HyperDHT from 'hyperdht'
import { FluxNode } from '../../src/node.js'
import { FluxApp } from '../../src/app/index.js'
import type { BenchContext, Suite } from '../lib/context.js'
import { failed, figure, type Figure, type FigureSpec } from '../lib/figure.js'
import { errorText, now, pollUntil } from '../lib/util.js'

const sizes = (ctx: BenchContext) => ({ nodes: ctx.pick(16, 6) })

function specs(ctx: BenchContext): FigureSpec[] {
  const { nodes } = sizes(ctx)
  return [
    {
      name: `phonebook.mesh.${nodes}`,
      label: `${nodes} nodes auto-connect: every entry everywhere`,
      unit: 's',
      better: 'lower',
      baseline: `raw Hyperswarm, ${nodes} nodes on one topic`,
      note: 'from the first `flux connect` until every node holds the same phonebook (view hash) with every node’s entry; baseline: until each raw node has as many connections as the least connected Flux node'
    },
    {
      name: 'phonebook.connections',
      label: 'connections per auto-connected node',
      unit: 'peers',
      better: 'lower',
      baseline: 'raw Hyperswarm on one topic',
      note: 'median admitted connections per node at the end (Auto-Connect dials at most 8)'
    },
    {
      name: 'phonebook.memory',
      label: 'RSS per auto-connected node',
      unit: 'MiB',
      better: 'lower',
      baseline: 'raw Hyperswarm node',
      note: '(RSS with the mesh formed - RSS before) / N, in the bench process, no forced GC'
    }
  ]
}

const admitted = (n: FluxNode): number =>
  [...n.network.sessions.values()].filter((s) => s.admitted).length

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor((s.length - 1) / 2)] as number
}

export const phonebook: Suite = {
  name: 'phonebook',
  specs,
  budget: (ctx) => ctx.pick(240_000, 120_000),
  async run(ctx: BenchContext): Promise<Figure[]> {
    const { nodes: n } = sizes(ctx)
    const [meshSpec, connSpec, memSpec] = specs(ctx) as [FigureSpec, FigureSpec, FigureSpec]
    const flux: Array<{ node: FluxNode; app: FluxApp }> = []
    const raw: Hyperswarm[] = []
    try {
      const rss0 = process.memoryUsage().rss
      for (let i = 0; i < n; i++) {
        const node = new FluxNode({
          home: ctx.dir(`pb${i}`),
          bootstrap: ctx.bootstrap,
          host: '127.0.0.1',
          firewalled: false
        })
        await node.ready()
        node.on('warning', () => {})
        const app = new FluxApp(node)
        await app.profile.init({ name: `n${i}` })
        flux.push({ node, app })
      }
      ctx.progress(
        `${n} nodes up; the first two connect by peer id, the others turn Auto-Connect on`
      )
      const [a, b] = flux as [(typeof flux)[0], (typeof flux)[0]]
      const t0 = now()
      await a.app.mesh.connect(b.node.peerId)
      for (const x of flux.slice(2)) await x.app.admission.setToggle('auto-connect', true)
      const hashes = await pollUntil(
        'every node to hold every entry',
        async () => {
          const books = await Promise.all(flux.map((x) => x.app.mesh.phonebook()))
          const full = books.every((p) => p.entries.length === n && p.hash === books[0]?.hash)
          return full ? books.map((p) => p.hash) : null
        },
        ctx.pick(180_000, 90_000),
        250
      )
      const formed = (now() - t0) / 1000
      const conns = flux.map((x) => admitted(x.node))
      const fluxRss = (process.memoryUsage().rss - rss0) / n / 1024 / 1024
      ctx.progress(
        `formed in ${formed.toFixed(2)} s (hash ${String(hashes[0]).slice(0, 12)}); connections ${conns.join(',')}`
      )
      for (const x of flux) await x.node.close()
      flux.length = 0

      // baseline: raw Hyperswarm on one topic, until each has as many connections as the
      // least connected Flux node
      const want = Math.max(1, Math.min(...conns))
      const topic = crypto.randomBytes(32)
      const rss1 = process.memoryUsage().rss
      const r0 = now()
      for (let i = 0; i < n; i++) {
        const dht = new HyperDHT({ bootstrap: ctx.bootstrap, host: '127.0.0.1', firewalled: false })
        const swarm = new Hyperswarm({ dht })
        swarm.on('connection', (c: { on(e: string, f: () => void): void }) =>
          c.on('error', () => {})
        )
        raw.push(swarm)
      }
      // announce before looking up, as Flux's topics do (the join race: notes/holepunch.md)
      await Promise.all(
        raw.map(async (s) => {
          const d = s.join(topic, { server: true, client: true })
          await d.flushed()
          await d.refresh({ server: true, client: true })
        })
      )
      await pollUntil(
        'raw nodes connected',
        () => raw.every((s) => s.connections.size >= want),
        ctx.pick(180_000, 90_000),
        100
      )
      const rawFormed = (now() - r0) / 1000
      await new Promise((resolve) => setTimeout(resolve, 2000)) // let the raw mesh fill up
      const rawConns = raw.map((s) => s.connections.size)
      const rawRss = (process.memoryUsage().rss - rss1) / n / 1024 / 1024
      return [
        figure(meshSpec, [formed], [rawFormed]),
        figure(connSpec, [median(conns)], [median(rawConns)], {
          note: `median admitted connections per node at the end; Flux ${conns.join(',')}; raw ${rawConns.join(',')}`
        }),
        figure(memSpec, [fluxRss], [Math.max(rawRss, 0.01)])
      ]
    } catch (err) {
      return specs(ctx).map((s) => failed(s, errorText(err)))
    } finally {
      for (const x of flux) await x.node.close().catch(() => {})
      for (const s of raw) {
        await s.destroy().catch(() => {})
        await s.dht.destroy().catch(() => {})
      }
    }
  }
}
