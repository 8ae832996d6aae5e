/**
 * Hosting projects for offline peers (`flux host add`). A host keeps every core of a project
 * it holds by key (every writer's core and the view cores), stays on the project's topic and
 * serves whoever asks; without the encryption key it stores the blocks and reads nothing.
 *
 * Over 'flux/project-hosting/v1':
 * - a host asks each peer it admits which cores make up each project it hosts (`cores`, by
 *   discovery key); a member answers from its view (every member's writers, the view cores)
 *   and remembers the asker, so that a new writer or view core is pushed to it (`project-cores`);
 * - a member's node that closes first waits, briefly, until the hosts connected to it hold
 *   its writer cores to their end (`settle`), so a post made just before going offline is kept;
 * - anyone holding a project's data can check a host (`blocks`): it asks for random blocks,
 *   salted with a fresh nonce, and compares them with its own copy. A host answers only from
 *   its own storage, never by fetching the block on demand.
 *
 * A quota bounds the bytes of blocks kept per project: reaching it stops the downloads of that
 * project (status `quota-reached`), nothing else. Why Flux's own channel and not blind-peer:
 * see DESIGN.md "Hosting projects for offline peers".
 */
import crypto from 'crypto'
import hypercoreCrypto from 'hypercore-crypto'
import type Hypercore from 'hypercore'
import type Corestore from 'corestore'
import { Service } from '../util/service.js'
import type { Clock } from '../util/clock.js'
import { Mutex } from '../util/mutex.js'
import { FluxError } from '../errors.js'
import { isHexKey, isObj } from '../autobase/shapes.js'
import { fromHex, toHex } from '../identity/keys.js'
import { FeatureChannel, type ChannelPeer } from '../swarm/channels.js'
import { VOLUNTEER_TOPIC, projectTopic } from '../swarm/topics.js'
import type { Network } from '../swarm/network.js'
import type { HostedProject, NodeState } from '../store/node-state.js'
import type { Project } from '../project/project.js'
import type { HostCheckResult, HostedProjectInfo } from '../api.js'
import { coresOf, purgeCores, type ProjectRegistry } from './projects.js'

/** Most cores a hosted project may have (writers and views). */
export const MAX_HOSTED_CORES = 256
/** Most blocks asked in one check. */
export const MAX_CHECK_BLOCKS = 16
const ASK_TIMEOUT = 10_000
/** Updates of a hosted project are looked at together, this long after the first. */
const PUSH_SETTLE = 250

interface ProjectCores {
  discovery: string
  cores: string[]
}

export type HostingEvents = {
  'project-cores': ProjectCores
  /** A node that volunteers storage: how many bytes it still offers. */
  offer: { free: number }
}
export type HostingRequests = {
  cores: [{ discovery: string }, ProjectCores]
  blocks: [{ core: string; indices: number[]; nonce: string }, { proofs: Array<string | null> }]
  /** A member asks a volunteer to host one of its projects (its key). */
  host: [{ key: string }, { ok: boolean; reason: string | null }]
}

const coresSpec = {
  maxBytes: 64 * (MAX_HOSTED_CORES + 4) + 256,
  parse: (v: unknown): ProjectCores | null =>
    isObj(v) &&
    isHexKey(v.discovery) &&
    Array.isArray(v.cores) &&
    v.cores.length <= MAX_HOSTED_CORES &&
    v.cores.every(isHexKey)
      ? { discovery: v.discovery, cores: v.cores as string[] }
      : null
}

/** A whole number from 0 (a block index, a byte count). */
const count = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0

export const projectHostingSpec = {
  protocol: 'flux/project-hosting/v1',
  events: {
    'project-cores': coresSpec,
    offer: {
      maxBytes: 64,
      parse: (v: unknown) => (isObj(v) && count(v.free) ? { free: v.free as number } : null)
    }
  },
  requests: {
    cores: {
      request: {
        maxBytes: 256,
        parse: (v: unknown) =>
          isObj(v) && isHexKey(v.discovery) ? { discovery: v.discovery } : null
      },
      response: coresSpec
    },
    host: {
      request: {
        maxBytes: 128,
        parse: (v: unknown) => (isObj(v) && isHexKey(v.key) ? { key: v.key } : null)
      },
      response: {
        maxBytes: 512,
        parse: (v: unknown) =>
          isObj(v) &&
          typeof v.ok === 'boolean' &&
          (v.reason === null || (typeof v.reason === 'string' && v.reason.length <= 300))
            ? { ok: v.ok, reason: v.reason as string | null }
            : null
      }
    },
    blocks: {
      request: {
        maxBytes: 1024,
        parse: (v: unknown) =>
          isObj(v) &&
          isHexKey(v.core) &&
          isHexKey(v.nonce) &&
          Array.isArray(v.indices) &&
          v.indices.length <= MAX_CHECK_BLOCKS &&
          v.indices.every(count)
            ? { core: v.core, nonce: v.nonce, indices: v.indices as number[] }
            : null
      },
      response: {
        maxBytes: 128 * MAX_CHECK_BLOCKS + 64,
        parse: (v: unknown) =>
          isObj(v) &&
          Array.isArray(v.proofs) &&
          v.proofs.length <= MAX_CHECK_BLOCKS &&
          v.proofs.every((p) => p === null || isHexKey(p))
            ? { proofs: v.proofs as Array<string | null> }
            : null
      }
    }
  }
}

/** How a hosted project is doing here. */
export type HostStatus = HostedProjectInfo['status']

/** One hosted project, as `flux host list` shows it (keys in hex; see api.ts). */
export type HostedInfo = Omit<HostedProjectInfo, 'member'>

/** The result of checking that a peer holds a project's data (see api.ts). */
export type HostCheck = Omit<HostCheckResult, 'attested'>

export interface ProjectHostsEvents {
  /** A hosted project's status changed (e.g. its quota was reached). */
  'host-status': [info: { key: string; status: HostStatus }]
  /** New cores of a hosted project were learned from a member. */
  'host-cores': [info: { key: string; cores: number }]
  /** A member asked us, a volunteer, to host its project, and we do. */
  'host-volunteered': [info: { key: string; quota: number }]
  warning: [err: unknown]
}

export interface ProjectHostsDeps {
  store: Corestore
  network: Network
  state: NodeState
  clock: Clock
  projects: ProjectRegistry
}

/** One core of a hosted project, its download, and the bytes of blocks held. */
interface Held {
  core: Hypercore
  range: { destroy(): void } | null
  bytes: number
}

interface Hosted {
  entry: HostedProject
  discovery: string
  cores: Map<string, Held>
  status: HostStatus
  lastActivity: number | null
}

export class ProjectHosts extends Service<ProjectHostsEvents> {
  readonly channel = new FeatureChannel<HostingEvents, HostingRequests>(projectHostingSpec)
  /** Hosted projects, by project key (hex). */
  private readonly hosted = new Map<string, Hosted>()
  /** Hosts that asked us about a project: discovery key (hex) -> their peer ids. */
  private readonly askers = new Map<string, Set<string>>()
  /** The cores last told to askers, per discovery key (to push only changes). */
  private readonly told = new Map<string, string>()
  private readonly lock = new Mutex()
  /** Projects whose core list will be looked at shortly (`pushSoon`). */
  private readonly pushing = new Set<string>()

  constructor(private readonly deps: ProjectHostsDeps) {
    super()
    this.channel.on('open', (peer) => {
      for (const h of this.hosted.values()) void this.ask(h, peer)
      const offer = this.offer()
      if (offer !== null) this.channel.send(peer, 'offer', offer)
    })
    this.channel.on('close', (peer) => {
      for (const set of this.askers.values()) set.delete(peer.id)
    })
    this.channel.handle('host', (m) => this.volunteer(m.key))
    this.channel.handle('cores', (m, peer) => this.answerCores(m.discovery, peer))
    this.channel.handle('blocks', (m) => this.answerBlocks(m))
    this.channel.onEvent('project-cores', (m) => {
      const h = this.byDiscovery(m.discovery)
      if (h) this.run(() => this.learn(h, m.cores))
    })
    deps.projects.on('project-update', (key) => this.pushSoon(key))
    deps.network.addChannel(this.channel)
  }

  protected override async _open(): Promise<void> {
    for (const entry of this.deps.state.hostedProjects()) await this.start(entry)
    if (this.deps.state.offer() !== null) await this.announceOffer(true)
  }

  protected override async _close(): Promise<void> {
    await this.lock.run(async () => {
      for (const h of this.hosted.values()) await this.stop(h)
      this.hosted.clear()
    })
  }

  /** Host a project by its key, or change its quota if it is hosted already. */
  async add(key: Buffer, quota: number | null): Promise<HostedInfo> {
    const hex = toHex(key)
    return this.lock.run(async () => {
      const known = this.hosted.get(hex)
      if (known) {
        known.entry = { ...known.entry, quota }
        await this.deps.state.putHostedProject(known.entry)
        if (known.status === 'quota-reached' && !this.overQuota(known)) {
          this.setStatus(known, 'syncing')
          for (const c of known.cores.values()) this.download(known, c)
        }
        this.checkQuota(known)
        return this.info(known)
      }
      const entry: HostedProject = { key: hex, quota, addedAt: this.deps.clock.now(), cores: [hex] }
      await this.deps.state.putHostedProject(entry)
      const h = await this.start(entry)
      for (const peer of this.channel.peers()) void this.ask(h, peer)
      return this.info(h)
    })
  }

  /** Stop hosting a project and free its space (unless this node is also a member of it). */
  async remove(key: Buffer): Promise<{ key: string; freed: boolean }> {
    const hex = toHex(key)
    return this.lock.run(async () => {
      const h = this.hosted.get(hex)
      if (!h) throw new FluxError('NOT_FOUND', `this node does not host project ${hex.slice(0, 8)}`)
      this.hosted.delete(hex)
      await this.stop(h)
      await this.deps.state.deleteHostedProject(hex)
      // a member's own project keeps its cores: only the hosting stops
      const member = this.deps.projects.get(hex) !== null
      if (!member) await purgeCores(this.deps.store, h.entry.cores.map(fromHex))
      return { key: hex, freed: !member }
    })
  }

  list(): HostedInfo[] {
    return [...this.hosted.values()].map((h) => this.info(h))
  }

  get(keyHex: string): HostedInfo | null {
    const h = this.hosted.get(keyHex)
    return h ? this.info(h) : null
  }

  /** Hosted projects whose key starts with `prefix` (hex). */
  keysByPrefix(prefix: string): string[] {
    return [...this.hosted.keys()].filter((k) => k.startsWith(prefix))
  }

  /**
   * Wait (at most `timeout` ms) until every host connected to us holds our writer cores of
   * every project to their end: what we wrote just before closing is then kept.
   */
  async settle(timeout: number): Promise<void> {
    const { clock } = this.deps
    const deadline = clock.now() + timeout
    for (const project of this.deps.projects.list()) {
      const hosts = this.askers.get(toHex(project.discoveryKey))
      if (!hosts || hosts.size === 0 || !project.writable) continue
      const local = project.base.local
      const held = (): boolean =>
        local.peers
          .filter((p) => hosts.has(toHex(p.remotePublicKey)))
          .every((p) => p.remoteContiguousLength >= local.length)
      // a host's download of each block is acknowledged on the peer: poll it, briefly
      while (!held() && clock.now() < deadline) {
        await new Promise((resolve) => clock.setTimeout(() => resolve(null), 20))
      }
    }
  }

  /**
   * Check that a connected peer holds a project's data: ask it for random blocks (salted with
   * a fresh nonce) among those we hold, and compare.
   */
  async check(peerHex: string, cores: Buffer[], blocks = 8): Promise<HostCheck> {
    const peer = this.channel.peers().find((p) => p.id === peerHex)
    if (!peer) {
      throw new FluxError('PEER_NOT_CONNECTED', `peer ${peerHex.slice(0, 8)} is not connected`)
    }
    const held: Array<{ core: Hypercore; key: Buffer }> = []
    for (const key of cores) {
      const core = this.deps.store.get({ key, active: false })
      await core.ready()
      if (checkable(core) > 0) held.push({ core, key })
      else await core.close()
    }
    const result: HostCheck = {
      ...{ peer: peerHex, project: '', asked: 0, passed: 0, missing: 0, wrong: 0, ok: false }
    }
    try {
      if (held.length === 0) {
        throw new FluxError('NOTHING_TO_CHECK', 'this node holds none of the project’s blocks')
      }
      const picks = new Map<number, Set<number>>()
      const n = Math.min(blocks, MAX_CHECK_BLOCKS)
      for (let i = 0; i < n; i++) {
        const c = crypto.randomInt(held.length)
        const set = picks.get(c) ?? new Set<number>()
        set.add(crypto.randomInt(checkable((held[c] as { core: Hypercore }).core)))
        picks.set(c, set)
      }
      for (const [c, set] of picks) {
        const { core, key } = held[c] as { core: Hypercore; key: Buffer }
        const indices = [...set]
        const nonce = crypto.randomBytes(32)
        const msg = { core: toHex(key), indices, nonce: toHex(nonce) }
        const answer = await this.channel.request(peer, 'blocks', msg, ASK_TIMEOUT)
        for (let i = 0; i < indices.length; i++) {
          result.asked++
          const theirs = answer?.proofs[i] ?? null
          if (theirs === null) {
            result.missing++
            continue
          }
          const mine = await blockProof(core, indices[i] as number, nonce)
          if (mine === theirs) result.passed++
          else result.wrong++
        }
      }
    } finally {
      for (const { core } of held) await core.close().catch(() => {})
    }
    result.ok = result.asked > 0 && result.passed === result.asked
    return result
  }

  private async start(entry: HostedProject): Promise<Hosted> {
    const key = fromHex(entry.key)
    const h: Hosted = {
      entry,
      discovery: toHex(hypercoreCrypto.discoveryKey(key)),
      cores: new Map(),
      status: 'syncing',
      lastActivity: null
    }
    this.hosted.set(entry.key, h)
    for (const core of entry.cores) await this.open(h, core)
    this.checkQuota(h)
    await this.deps.network.topics.join(projectTopic(fromHex(h.discovery)), `host/${entry.key}`)
    return h
  }

  private async stop(h: Hosted): Promise<void> {
    for (const { core, range } of h.cores.values()) {
      range?.destroy()
      await core.close().catch(() => {})
    }
    h.cores.clear()
    await this.deps.network.topics.leave(projectTopic(fromHex(h.discovery)), `host/${h.entry.key}`)
  }

  private async open(h: Hosted, keyHex: string): Promise<void> {
    if (h.cores.has(keyHex)) return
    const core = this.deps.store.get({ key: fromHex(keyHex) })
    await core.ready()
    // hypercore 11 counts no bytes held: exact for a core held whole or not at all, else in
    // proportion, then each block downloaded adds its size
    const part = core.length === 0 ? 0 : core.contiguousLength / core.length
    const held: Held = { core, range: null, bytes: Math.round(core.byteLength * part) }
    h.cores.set(keyHex, held)
    const touched = (): void => {
      h.lastActivity = this.deps.clock.now()
    }
    core.on('download', (_index: number, byteLength: number) => {
      held.bytes += byteLength
      touched()
      this.checkQuota(h)
    })
    core.on('upload', touched)
    core.on('append', () => this.checkQuota(h))
    this.download(h, held)
  }

  private download(h: Hosted, held: Held): void {
    if (h.status === 'quota-reached' || held.range !== null) return
    held.range = held.core.download({ start: 0, end: -1 })
  }

  /** Add the cores a member told us about (bounded), and download them. */
  private async learn(h: Hosted, cores: string[]): Promise<void> {
    if (this.hosted.get(h.entry.key) !== h) return
    const fresh = cores.filter((c) => !h.entry.cores.includes(c))
    const room = MAX_HOSTED_CORES - h.entry.cores.length
    if (fresh.length === 0 || room <= 0) return
    const added = fresh.slice(0, room)
    h.entry = { ...h.entry, cores: [...h.entry.cores, ...added] }
    await this.deps.state.putHostedProject(h.entry)
    for (const c of added) await this.open(h, c)
    this.emit('host-cores', { key: h.entry.key, cores: h.entry.cores.length })
  }

  private async ask(h: Hosted, peer: ChannelPeer): Promise<void> {
    const answer = await this.channel.request(
      peer,
      'cores',
      { discovery: h.discovery },
      ASK_TIMEOUT
    )
    if (answer !== null && answer.discovery === h.discovery)
      this.run(() => this.learn(h, answer.cores))
  }

  private async answerCores(discovery: string, peer: ChannelPeer): Promise<ProjectCores | null> {
    const project = this.readableProject(discovery)
    if (project === null) return null
    let set = this.askers.get(discovery)
    if (!set) this.askers.set(discovery, (set = new Set()))
    set.add(peer.id)
    const cores = await this.coresOf(project)
    this.told.set(discovery, cores.join())
    return { discovery, cores }
  }

  /**
   * A project changed: if hosts asked about it, look at its cores once the burst of updates
   * has settled (every post is an update; the core list changes only with the members).
   */
  private pushSoon(keyHex: string): void {
    const project = this.deps.projects.get(keyHex)
    if (project === null || !this.askers.get(toHex(project.discoveryKey))?.size) return
    if (this.pushing.has(keyHex) || this.closing) return
    this.pushing.add(keyHex)
    this.deps.clock.setTimeout(() => {
      this.pushing.delete(keyHex)
      this.run(() => this.push(keyHex))
    }, PUSH_SETTLE)
  }

  /** Tell the hosts that asked about a project of its new cores. */
  private async push(keyHex: string): Promise<void> {
    const project = this.deps.projects.get(keyHex)
    if (project === null) return
    const discovery = toHex(project.discoveryKey)
    const hosts = this.askers.get(discovery)
    if (!hosts || hosts.size === 0) return
    const cores = await this.coresOf(project)
    if (this.told.get(discovery) === cores.join()) return
    this.told.set(discovery, cores.join())
    for (const id of hosts) this.channel.send(id, 'project-cores', { discovery, cores })
  }

  private async coresOf(project: Project): Promise<string[]> {
    return (await coresOf(project)).map(toHex).slice(0, MAX_HOSTED_CORES)
  }

  /** A project we hold with its data readable (a keyless copy cannot list the members). */
  private readableProject(discovery: string): Project | null {
    const project = this.deps.projects.byDiscoveryKey(discovery)
    if (project === null || project.closing) return null
    return project.base.encryptionKey !== null || project.memberId !== '' ? project : null
  }

  private async answerBlocks(m: {
    core: string
    indices: number[]
    nonce: string
  }): Promise<{ proofs: Array<string | null> } | null> {
    const core = await this.findCore(m.core)
    if (core === null) return { proofs: m.indices.map(() => null) }
    try {
      const nonce = fromHex(m.nonce)
      const proofs: Array<string | null> = []
      for (const i of m.indices) proofs.push(await blockProof(core, i, nonce))
      return { proofs }
    } finally {
      await core.close().catch(() => {})
    }
  }

  /**
   * A session on a core of a project this node hosts or is a member of, by key (null: none
   * of ours: we answer only for what we hold on purpose, whatever else the store has).
   */
  private async findCore(keyHex: string): Promise<Hypercore | null> {
    let ours = [...this.hosted.values()].some((h) => h.cores.has(keyHex))
    for (const project of this.deps.projects.list()) {
      if (ours) break
      ours = (await this.coresOf(project)).includes(keyHex)
    }
    if (!ours) return null
    const core = this.deps.store.get({ key: fromHex(keyHex), active: false })
    await core.ready()
    return core
  }

  private byDiscovery(discovery: string): Hosted | null {
    for (const h of this.hosted.values()) if (h.discovery === discovery) return h
    return null
  }

  private bytes(h: Hosted): number {
    let n = 0
    for (const held of h.cores.values()) n += held.bytes
    return n
  }

  private overQuota(h: Hosted): boolean {
    return h.entry.quota !== null && this.bytes(h) >= h.entry.quota
  }

  private checkQuota(h: Hosted): void {
    if (this.overQuota(h)) {
      if (h.status === 'quota-reached') return
      for (const held of h.cores.values()) {
        held.range?.destroy()
        held.range = null
      }
      this.setStatus(h, 'quota-reached')
      return
    }
    if (h.status === 'quota-reached') return // until the quota is raised (`add`)
    const status = this.syncStatus(h)
    if (status !== h.status) this.setStatus(h, status)
  }

  /**
   * 'current' when no connected peer holds a block of its cores that we lack (a block a
   * member wrote just before going offline, that nobody online holds, cannot be fetched: it
   * is known, and counted in `known`, but does not keep the copy from being current).
   */
  private syncStatus(h: Hosted): HostStatus {
    let held = 0
    for (const { core } of h.cores.values()) held += core.contiguousLength
    if (held === 0) return 'syncing' // nothing yet: nobody may have told us anything
    for (const { core } of h.cores.values()) {
      for (const p of core.peers) {
        if (p.remoteContiguousLength > core.contiguousLength) return 'syncing'
      }
    }
    return 'current'
  }

  private setStatus(h: Hosted, status: HostStatus): void {
    h.status = status
    this.emit('host-status', { key: h.entry.key, status })
    if (status !== 'syncing') this.broadcastOffer()
  }

  // ---- volunteering storage (`flux host offer`) ----------------------------------------------

  /** What this node offers its peers to host, or null when it does not volunteer. */
  offer(): { free: number } | null {
    const quota = this.deps.state.offer()
    if (quota === null) return null
    let used = 0
    for (const h of this.hosted.values()) used += this.bytes(h)
    return { free: Math.max(0, quota - used) }
  }

  /** Volunteer `quota` bytes for projects our peers ask us to host (null: stop offering). */
  async setOffer(quota: number | null): Promise<{ free: number } | null> {
    await this.deps.state.putOffer(quota)
    await this.announceOffer(quota !== null)
    this.broadcastOffer()
    return this.offer()
  }

  /** Volunteers are found on one topic: announced there (server only), never looking. */
  private async announceOffer(on: boolean): Promise<void> {
    const { topics } = this.deps.network
    if (on) await topics.join(VOLUNTEER_TOPIC, 'volunteer', { server: true, client: false })
    else await topics.leave(VOLUNTEER_TOPIC, 'volunteer')
  }

  private broadcastOffer(): void {
    const offer = this.offer()
    if (offer !== null) this.channel.broadcast('offer', offer)
  }

  /** A member asks us to host its project: yes while we offer space. */
  private async volunteer(keyHex: string): Promise<{ ok: boolean; reason: string | null }> {
    if (this.hosted.has(keyHex)) return { ok: true, reason: null }
    const offer = this.offer()
    if (offer === null) return { ok: false, reason: 'this node does not volunteer storage' }
    if (offer.free <= 0) return { ok: false, reason: 'the storage this node offers is used up' }
    await this.add(fromHex(keyHex), offer.free)
    this.emit('host-volunteered', { key: keyHex, quota: offer.free })
    return { ok: true, reason: null }
  }

  private info(h: Hosted): HostedInfo {
    let held = 0
    let known = 0
    for (const { core } of h.cores.values()) {
      held += core.contiguousLength
      known += core.length
    }
    const first = h.cores.get(h.entry.key)?.core
    return {
      key: h.entry.key,
      quota: h.entry.quota,
      bytes: this.bytes(h),
      cores: h.cores.size,
      held,
      known,
      status: h.status === 'quota-reached' ? h.status : this.syncStatus(h),
      peers: first ? first.peers.length : 0,
      addedAt: h.entry.addedAt,
      lastActivity: h.lastActivity
    }
  }

  private run(job: () => Promise<void>): void {
    this.lock.run(job).catch((err: unknown) => this.emit('warning', err))
  }
}

/**
 * Blocks of a core that every holder has the same: held here from the start, and signed (a
 * view's unsigned tail is computed by each peer and may differ).
 */
function checkable(core: Hypercore): number {
  return Math.min(core.contiguousLength, core.signedLength)
}

/** hash(nonce || the block as stored), or null when the block is not held here. */
async function blockProof(core: Hypercore, i: number, nonce: Buffer): Promise<string | null> {
  if (i >= core.length) return null
  const block = (await core
    .get(i, { wait: false, decrypt: false })
    .catch(() => null)) as Buffer | null
  if (block === null) return null
  return toHex(crypto.createHash('sha256').update(nonce).update(block).digest())
}
