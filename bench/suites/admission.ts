/**
 * Admission and the toggles: how fast Pause takes effect and lets go, and how fast the gate
 * judges a flood of strangers under I Accept; against raw Hyperswarm doing the same with no
 * gate (suspend, resume, accepting the connections). In this process: the figures are about
 * the node's own reaction, not about replication between processes.
 */
import crypto from 'crypto'
import Hyperswarm from 'hyperswarm'
import HyperDHT from 'hyperdht'
import Protomux from 'protomux'
import c from 'compact-encoding'
import { FluxNode } from '../../src/node.js'
import { FluxApp } from '../../src/app/index.js'
import type { BenchContext, Suite } from '../lib/context.js'
import { failed, figure, type Figure, type FigureSpec } from '../lib/figure.js'
import { errorText, now, pollUntil } from '../lib/util.js'

const sizes = (ctx: BenchContext) => ({
  peers: 4,
  runs: ctx.pick(5, 2),
  strangers: ctx.pick(200, 100)
})

function specs(ctx: BenchContext): FigureSpec[] {
  const { peers, strangers } = sizes(ctx)
  return [
    {
      name: 'admission.pause',
      label: `pause: until all ${peers} connections are closed`,
      unit: 'ms',
      better: 'lower',
      baseline: 'raw Hyperswarm suspend()',
      target: { on: 'value', op: '<', limit: 1000, text: '< 1 s' },
      note: `a node with ${peers} member peers; Flux: app.admission.setToggle('pause', true) until it returns`
    },
    {
      name: 'admission.resume',
      label: `resume: until all ${peers} peers are back`,
      unit: 'ms',
      better: 'lower',
      baseline: 'raw Hyperswarm resume()',
      note: 'Flux: until the peers are admitted again; raw: until they are connected again'
    },
    {
      name: 'admission.flood',
      label: `I Accept: ${strangers} strangers judged`,
      unit: 'ms',
      better: 'lower',
      baseline: `raw Hyperswarm accepting ${strangers} connections`,
      note: `${strangers} strangers dial the node (one DHT node, a key pair each) and say they have no profile; Flux: until each is queued or refused (the queue takes 32 a minute); raw: until each is connected`
    }
  ]
}

interface Member {
  node: FluxNode
  app: FluxApp
}

async function member(ctx: BenchContext, name: string): Promise<Member> {
  const node = new FluxNode({
    home: ctx.dir(name),
    bootstrap: ctx.bootstrap,
    host: '127.0.0.1',
    firewalled: false,
    pairingPoll: 500
  })
  await node.ready()
  node.on('warning', () => {})
  const app = new FluxApp(node)
  await app.profile.init({ name })
  return { node, app }
}

const admitted = (n: FluxNode): number =>
  [...n.network.sessions.values()].filter((s) => s.admitted).length

/** A flood of strangers dialing `target`, each sending a hello without a profile. */
function flood(dht: HyperDHT, target: Buffer, n: number): Array<{ destroy(): void }> {
  const conns = []
  for (let i = 0; i < n; i++) {
    const conn = dht.connect(target, { keyPair: HyperDHT.keyPair() })
    conn.on('error', () => {})
    conn.on('open', () => {
      const ch = Protomux.from(conn).createChannel({
        protocol: 'flux/hello/v1',
        handshake: c.optionalBuffer
      })
      ch?.open(null)
    })
    conns.push(conn)
  }
  return conns
}

export const admission: Suite = {
  name: 'admission',
  specs,
  budget: (ctx) => ctx.pick(120_000, 60_000),
  async run(ctx: BenchContext): Promise<Figure[]> {
    const { peers, runs, strangers } = sizes(ctx)
    const [pauseSpec, resumeSpec, floodSpec] = specs(ctx) as [FigureSpec, FigureSpec, FigureSpec]
    const members: Member[] = []
    const swarms: Hyperswarm[] = []
    const dhts: HyperDHT[] = []
    const mkSwarm = (): Hyperswarm => {
      const s = new Hyperswarm({
        dht: new HyperDHT({ bootstrap: ctx.bootstrap, host: '127.0.0.1', firewalled: false })
      })
      s.on('connection', (conn) => conn.on('error', () => {}))
      swarms.push(s)
      return s
    }
    try {
      ctx.progress(`setting up a Flux node with ${peers} members, and ${peers + 1} raw swarms`)
      const a = await member(ctx, 'a')
      members.push(a)
      const { key } = await a.app.projects.create({ name: 'bench' })
      for (let i = 0; i < peers; i++) {
        const m = await member(ctx, `m${i}`)
        members.push(m)
        await m.app.projects.join((await a.app.projects.invite(key)).code)
      }
      await pollUntil('the Flux members to connect', () => admitted(a.node) >= peers, 20_000, 10)
      const topic = crypto.randomBytes(32)
      const raw = mkSwarm()
      await raw.join(topic).flushed()
      for (let i = 0; i < peers; i++) mkSwarm().join(topic)
      await pollUntil('the raw swarms to connect', () => raw.connections.size >= peers, 20_000, 10)

      const pause: number[] = []
      const rawPause: number[] = []
      const resume: number[] = []
      const rawResume: number[] = []
      for (let r = 0; r < runs; r++) {
        let t = now()
        await a.app.admission.setToggle('pause', true)
        pause.push(now() - t)
        t = now()
        await a.app.admission.setToggle('pause', false)
        await pollUntil('the Flux members to return', () => admitted(a.node) >= peers, 30_000, 10)
        resume.push(now() - t)
        t = now()
        await raw.suspend()
        rawPause.push(now() - t)
        t = now()
        await raw.resume()
        await pollUntil('the raw swarms to return', () => raw.connections.size >= peers, 30_000, 10)
        rawResume.push(now() - t)
        ctx.progress(
          `run ${r + 1}/${runs}: pause ${pause.at(-1)!.toFixed(0)} ms (raw ${rawPause.at(-1)!.toFixed(0)}), ` +
            `resume ${resume.at(-1)!.toFixed(0)} ms (raw ${rawResume.at(-1)!.toFixed(0)})`
        )
      }

      // the flood: under I Accept every stranger is queued or refused
      await a.app.admission.setToggle('accept', true)
      let decided = 0
      a.node.admission.on('pending', (_row, added) => void (added && decided++))
      a.node.network.on('session-refused', () => void decided++)
      const strangerDht = new HyperDHT({
        bootstrap: ctx.bootstrap,
        host: '127.0.0.1',
        firewalled: false
      })
      dhts.push(strangerDht)
      let t = now()
      const conns = flood(strangerDht, a.node.network.publicKey, strangers)
      await pollUntil('every stranger to be judged', () => decided >= strangers, 60_000, 10)
      const floodMs = now() - t
      for (const conn of conns) conn.destroy()
      const queued = a.app.admission.pending().length
      const target = mkSwarm()
      await target.listen()
      let accepted = 0
      target.on('connection', () => void accepted++)
      t = now()
      const rawConns = flood(strangerDht, target.keyPair.publicKey, strangers)
      await pollUntil('every raw connection', () => accepted >= strangers, 60_000, 10)
      const rawFloodMs = now() - t
      for (const conn of rawConns) conn.destroy()
      ctx.progress(
        `flood: ${strangers} strangers judged in ${floodMs.toFixed(0)} ms (${queued} queued, the rest refused); raw accepted them in ${rawFloodMs.toFixed(0)} ms`
      )
      return [
        figure(pauseSpec, pause, rawPause),
        figure(resumeSpec, resume, rawResume),
        figure(floodSpec, [floodMs], [rawFloodMs], { note: `${queued} queued` })
      ]
    } catch (err) {
      return [pauseSpec, resumeSpec, floodSpec].map((s) => failed(s, errorText(err)))
    } finally {
      for (const m of members) await m.node.close().catch(() => {})
      for (const s of swarms) await s.destroy().catch(() => {})
      for (const d of dhts) await d.destroy({ force: true }).catch(() => {})
    }
  }
}
