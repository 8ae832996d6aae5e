/**
 * Setting up groups of peers for a measurement: a Flux project whose members each run in a
 * worker, or a raw Autobase whose writers do; and waiting until their views are identical.
 */
import type { BenchContext } from './context.js'
import type { WorkerProcess } from './worker-process.js'
import type { HashSeen } from './protocol.js'
import { pollUntil, TimeoutError } from './util.js'

/** One replica: an actor `id` inside worker `w`. */
export interface Member {
  w: WorkerProcess
  id: string
}

export interface Group {
  kind: 'flux' | 'raw'
  members: Member[]
  /** Project key (z32) for Flux, base key (hex) for raw. */
  key: string
}

let seq = 0
const nextId = (p: string): string => `${p}${++seq}`

/**
 * A Flux project with one member per worker: the first creates it, the others join with one
 * invite of `workers.length - 1` uses, all at once.
 */
export async function fluxGroup(
  ctx: BenchContext,
  workers: WorkerProcess[],
  opts: { pairingPoll?: number; joinTimeout?: number } = {}
): Promise<Group & { joins: Array<Record<string, number>> }> {
  const members: Member[] = []
  await Promise.all(
    workers.map(async (w) => {
      const id = nextId('flux')
      await w.call('flux.start', {
        id,
        home: ctx.dir(id),
        bootstrap: ctx.bootstrap,
        pairingPoll: opts.pairingPoll ?? 500
      })
      members.push({ w, id })
    })
  )
  members.sort((a, b) => workers.indexOf(a.w) - workers.indexOf(b.w))
  const [first, ...rest] = members as [Member, ...Member[]]
  const { key } = await first.w.call<{ key: string }>('flux.create', {
    id: first.id,
    name: 'bench'
  })
  const joins: Array<Record<string, number>> = []
  if (rest.length > 0) {
    const { code } = await first.w.call<{ code: string }>('flux.invite', {
      id: first.id,
      uses: rest.length
    })
    const timeout = opts.joinTimeout ?? 90_000
    await Promise.all(
      rest.map(async (m) => {
        const r = await m.w.call<{ times: Record<string, number> }>(
          'flux.join',
          { id: m.id, code, timeout },
          timeout + 5_000
        )
        joins.push(r.times)
      })
    )
  }
  return { kind: 'flux', members, key, joins }
}

/** A raw Autobase with one writer per worker, every writer an indexer (the naive setup). */
export async function rawGroup(
  ctx: BenchContext,
  workers: WorkerProcess[],
  indexers = true
): Promise<Group> {
  const [w0, ...others] = workers as [WorkerProcess, ...WorkerProcess[]]
  const first: Member = { w: w0, id: nextId('raw') }
  const { key } = await w0.call<{ key: string }>('raw.start', {
    id: first.id,
    dir: ctx.dir(first.id),
    bootstrap: ctx.bootstrap,
    key: null
  })
  const rest: Member[] = others.map((w) => ({ w, id: nextId('raw') }))
  const writers = await Promise.all(
    rest.map(async (m) => {
      const r = await m.w.call<{ writer: string }>('raw.start', {
        id: m.id,
        dir: ctx.dir(m.id),
        bootstrap: ctx.bootstrap,
        key
      })
      return r.writer
    })
  )
  if (writers.length > 0) {
    await w0.call('raw.addWriters', { id: first.id, keys: writers, indexer: indexers })
    await Promise.all(
      rest.map((m) => m.w.call('raw.waitWritable', { id: m.id, timeout: 60_000 }, 65_000))
    )
  }
  return { kind: 'raw', members: [first, ...rest], key }
}

/** Wait until every member has at least `min` peers; returns the smallest count seen. */
export async function waitMesh(group: Group, min: number, timeout: number): Promise<number> {
  let least = 0
  try {
    await pollUntil(
      'peers to connect',
      async () => {
        const counts = await Promise.all(
          group.members.map((m) => m.w.call<number>('peers', { id: m.id }))
        )
        least = Math.min(...counts)
        return least >= min
      },
      timeout,
      200
    )
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err
  }
  return least
}

export interface Converged {
  at: number
  hash: string
  /** Each member's report at convergence (when it reached the target, how long hashing took). */
  seen: HashSeen[]
  /** How many distinct hashes each member reported after reaching the target. */
  reports: number[]
}

/**
 * Watch every member's view and resolve when all hold the same hash, with at least `target`
 * ops applied. Resolves with the time (worker clock, comparable across processes) at which
 * the last of them reached that hash.
 */
export async function converged(
  group: Group,
  target: number,
  timeout: number,
  start: () => Promise<void> = async () => {}
): Promise<Converged> {
  const name = nextId('watch')
  const latest = new Map<string, HashSeen>()
  const reports = new Map<string, number>()
  let resolve!: (v: Converged) => void
  const done = new Promise<Converged>((r) => (resolve = r))
  const offs = group.members.map((m) =>
    m.w.onEvent((e) => {
      if (e.topic !== 'hash') return
      const seen = e.data as HashSeen
      if (seen.watch !== `${name}:${m.id}`) return
      latest.set(m.id, seen)
      reports.set(m.id, (reports.get(m.id) ?? 0) + 1)
      if (latest.size < group.members.length) return
      const all = [...latest.values()]
      const h = all[0]?.hash
      if (all.every((s) => s.hash === h)) {
        resolve({
          at: Math.max(...all.map((s) => s.at)),
          hash: h as string,
          seen: all,
          reports: group.members.map((x) => reports.get(x.id) ?? 0)
        })
      }
    })
  )
  let timer: NodeJS.Timeout | null = null
  try {
    await Promise.all(
      group.members.map((m) => m.w.call('watch', { id: m.id, name: `${name}:${m.id}`, target }))
    )
    await start()
    return await Promise.race([
      done,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const seen = group.members.map((m) => {
            const s = latest.get(m.id)
            return s ? `${s.applied}/${s.hash.slice(0, 6)}` : 'none'
          })
          reject(
            new TimeoutError(
              `views to converge (applied/hash: ${seen.join(', ')}; target ${target})`,
              timeout
            )
          )
        }, timeout)
      })
    ])
  } finally {
    if (timer) clearTimeout(timer)
    for (const off of offs) off()
    await Promise.all(group.members.map((m) => m.w.call('unwatch', { id: m.id }).catch(() => {})))
  }
}

export async function closeGroup(group: Group): Promise<void> {
  await Promise.all(
    group.members.map((m) => m.w.call('close', { id: m.id }, 20_000).catch(() => {}))
  )
}
