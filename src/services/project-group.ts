/**
 * A project's group: the live full copies (replicas) that keep it available, kept at the
 * project's target (`project/replicas`, default 3) by the members themselves.
 *
 * A live copy is this node, or a connected peer (member or host alike) that holds every block
 * of the writer cores this node follows, as hypercore's replication tells. When fewer than the
 * target are live for GRACE of mesh time, the member looks up volunteers (nodes that offer
 * storage with `flux host offer`, announced on one topic) and asks the first that does not
 * hold a copy to host the project: volunteers are ranked by the XOR distance of their peer id
 * to the project's discovery key, so members that see the same volunteers ask the same one. At
 * most one request per project is in flight (until that volunteer holds a current copy, or
 * RECRUIT_WAIT), so a change costs a bounded amount of work; a copy that comes back makes the
 * count go up again, and nothing is taken from it (an extra copy is harmless).
 */
import { Service } from '../util/service.js'
import type { Clock, Timer } from '../util/clock.js'
import { fromHex, toHex } from '../identity/keys.js'
import { DEFAULT_REPLICAS } from '../project/ops.js'
import type { Project } from '../project/project.js'
import type { ChannelPeer } from '../swarm/channels.js'
import type { Network } from '../swarm/network.js'
import { VOLUNTEER_TOPIC } from '../swarm/topics.js'
import type { ProjectHosts } from './project-hosts.js'
import type { ProjectRegistry } from './projects.js'

/** How long a project may stay below its target before a volunteer is asked (mesh time). */
export const GRACE = 10 * 60_000
/** How long to wait for an asked volunteer before asking the next. */
export const RECRUIT_WAIT = 2 * 60_000
/** How often the groups are looked at (besides on every change). */
const TICK = 5_000
/** Changes are looked at together, at most once per this many ms. */
const SETTLE = 500

/** One live copy of a project, as this node sees it. */
export interface Replica {
  /** The peer's swarm key (hex), or null for this node. */
  peer: string | null
  held: number
  known: number
  current: boolean
}

export interface GroupState {
  target: number
  live: number
  degraded: boolean
  /** Since when (mesh time) it has been below the target, or null. */
  degradedSince: number | null
  replicas: Replica[]
  /** The volunteer asked last, while the request stands. */
  asked: string | null
}

export interface ProjectGroupEvents {
  /** A project went below its target, or back to it. */
  'group-status': [info: { key: string; live: number; target: number; degraded: boolean }]
  /** A volunteer was asked to host a project (and whether it agreed). */
  'group-recruit': [info: { key: string; peer: string; ok: boolean; reason: string | null }]
  warning: [err: unknown]
}

export interface ProjectGroupDeps {
  clock: Clock
  network: Network
  projects: ProjectRegistry
  projectHosts: ProjectHosts
}

export class ProjectGroup extends Service<ProjectGroupEvents> {
  /** Volunteers connected now, with the bytes they offer. */
  private readonly volunteers = new Map<string, { free: number; peer: ChannelPeer }>()
  private readonly degradedSince = new Map<string, number>()
  private readonly asked = new Map<string, { peer: string; at: number }>()
  private readonly degraded = new Map<string, boolean>()
  private timer: Timer | null = null
  private settling: Timer | null = null
  private looking = false
  private running = false
  private again = false

  constructor(private readonly deps: ProjectGroupDeps) {
    super()
    const { channel } = deps.projectHosts
    channel.onEvent('offer', (m, peer) => {
      this.volunteers.set(peer.id, { free: m.free, peer })
      this.soon()
    })
    channel.on('close', (peer) => {
      this.volunteers.delete(peer.id)
      this.soon()
    })
    deps.projects.on('project-update', () => this.soon())
    deps.projects.on('project-close', (key) => {
      this.degradedSince.delete(key)
      this.asked.delete(key)
      this.degraded.delete(key)
    })
  }

  protected override async _open(): Promise<void> {
    this.timer = this.deps.clock.setInterval(() => this.soon(), TICK)
  }

  protected override async _close(): Promise<void> {
    this.timer?.clear()
    this.timer = null
    this.settling?.clear()
  }

  /** The group of one project as this node sees it now. */
  async state(project: Project): Promise<GroupState> {
    const key = toHex(project.key)
    const target = (await project.view.project())?.replicas?.value ?? DEFAULT_REPLICAS
    const replicas = copies(project)
    const live = replicas.filter((r) => r.current).length
    const since = this.degradedSince.get(key) ?? null
    return {
      target,
      live,
      degraded: live < target,
      degradedSince: since,
      replicas,
      asked: this.asked.get(key)?.peer ?? null
    }
  }

  /** Look at every group now (tests; the tick and every change do it too). */
  async check(): Promise<void> {
    let short = false
    for (const project of this.deps.projects.list()) {
      if (this.closing) return
      if (project.closing || !(await readable(project))) continue
      if (await this.checkOne(project)) short = true
    }
    // volunteers are looked up only while some project is short of copies
    if (short !== this.looking && !this.closing) {
      this.looking = short
      const { topics } = this.deps.network
      if (short) await topics.join(VOLUNTEER_TOPIC, 'group', { server: false, client: true })
      else await topics.leave(VOLUNTEER_TOPIC, 'group')
    }
  }

  /** Volunteers connected now (their peer ids, hex), nearest to nothing in particular. */
  volunteerIds(): string[] {
    return [...this.volunteers.keys()]
  }

  /** Look again shortly (changes come in bursts: at most one look per SETTLE). */
  private soon(): void {
    if (this.settling !== null || this.closing || !this.opened) return
    this.settling = this.deps.clock.setTimeout(() => {
      this.settling = null
      this.look()
    }, SETTLE)
  }

  private look(): void {
    if (this.closing) return
    if (this.running) {
      this.again = true
      return
    }
    this.running = true
    this.again = false
    this.check()
      .catch((err: unknown) => this.emit('warning', err))
      .finally(() => {
        this.running = false
        if (this.again) this.look()
      })
  }

  /** Whether the project is short of live copies. */
  private async checkOne(project: Project): Promise<boolean> {
    const key = toHex(project.key)
    const now = this.deps.clock.now()
    const s = await this.state(project)
    if (this.degraded.get(key) !== s.degraded) {
      this.degraded.set(key, s.degraded)
      this.emit('group-status', { key, live: s.live, target: s.target, degraded: s.degraded })
    }
    if (!s.degraded) {
      this.degradedSince.delete(key)
      this.asked.delete(key)
      return false
    }
    const since = this.degradedSince.get(key)
    if (since === undefined) {
      this.degradedSince.set(key, now)
      return true
    }
    if (now - since < GRACE) return true
    let pending = this.asked.get(key)
    // the volunteer asked last now holds a current copy: the next one may be asked
    if (pending !== undefined && s.replicas.some((r) => r.peer === pending?.peer && r.current)) {
      this.asked.delete(key)
      pending = undefined
    }
    if (pending !== undefined && now - pending.at < RECRUIT_WAIT) return true
    const holding = new Set(s.replicas.map((r) => r.peer))
    const next = rankVolunteers(
      toHex(project.discoveryKey),
      [...this.volunteers].filter(([id, v]) => v.free > 0 && !holding.has(id)).map(([id]) => id)
    ).filter((id) => id !== pending?.peer)[0]
    if (next === undefined) return true
    this.asked.set(key, { peer: next, at: now })
    const volunteer = this.volunteers.get(next)
    if (!volunteer) return true
    const answer = await this.deps.projectHosts.channel.request(
      volunteer.peer,
      'host',
      { key },
      30_000
    )
    this.emit('group-recruit', {
      key,
      peer: next,
      ok: answer?.ok === true,
      reason: answer?.reason ?? (answer === null ? 'no answer' : null)
    })
    return true
  }
}

/** Volunteers (hex peer ids) in the order a project asks them: XOR distance to its key. */
export function rankVolunteers(discovery: string, peers: string[]): string[] {
  const d = fromHex(discovery)
  const distance = (p: string): Buffer => {
    const k = fromHex(p)
    const out = Buffer.alloc(32)
    for (let i = 0; i < 32; i++) out[i] = (k[i] as number) ^ (d[i] as number)
    return out
  }
  // ties by code point, not localeCompare: an order peers share must not depend on a locale
  return [...peers].sort(
    (a, b) => Buffer.compare(distance(a), distance(b)) || (a < b ? -1 : a > b ? 1 : 0)
  )
}

/**
 * The live copies of a project: this node, and every connected peer, each with the blocks it
 * holds of the writer cores this node follows (hypercore tells each peer's contiguous length),
 * against the blocks known. A member and a host count alike: a copy is a copy.
 */
function copies(project: Project): Replica[] {
  let known = 0
  let mine = 0
  // per peer: blocks held (up to what we know) and whether it holds all we hold
  const peers = new Map<string, { held: number; all: boolean }>()
  const writers = [...project.base.activeWriters].map(
    (w) => w.core as { length: number; contiguousLength: number; peers: CorePeer[] }
  )
  let behind = false
  for (const core of writers) {
    known += core.length
    mine += core.contiguousLength
    for (const p of core.peers) {
      const id = toHex(p.remotePublicKey)
      const x = peers.get(id) ?? { held: 0, all: true }
      x.held += Math.min(core.length, p.remoteContiguousLength)
      if (p.remoteContiguousLength < core.contiguousLength) x.all = false
      if (p.remoteContiguousLength > core.contiguousLength) behind = true
      peers.set(id, x)
    }
  }
  // a block known but held by nobody online (its writer went offline first) keeps no one from
  // being a live copy: a copy is current when it holds all that can be held now
  const out: Replica[] = [{ peer: null, held: mine, known, current: !behind && mine > 0 }]
  for (const [peer, x] of peers) {
    if (x.held === 0) continue // connected, holding none of it: not a copy
    // a peer's cores we follow but it does not replicate with us count as not held
    const all =
      x.all &&
      writers.every(
        (c) => c.contiguousLength === 0 || c.peers.some((p) => toHex(p.remotePublicKey) === peer)
      )
    out.push({ peer, held: x.held, known, current: all })
  }
  return out
}

interface CorePeer {
  remotePublicKey: Buffer
  remoteContiguousLength: number
}

async function readable(project: Project): Promise<boolean> {
  return project.base.encryptionKey !== null || (await project.readable())
}
