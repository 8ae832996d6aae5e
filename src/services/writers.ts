/**
 * Writer requests: a device of a member that is not a writer of a project yet (linked,
 * recovered, or adopted from the profile) asks every peer to add it, over the
 * 'flux/writers/v1' channel; a member that writes to the project carries the request in as a
 * `writer/add` op (the writer proof is the authority, checked by apply on every peer). Also
 * introducing this node's profile in a project once it writes there (name and card).
 */
import { Service } from '../util/service.js'
import type { Clock, Timer } from '../util/clock.js'
import { FluxError } from '../errors.js'
import { isHexKey, isObj } from '../autobase/shapes.js'
import { encodeKey, toHex } from '../identity/keys.js'
import {
  createWriterProof,
  isWriterProofShape,
  verifyWriterProof,
  type WriterProof
} from '../identity/writer-proof.js'
import type { Project } from '../project/project.js'
import { FeatureChannel, type ChannelPeer } from '../swarm/channels.js'
import type { Network } from '../swarm/network.js'
import type { ProjectRegistry } from './projects.js'
import type { ProfileService } from './profile.js'
import type { ProfileProjects } from './profile-projects.js'
import type { Progress } from '../api.js'

type WriterMessages = { 'writer-request': { project: string; proof: WriterProof } }

export const writersChannelSpec = {
  protocol: 'flux/writers/v1',
  events: {
    'writer-request': {
      maxBytes: 8 * 1024,
      parse: (v: unknown): WriterMessages['writer-request'] | null =>
        isObj(v) && isHexKey(v.project) && isWriterProofShape(v.proof)
          ? { project: v.project, proof: v.proof }
          : null
    }
  },
  requests: {}
}

export interface WritersEvents {
  /** This node asked its peers to be added as a writer of a project (key hex). */
  'writer-requested': [project: string]
  /** This node carried another device's request into a project. */
  'writer-carried': [info: { project: string; writer: string }]
  /** This node gave a project its profile's name (if any was due) and card (key hex). */
  introduced: [project: string]
  warning: [err: unknown]
}

export interface WritersDeps {
  network: Network
  projects: ProjectRegistry
  profile: ProfileService
  profileProjects: ProfileProjects
  clock: Clock
}

/** How often a device that wants to write asks again (ms). */
const ASK_EVERY = 2000
/** How many times a device must ask before a member that is not the indexer carries it in. */
const CARRY_AFTER = 3
/** A carried request is not carried again for this long (ms): the first one is on its way. */
const CARRY_AGAIN = 30_000
/** Longest a new member waits for the whole view before giving its name and card anyway. */
const INTRODUCE_WAIT = 10 * 60_000

export class WriterService extends Service<WritersEvents> {
  readonly channel = new FeatureChannel<WriterMessages>(writersChannelSpec)
  /** Projects (key hex) where this node waits to be added as a writer. */
  private readonly wanted = new Set<string>()
  /** Writer requests seen (writer hex → times asked) and carried (→ when), to carry each once. */
  private readonly asked = new Map<string, number>()
  private readonly carried = new Map<string, number>()
  private timer: Timer | null = null
  private readonly timers = new Set<Timer>()

  constructor(private readonly deps: WritersDeps) {
    super()
    this.channel.onEvent('writer-request', (m, peer) => {
      this.carry(m, peer).catch((err: unknown) => this.emit('warning', err))
    })
    this.channel.on('open', (peer) => {
      for (const key of this.wanted) {
        const ask = this.request(key)
        if (ask !== null) this.channel.send(peer, 'writer-request', ask)
      }
    })
    deps.network.addChannel(this.channel)
  }

  protected override async _close(): Promise<void> {
    this.timer?.clear()
    for (const t of this.timers) t.clear()
  }

  /** Ask to write to every held project of our profile where this node does not write yet. */
  askEverywhere(): void {
    if (this.deps.profile.keys === null) return
    for (const project of this.deps.projects.list()) {
      if (!project.writable) void this.want(project)
    }
  }

  /** Keep asking (every peer, every 2 s and on every new peer) until a writer adds us. */
  async want(project: Project): Promise<void> {
    const key = toHex(project.key)
    const profile = this.deps.profile
    if (profile.keys === null || project.writable || this.wanted.has(key)) return
    const member = await project.view.member(profile.profileHex)
    // a project we hold by key, of which our profile is not a member, is just hosted
    const via = this.deps.projects.entryOf(project).via
    if (via !== 'profile' && (member === null || member.removed)) return
    if (this.wanted.has(key) || project.writable) return
    this.wanted.add(key)
    const ask = this.request(key)
    if (ask !== null) this.channel.broadcast('writer-request', ask)
    this.emit('writer-requested', key)
    project.once('writable', () => {
      this.wanted.delete(key)
      this.introduce(project).catch((err: unknown) => this.emit('warning', err))
    })
    if (this.timer === null) {
      this.timer = this.deps.clock.setInterval(() => this.askAgain(), ASK_EVERY)
    }
  }

  /** Forget a project (left): stop asking for it. */
  forget(keyHex: string): void {
    this.wanted.delete(keyHex)
  }

  private askAgain(): void {
    for (const key of this.wanted) {
      const project = this.deps.projects.get(key)
      if (!project || project.writable) {
        this.wanted.delete(key)
        continue
      }
      const ask = this.request(key)
      if (ask !== null) this.channel.broadcast('writer-request', ask)
    }
  }

  private request(keyHex: string): WriterMessages['writer-request'] | null {
    const project = this.deps.projects.get(keyHex)
    const keys = this.deps.profile.keys
    if (!project || keys === null) return null
    return {
      project: toHex(project.discoveryKey),
      proof: createWriterProof(keys, project.discoveryKey, project.writerKey)
    }
  }

  /**
   * A peer asks to be added as a writer of a project we write to. Its proof is the authority
   * (apply checks it again on every peer); we only carry it in, once.
   */
  private async carry(m: WriterMessages['writer-request'], peer: ChannelPeer): Promise<void> {
    const project = this.deps.projects.byDiscoveryKey(m.project)
    if (project === null || !project.writable || project.closing) return
    const v = verifyWriterProof(m.proof, project.discoveryKey)
    if (v === null) {
      peer.session.strike(`${this.channel.protocol}: a writer proof that does not hold`)
      return
    }
    // One carrier is enough. An indexer of the project carries at once; any other member only
    // once the device has kept asking (about 4 s: the indexers are likely away).
    // Several members carrying the same writer at the same moment is correct (the first
    // counts) but was seen to leave views ordered differently for a long time.
    const times = (this.asked.get(v.writer) ?? 0) + 1
    this.asked.set(v.writer, times)
    if (this.asked.size > 1000) this.asked.clear()
    if (!project.base.isIndexer && times < CARRY_AFTER) return
    const now = this.deps.clock.now()
    const last = this.carried.get(v.writer)
    if (last !== undefined && now - last < CARRY_AGAIN) return
    this.carried.set(v.writer, now) // before any await: the next request waits
    if (this.carried.size > 1000) this.carried.clear()
    const member = await project.view.member(v.profile)
    const refuse =
      member === null ||
      member.removed ||
      (await project.view.writer(v.writer)) !== null ||
      (await project.view.project())?.archived.value === true
    if (refuse) {
      this.carried.delete(v.writer)
      return
    }
    await project.append({ type: 'writer/add', as: m.proof })
    await project.update()
    this.emit('writer-carried', { project: toHex(project.key), writer: v.writer })
  }

  /**
   * Once writable in a project: give our profile's name (when the member has none yet) and
   * card (so that peers host our profile), and note the project in the profile.
   */
  async introduce(project: Project): Promise<void> {
    const profile = this.deps.profile
    const me = await project.view.member(project.memberId)
    if (me === null || me.removed || !project.writable) return
    const name = profile.name
    // only a member without a name gets the profile's: another device of the profile (linked
    // or recovered) must not reset a name the member chose in this project
    if (name !== '' && me.name === null) {
      await project.append({ type: 'member/name', name, prev: null })
    }
    const card = profile.card()
    if (card !== null && (me.card === null || me.card.base !== card.base)) {
      await project.append({ type: 'member/card', card })
    }
    await project.update()
    await this.deps.profileProjects.record(project)
    this.emit('introduced', toHex(project.key))
  }

  /**
   * Introduce ourselves once the project's view is all here. Writing while a fast-forwarded
   * view is still mostly remote makes Autobase rework it: a late joiner of a 10k-op project
   * took 10 s instead of 0.3 s to hold the same view core as its peers.
   */
  introduceWhenSynced(project: Project): void {
    const clock = this.deps.clock
    const started = clock.now()
    const done = (): void => {
      project.off('update', check)
      timer.clear()
      this.timers.delete(timer)
    }
    const check = (): void => {
      if (project.closing) return done()
      const core = project.base.view.core
      if (!project.writable || project.syncState().behind > 0) return
      // the project fetches its whole view (Project.fetchView): wait until it is here
      if (core.contiguousLength < core.length && clock.now() - started < INTRODUCE_WAIT) return
      done()
      this.introduce(project).catch((err: unknown) => this.emit('warning', err))
    }
    project.on('update', check)
    const timer = clock.setInterval(check, 1000)
    this.timers.add(timer)
    check()
  }

  /** Wait (bounded) until every held project is writable here, with progress. */
  async waitAll(
    timeout: number,
    progress: (p: Progress) => void,
    label: (project: Project) => Promise<string>
  ): Promise<void> {
    const clock = this.deps.clock
    const deadline = clock.now() + timeout
    for (const project of this.deps.projects.list()) {
      const name = (await label(project)) || encodeKey(project.key)
      progress({ phase: 'project', message: `syncing ${name}` })
      try {
        await project.waitWritable(Math.max(1, deadline - clock.now()))
        await project.update()
        const sys = await project.view.system()
        progress({ phase: 'writable', message: `${name}: writable`, applied: sys.applied })
      } catch (err) {
        if (!(err instanceof FluxError && err.code === 'TIMEOUT')) throw err
        progress({
          phase: 'syncing',
          message: `${name}: no member online to add this device yet; it will be added later`
        })
      }
    }
  }
}
