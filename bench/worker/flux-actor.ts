/**
 * A Flux node in a worker process: a FluxNode (or the daemon `flux up` runs) holding one
 * project, driven through the same public classes the CLI and API use.
 */
import { FluxNode } from '../../src/node.js'
import { FluxApp } from '../../src/app/index.js'
import { startDaemon, type Daemon } from '../../src/control/daemon.js'
import { ProjectView } from '../../src/views/project-queries.js'
import type { Project } from '../../src/project/project.js'
import type { OpBody } from '../../src/project/ops.js'
import { now } from '../lib/util.js'
import {
  postText,
  trackView,
  type Replica,
  type ViewStats,
  type WriteMode,
  type WriteResult
} from './replica.js'
import { treeId, type Snapshot } from './watch.js'

export interface FluxStartOptions {
  home: string
  bootstrap: string[]
  pairingPoll?: number | undefined
  /** Run the node as `flux up` does: with its control socket. */
  daemon?: boolean | undefined
}

interface TracedBase {
  core: { length: number; contiguousLength: number } | null
  view: { core: { length: number; contiguousLength: number } }
  activeWriters: Iterable<{ core: { contiguousLength: number } }>
  writable: boolean
  fastForwardTo: unknown
  fastForwarding: unknown
}

export interface TraceSample {
  t: number
  system: string
  view: string
  writers: string
  writable: boolean
  ff: boolean
  /** Event-loop turns apply gave, apply calls abandoned for a fast-forward (catch-up.ts). */
  catchUp: string
  /** CPU time this process has used so far (ms). */
  cpu: number
}

export class FluxActor implements Replica {
  node!: FluxNode
  app!: FluxApp
  daemon: Daemon | null = null
  project: Project | null = null
  projectKey = ''
  private viewStats: ViewStats | null = null

  static async start(opts: FluxStartOptions): Promise<FluxActor> {
    const a = new FluxActor()
    const nodeOpts = {
      home: opts.home,
      bootstrap: opts.bootstrap,
      host: '127.0.0.1',
      firewalled: false,
      ...(opts.pairingPoll !== undefined ? { pairingPoll: opts.pairingPoll } : {})
    }
    if (opts.daemon) {
      a.daemon = await startDaemon(nodeOpts)
      a.node = a.daemon.node
      a.app = a.daemon.app
    } else {
      a.node = new FluxNode(nodeOpts)
      await a.node.ready()
      a.app = new FluxApp(a.node)
    }
    a.node.on('warning', () => {})
    // members are profiles: a fresh home gets an in-memory one (a restarted home keeps its
    // data and runs without keys, which is all the idle measurements need)
    if (a.node.profile.entry === null) await a.app.profile.init({ name: 'bench' })
    return a
  }

  private get p(): Project {
    if (this.project === null) throw new Error('this node holds no project yet')
    return this.project
  }

  async create(name: string): Promise<string> {
    const detail = await this.app.projects.create({ name })
    await this.use(detail.key)
    return detail.key
  }

  async use(key: string): Promise<void> {
    this.project = await this.node.projects.resolve(key)
    this.projectKey = key
    this.viewStats = trackView(this.project.base.view.core)
  }

  async invite(uses: number): Promise<string> {
    const inv = await this.app.projects.invite(this.projectKey, { uses, expires: 3600_000 })
    return inv.code
  }

  private trace: { timer: NodeJS.Timeout; samples: TraceSample[]; t0: number } | null = null

  /** Sample the (first) project's cores every `every` ms, to show where a sync spends its time. */
  startTrace(every = 250): void {
    this.stopTrace()
    const t0 = now()
    const samples: TraceSample[] = []
    const timer = setInterval(() => {
      const p = this.project ?? this.node.projects.list()[0]
      if (!p) return
      const base = p.base as unknown as TracedBase
      samples.push({
        t: Math.round(now() - t0),
        system: `${base.core?.contiguousLength ?? 0}/${base.core?.length ?? 0}`,
        view: `${base.view.core.contiguousLength}/${base.view.core.length}`,
        writers: [...base.activeWriters].map((w) => w.core.contiguousLength).join('+'),
        writable: base.writable,
        ff: base.fastForwardTo !== null || base.fastForwarding !== null,
        catchUp: `${p.catchUp.counts.turns} turns, ${p.catchUp.counts.abandoned} abandoned`,
        cpu: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000)
      })
    }, every)
    this.trace = { timer, samples, t0 }
  }

  stopTrace(): TraceSample[] {
    if (!this.trace) return []
    clearInterval(this.trace.timer)
    const out = this.trace.samples
    this.trace = null
    return out
  }

  /** Join by invite; the times of the phases the node reports. */
  async join(code: string, timeout: number): Promise<Record<string, number>> {
    const times: Record<string, number> = { started: now() }
    const detail = await this.app.projects.join(code, {
      timeout,
      onProgress: (p) => {
        if (times[p.phase] === undefined) times[p.phase] = now()
      }
    })
    times.joined = now()
    await this.use(detail.key)
    return times
  }

  private body(i: number): OpBody {
    return { type: 'post/add', text: postText(i), replyTo: null }
  }

  async write(n: number, mode: WriteMode, batch: number): Promise<WriteResult> {
    const p = this.p
    const started = now()
    switch (mode) {
      case 'cli-serial':
        for (let i = 0; i < n; i++) await this.app.content.post(this.projectKey, postText(i))
        break
      case 'serial':
        for (let i = 0; i < n; i++) await p.append(this.body(i))
        break
      case 'burst': {
        const all: Promise<unknown>[] = []
        for (let i = 0; i < n; i++) all.push(p.append(this.body(i)))
        await Promise.all(all)
        break
      }
      case 'api-burst': {
        const all: Promise<unknown>[] = []
        for (let i = 0; i < n; i++) all.push(this.app.content.post(this.projectKey, postText(i)))
        await Promise.all(all)
        break
      }
      case 'batch':
        // Flux has no array append in its API: a batch is a burst of `batch` concurrent posts
        for (let i = 0; i < n; i += batch) {
          const all: Promise<unknown>[] = []
          for (let j = i; j < Math.min(n, i + batch); j++) all.push(p.append(this.body(j)))
          await Promise.all(all)
        }
        break
    }
    const acked = now()
    await p.update()
    return { started, acked, applied: now() }
  }

  /** One post as the CLI issues it; `t0` before the call, `t1` when acknowledged. */
  async postOne(i: number): Promise<{ t0: number; t1: number }> {
    const t0 = now()
    await this.app.content.post(this.projectKey, postText(i))
    return { t0, t1: now() }
  }

  async applied(): Promise<number> {
    return (await this.p.view.system()).applied
  }

  snapshot(): Snapshot {
    // while joining, the project exists before join() returns
    const p = this.project ?? this.node.projects.list()[0]
    if (!p) throw new Error('no project yet')
    const snap = p.base.view.snapshot()
    const view = new ProjectView(snap)
    return {
      applied: async () => (await view.system()).applied,
      hash: () => view.stateHash(),
      tree: () => treeId(snap),
      close: () => snap.close()
    }
  }

  onUpdate(fn: () => void): () => void {
    // the node's event covers a project that is still being joined
    this.node.on('project-update', fn)
    return () => this.node.off('project-update', fn)
  }

  peers(): number {
    return [...this.node.network.sessions.values()].filter((s) => s.admitted).length
  }

  async info(): Promise<Record<string, unknown>> {
    const base = this.p.base
    const writers = [...base.activeWriters].map((w) => ({
      length: w.core.length,
      contiguous: w.core.contiguousLength,
      bytes: w.core.byteLength
    }))
    return {
      system: (base as unknown as TracedBase).core?.length ?? 0,
      local: { length: base.local.length, bytes: base.local.byteLength },
      view: { length: base.view.core.length, bytes: base.view.core.byteLength, ...this.viewStats },
      writers,
      peers: this.peers()
    }
  }

  async close(): Promise<void> {
    if (this.daemon) await this.daemon.stop()
    else await this.node.close()
  }
}
