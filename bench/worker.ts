/**
 * The bench worker: one child process that runs Flux nodes, raw Autobases, raw Hypercores or
 * autopass instances ("actors") and takes commands from the orchestrator over IPC.
 * Usage: forked by bench/lib/worker-process.ts; never run by hand.
 */
import { FluxActor } from './worker/flux-actor.js'
import { IdleRawNode, RawActor } from './worker/raw-actor.js'
import { CoreActor } from './worker/core-actor.js'
import { AutopassActor } from './worker/autopass-actor.js'
import { HashWatch } from './worker/watch.js'
import { turnOff } from './worker/without.js'
import { hit, rawClose, rawListen } from './worker/storm.js'
import type { Replica, WriteMode } from './worker/replica.js'
import type { FromWorker, HashSeen, Request } from './lib/protocol.js'
import { errorText, firstPass, now, sleep, within } from './lib/util.js'
import inspector from 'inspector'
import fs from 'fs'
import path from 'path'

/** A CPU profiler for diagnosis ('profile.start', 'profile.stop'): where a slow step spends its time. */
let profiler: inspector.Session | null = null
function post(method: string, params: object = {}): Promise<unknown> {
  return new Promise((resolve, reject) =>
    profiler?.post(method, params, (err, res) => (err ? reject(err) : resolve(res)))
  )
}

type Actor = FluxActor | RawActor | CoreActor | AutopassActor | IdleRawNode
type Args = Record<string, unknown>

turnOff((process.env.FLUX_BENCH_WITHOUT ?? '').split(',').filter(Boolean))

const actors = new Map<string, Actor>()
const watches = new Map<string, HashWatch>()

function send(msg: FromWorker): void {
  if (process.connected) process.send?.(msg)
}

function str(a: Args, k: string): string {
  const v = a[k]
  if (typeof v !== 'string') throw new Error(`missing ${k}`)
  return v
}
function num(a: Args, k: string, dflt?: number): number {
  const v = a[k]
  if (typeof v === 'number') return v
  if (dflt !== undefined) return dflt
  throw new Error(`missing ${k}`)
}
function list(a: Args, k: string): string[] {
  const v = a[k]
  if (!Array.isArray(v)) throw new Error(`missing ${k}`)
  return v as string[]
}

function actor<T extends Actor>(a: Args, kind: new (...x: never[]) => T): T {
  const id = str(a, 'id')
  const x = actors.get(id)
  if (!(x instanceof kind)) throw new Error(`no ${kind.name} "${id}" in this worker`)
  return x
}

function replica(a: Args): Replica {
  const id = str(a, 'id')
  const x = actors.get(id)
  if (x instanceof FluxActor || x instanceof RawActor) return x
  throw new Error(`no replica "${id}" in this worker`)
}

function add(id: string, x: Actor): void {
  if (actors.has(id)) throw new Error(`actor "${id}" exists`)
  actors.set(id, x)
}

/** Resolve with the time the replica first had applied at least `count` ops. */
function waitApplied(r: Replica, count: number, timeout: number): Promise<number> {
  return firstPass(
    async () => {
      const at = now()
      return (await r.applied()) >= count ? at : null
    },
    (fn) => r.onUpdate(fn),
    { poll: 200, timeout, what: `${count} ops applied` }
  )
}

function du(dir: string): number {
  let n = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) n += du(p)
    else if (e.isFile()) n += fs.statSync(p).size
  }
  return n
}

/** RSS after forcing garbage collection and letting things settle. */
async function memory(
  settle: number,
  collect: boolean
): Promise<{ rss: number; heapUsed: number; external: number }> {
  const gc = collect ? (globalThis as { gc?: () => void }).gc : undefined
  for (let i = 0; i < 3; i++) {
    gc?.()
    await sleep(settle / 3)
  }
  gc?.()
  const m = process.memoryUsage()
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external + m.arrayBuffers }
}

const commands: Record<string, (a: Args) => Promise<unknown>> = {
  async 'flux.start'(a) {
    const x = await FluxActor.start({
      home: str(a, 'home'),
      bootstrap: list(a, 'bootstrap'),
      pairingPoll: typeof a.pairingPoll === 'number' ? a.pairingPoll : undefined,
      daemon: a.daemon === true
    })
    add(str(a, 'id'), x)
    return { peerId: x.node.peerId }
  },
  async 'flux.create'(a) {
    return { key: await actor(a, FluxActor).create(str(a, 'name')) }
  },
  async 'flux.use'(a) {
    await actor(a, FluxActor).use(str(a, 'key'))
    return null
  },
  async 'flux.invite'(a) {
    return { code: await actor(a, FluxActor).invite(num(a, 'uses', 1)) }
  },
  async 'flux.join'(a) {
    const x = actor(a, FluxActor)
    const times = await x.join(str(a, 'code'), num(a, 'timeout', 60_000))
    return { key: x.projectKey, times }
  },
  async 'flux.trace'(a) {
    actor(a, FluxActor).startTrace(num(a, 'every', 250))
    return null
  },
  async 'flux.untrace'(a) {
    return actor(a, FluxActor).stopTrace()
  },
  /** How long the node takes to describe its project (what join(), `project show` and status return). */
  async 'flux.describe'(a) {
    const x = actor(a, FluxActor)
    const p = await x.node.projects.resolve(x.projectKey)
    let t = now()
    await x.app.projects.summaries()
    const summaryMs = now() - t
    t = now()
    await x.app.projects.describe(p)
    return { summaryMs, describeMs: now() - t }
  },
  async 'flux.post'(a) {
    return actor(a, FluxActor).postOne(num(a, 'i', 0))
  },
  async 'raw.start'(a) {
    const x = await RawActor.start({
      dir: str(a, 'dir'),
      bootstrap: Array.isArray(a.bootstrap) ? (a.bootstrap as string[]) : null,
      key: typeof a.key === 'string' ? a.key : null
    })
    add(str(a, 'id'), x)
    return { key: x.key, writer: x.writerKey }
  },
  async 'raw.idle'(a) {
    add(str(a, 'id'), await IdleRawNode.start(str(a, 'dir'), list(a, 'bootstrap')))
    return null
  },
  async 'raw.addWriters'(a) {
    await actor(a, RawActor).addWriters(list(a, 'keys'), a.indexer !== false)
    return null
  },
  async 'raw.waitWritable'(a) {
    const x = actor(a, RawActor)
    await within(
      x.base.waitForWritable(),
      num(a, 'timeout', 30_000),
      'raw writer to become writable'
    )
    await x.base.update()
    return null
  },
  async 'raw.post'(a) {
    return actor(a, RawActor).postOne(num(a, 'i', 0))
  },
  async write(a) {
    return replica(a).write(num(a, 'n'), str(a, 'mode') as WriteMode, num(a, 'batch', 100))
  },
  async applied(a) {
    return replica(a).applied()
  },
  async waitApplied(a) {
    return waitApplied(replica(a), num(a, 'count'), num(a, 'timeout', 30_000))
  },
  async hash(a) {
    const snap = replica(a).snapshot()
    try {
      return { applied: await snap.applied(), hash: await snap.hash() }
    } finally {
      await snap.close()
    }
  },
  async tree(a) {
    const snap = replica(a).snapshot()
    try {
      return { applied: await snap.applied(), tree: await snap.tree() }
    } finally {
      await snap.close()
    }
  },
  /** Report the view's hash (event 'hash') every time it changes once `target` ops are applied. */
  async watch(a) {
    const id = str(a, 'id')
    const r = replica(a)
    watches.get(id)?.close()
    const w = new HashWatch(
      str(a, 'name'),
      () => r.snapshot(),
      num(a, 'target', 0),
      (seen: HashSeen) => send({ kind: 'event', topic: 'hash', data: seen }),
      a.content === true
    )
    const off = r.onUpdate(() => w.trigger())
    const close = w.close.bind(w)
    w.close = () => {
      off()
      close()
    }
    watches.set(id, w)
    return null
  },
  async waitHash(a) {
    const w = watches.get(str(a, 'id'))
    if (!w) throw new Error('no watch')
    return w.waitFor(str(a, 'hash'), num(a, 'timeout', 30_000))
  },
  async unwatch(a) {
    const id = str(a, 'id')
    watches.get(id)?.close()
    watches.delete(id)
    return null
  },
  async peers(a) {
    return replica(a).peers()
  },
  async info(a) {
    const x = actors.get(str(a, 'id'))
    if (x instanceof CoreActor) return x.info()
    return replica(a).info()
  },
  async 'core.open'(a) {
    const x = await CoreActor.open(str(a, 'dir'), typeof a.key === 'string' ? a.key : null)
    add(str(a, 'id'), x)
    return { key: (x.core.key as Buffer).toString('hex') }
  },
  async 'core.append'(a) {
    return actor(a, CoreActor).append(num(a, 'n'), num(a, 'size', 200), num(a, 'batch', 1))
  },
  async 'core.serve'(a) {
    await actor(a, CoreActor).serve(list(a, 'bootstrap'))
    return null
  },
  async 'core.fetch'(a) {
    return actor(a, CoreActor).fetch(list(a, 'bootstrap'), num(a, 'length'))
  },
  async 'ap.create'(a) {
    const x = await AutopassActor.create(str(a, 'dir'), list(a, 'bootstrap'))
    add(str(a, 'id'), x)
    return null
  },
  async 'ap.invite'(a) {
    return { code: await actor(a, AutopassActor).invite() }
  },
  async 'ap.pair'(a) {
    const { actor: x, times } = await AutopassActor.pair(
      str(a, 'dir'),
      list(a, 'bootstrap'),
      str(a, 'invite')
    )
    add(str(a, 'id'), x)
    return { times }
  },
  async 'ap.write'(a) {
    return actor(a, AutopassActor).write(num(a, 'n'), str(a, 'mode') as WriteMode)
  },
  async 'ap.waitEntries'(a) {
    return actor(a, AutopassActor).waitEntries(num(a, 'n'), num(a, 'timeout', 60_000))
  },
  async 'profile.start'() {
    profiler ??= new inspector.Session()
    profiler.connect()
    await post('Profiler.enable')
    await post('Profiler.start')
    return null
  },
  /** Stop profiling and write a .cpuprofile (open in Chrome DevTools) to `file`. */
  async 'profile.stop'(a) {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown }
    fs.writeFileSync(str(a, 'file'), JSON.stringify(profile))
    profiler?.disconnect()
    profiler = null
    return null
  },
  async memory(a) {
    return memory(num(a, 'settle', 1500), a.gc !== false)
  },
  /** A Flux node listening for strangers (as one holding a project does): its public key. */
  async 'storm.fluxListen'(a) {
    const x = actor(a, FluxActor)
    await x.node.network.swarm.listen()
    return x.node.network.publicKey.toString('hex')
  },
  async 'storm.rawListen'(a) {
    return rawListen(list(a, 'bootstrap'))
  },
  async 'storm.rawClose'() {
    await rawClose()
    return null
  },
  async 'storm.hit'(a) {
    return hit(list(a, 'bootstrap'), str(a, 'key'), num(a, 'n'))
  },
  /** How long folding the project's credits takes, against its summary (what status reads). */
  async 'credits.fold'(a) {
    const x = actor(a, FluxActor)
    let t = now()
    await x.app.projects.summaries()
    const summaryMs = now() - t
    t = now()
    const [report] = await x.app.credits.credits(x.projectKey)
    const foldMs = now() - t
    const view = x.project?.base.view.core.length ?? 0
    return { foldMs, summaryMs, members: report?.members.length ?? 0, view }
  },
  /** Host a project by key (`flux host add`). */
  async 'host.add'(a) {
    return actor(a, FluxActor).app.hosting.add(str(a, 'key'))
  },
  /** Resolve once the hosted project is current (every core the members told of, held). */
  async 'host.wait'(a) {
    const x = actor(a, FluxActor)
    const key = str(a, 'key')
    return firstPass(
      async () => {
        const at = now()
        const info = x.app.hosting.list().find((h) => h.key === key)
        const done = info && info.cores >= 2 && info.known > 0 && info.status === 'current'
        return done ? { at, info } : null
      },
      (fn) => {
        x.node.projectHosts.on('host-status', fn)
        return () => x.node.projectHosts.off('host-status', fn)
      },
      { poll: 100, timeout: num(a, 'timeout', 60_000), what: 'the host to be current' }
    )
  },
  /** Bytes of the files under a folder (what a home takes on disk). */
  async du(a) {
    return { bytes: du(str(a, 'dir')) }
  },
  async close(a) {
    const id = str(a, 'id')
    watches.get(id)?.close()
    watches.delete(id)
    const x = actors.get(id)
    actors.delete(id)
    await x?.close()
    return null
  },
  async exit() {
    setImmediate(() => void shutdown(0))
    return null
  }
}

let shuttingDown = false
async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return
  shuttingDown = true
  for (const w of watches.values()) w.close()
  const all = [...actors.values()].reverse()
  actors.clear()
  await within(Promise.allSettled(all.map((x) => x.close())), 10_000, 'closing the worker').catch(
    () => {}
  )
  process.exit(code)
}

process.on('message', (msg: Request) => {
  if (msg?.kind !== 'req') return
  const fn = commands[msg.cmd]
  if (!fn) {
    send({ kind: 'res', id: msg.id, ok: false, error: `unknown command ${msg.cmd}` })
    return
  }
  fn(msg.args ?? {}).then(
    (value) => send({ kind: 'res', id: msg.id, ok: true, value: value ?? null }),
    (err) => send({ kind: 'res', id: msg.id, ok: false, error: errorText(err) })
  )
})

// the orchestrator is gone (crashed or killed): never outlive it
process.on('disconnect', () => void shutdown(1))
process.on('SIGTERM', () => void shutdown(1))
process.on('uncaughtException', (err) => process.stderr.write(`uncaught: ${err.stack ?? err}\n`))
process.on('unhandledRejection', (err) => process.stderr.write(`unhandled: ${errorText(err)}\n`))
