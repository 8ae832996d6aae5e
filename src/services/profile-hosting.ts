/**
 * Hosting the profiles of project members: each device tells its peers which cores make up its
 * profile (over 'flux/profile-hosting/v1'), and a node keeps another profile's cores, without
 * reading them, when that profile is a member of a project it holds, its card's signature
 * checks out, and this node is one of the HOSTS_PER_PROFILE members closest to it (XOR).
 */
import type Hypercore from 'hypercore'
import type Corestore from 'corestore'
import { Service } from '../util/service.js'
import type { Clock, Timer } from '../util/clock.js'
import { Mutex } from '../util/mutex.js'
import { isHexKey, isObj } from '../autobase/shapes.js'
import { fromHex } from '../identity/keys.js'
import { verifySignature } from '../identity/sign.js'
import { HOSTS_PER_PROFILE, baseStatement, closest, profileCores } from '../profile/copies.js'
import { FeatureChannel, type ChannelPeer } from '../swarm/channels.js'
import type { Session } from '../swarm/session.js'
import type { VerifiedPeer } from '../identity/peer-proof.js'
import { profileTopic } from '../swarm/topics.js'
import type { Network } from '../swarm/network.js'
import type { HostedProfile, NodeState } from '../store/node-state.js'
import type { ProfileService } from './profile.js'
import type { ProfileProjects } from './profile-projects.js'
import type { ProjectRegistry } from './projects.js'

/** A device's list of the cores that make up its profile, signed by the profile. */
export interface ProfileCores {
  profile: string
  discovery: string
  base: string
  sig: string
  cores: string[]
}

type HostingMessages = { 'profile-cores': ProfileCores }

const MAX_CORES = 64

export const hostingChannelSpec = {
  protocol: 'flux/profile-hosting/v1',
  events: {
    'profile-cores': {
      maxBytes: 16 * 1024,
      parse: (v: unknown): ProfileCores | null =>
        isObj(v) &&
        isHexKey(v.profile) &&
        isHexKey(v.discovery) &&
        isHexKey(v.base) &&
        typeof v.sig === 'string' &&
        v.sig.length <= 1000 &&
        Array.isArray(v.cores) &&
        v.cores.length <= MAX_CORES &&
        v.cores.every(isHexKey)
          ? {
              profile: v.profile,
              discovery: v.discovery,
              base: v.base,
              sig: v.sig,
              cores: v.cores as string[]
            }
          : null
    }
  },
  requests: {}
}

export interface HostingEvents {
  /** This node now keeps another member's profile (its discovery key, hex). */
  'profile-hosted': [info: { profile: string; discovery: string; cores: number }]
  /** A list of a profile's cores was not taken: it did not come from a device of that profile. */
  'profile-cores-refused': [info: { profile: string; peer: string; reason: string }]
  warning: [err: unknown]
}

export interface HostingDeps {
  store: Corestore
  network: Network
  state: NodeState
  clock: Clock
  profile: ProfileService
  profileProjects: ProfileProjects
  projects: ProjectRegistry
}

const TOPIC_OWNER = 'profile-hosting'
/** How long a peer that sent a list of cores has to say who it is (ms). */
const IDENTIFY_WAIT = 10_000

/**
 * The peer's proven identity once it is a device of `profile`; it may still be saying who it
 * is, or prove its profile a moment after its first message (its profile just became active).
 * After `timeout` ms, or once it closed, whatever it proved (null: nothing).
 */
function identityAs(
  session: Session,
  profile: string,
  clock: Clock,
  timeout: number
): Promise<VerifiedPeer | null> {
  const proved = (): boolean => session.identity?.profile === profile
  // a node that proved another profile stays that profile on this connection
  if (proved() || session.identity !== null || session.state === 'closed') {
    return Promise.resolve(session.identity)
  }
  return new Promise((resolve) => {
    const done = (): void => {
      timer.clear()
      session.off('identified', check)
      session.off('close', done)
      resolve(session.identity)
    }
    const check = (): void => {
      if (proved()) done()
    }
    const timer = clock.setTimeout(done, timeout)
    session.on('identified', check)
    session.on('close', done)
  })
}

export class ProfileHostingService extends Service<HostingEvents> {
  readonly channel = new FeatureChannel<HostingMessages>(hostingChannelSpec)
  private readonly cores = new Map<string, Hypercore[]>()
  /** Profile cores offered before we saw the member's card (re-checked on project updates). */
  private readonly pending = new Map<string, ProfileCores>()
  private readonly lock = new Mutex()
  private recheck: Timer | null = null

  constructor(private readonly deps: HostingDeps) {
    super()
    this.channel.onEvent('profile-cores', (m, peer) => {
      this.fromDevice(m, peer)
        .then((ok) => (ok ? this.lock.run(() => this.maybeHost(m)) : undefined))
        .catch((err: unknown) => this.emit('warning', err))
    })
    // a peer's channel opened: tell it which cores make up our profile
    this.channel.on('open', (peer) => {
      this.coresMessage()
        .then((m) => m !== null && this.channel.send(peer, 'profile-cores', m))
        .catch((err: unknown) => this.emit('warning', err))
    })
    deps.profile.on('active', () => this.announce())
    deps.profileProjects.on('synced', () => this.announce())
    deps.projects.on('project-update', () => this.scheduleRecheck())
    deps.network.addChannel(this.channel)
  }

  protected override async _open(): Promise<void> {
    for (const hosted of this.deps.state.hosted()) await this.hostCores(hosted)
  }

  protected override async _close(): Promise<void> {
    this.recheck?.clear()
    for (const cores of this.cores.values()) {
      for (const core of cores) await core.close().catch(() => {})
    }
  }

  /** Profiles of other members this node keeps available. */
  hosted(): HostedProfile[] {
    return this.deps.state.hosted()
  }

  /**
   * A hosted profile's copy as recovery asks for it (null: not hosted here): the blocks held of
   * each core, and their sum.
   */
  answer(
    discovery: string
  ): { base: string; sig: string; length: number; cores: Record<string, number> } | null {
    const hosted = this.deps.state.hosted().find((h) => h.discovery === discovery)
    if (hosted === undefined) return null
    const cores: Record<string, number> = {}
    let length = 0
    for (const c of this.cores.get(hosted.discovery) ?? []) {
      cores[(c.key as Buffer).toString('hex')] = c.contiguousLength
      length += c.contiguousLength
    }
    return { base: hosted.base, sig: hosted.sig, length, cores }
  }

  /**
   * Whether a list of a profile's cores came from a device of that profile: the peer proved it
   * is one (its hello), and no project we hold records that device as revoked. A list from
   * anyone else is refused, so no peer can make us keep cores that are not the profile's
   * (which would also make our copy look longer than any recovering node can read).
   */
  private async fromDevice(m: ProfileCores, peer: ChannelPeer): Promise<boolean> {
    const refuse = (reason: string): false => {
      this.emit('profile-cores-refused', { profile: m.profile, peer: peer.session.id, reason })
      return false
    }
    const identity = await identityAs(peer.session, m.profile, this.deps.clock, IDENTIFY_WAIT)
    if (identity === null || identity.profile !== m.profile) {
      return refuse('the sender is not a device of this profile')
    }
    const devices = [identity.device, ...identity.chain]
    for (const project of this.deps.projects.list()) {
      for (const device of devices) {
        if ((await project.view.revoked(m.profile, device)) !== null) {
          return refuse('the sender is a revoked device of this profile')
        }
      }
    }
    return true
  }

  private async coresMessage(): Promise<ProfileCores | null> {
    const { base, entry } = this.deps.profile
    if (base === null || entry === null || entry.base === null || entry.baseSig === null) {
      return null
    }
    return {
      profile: entry.id,
      discovery: entry.discovery,
      base: entry.base,
      sig: entry.baseSig,
      cores: await profileCores(base)
    }
  }

  private announce(): void {
    this.coresMessage()
      .then((m) => m !== null && this.channel.broadcast('profile-cores', m))
      .catch((err: unknown) => this.emit('warning', err))
  }

  /**
   * Keep another member's profile available: only for profiles that are members of a
   * project we hold, with a card whose signature checks out, and only if we are one of the
   * HOSTS_PER_PROFILE members closest to it (XOR of profile ids): every member computes the
   * same hosts from the member list, so each profile gets a few hosts and each node hosts a
   * few profiles, however large the project. We store its cores; we cannot read them.
   */
  private async maybeHost(m: ProfileCores): Promise<void> {
    const me = this.deps.profile.profileHex
    if (me === '' || m.profile === me) return
    let chosen = false
    for (const project of this.deps.projects.list()) {
      const rec = await project.view.member(m.profile)
      if (!rec?.card || rec.card.discovery !== m.discovery || rec.card.base !== m.base) continue
      const others = (await project.view.members())
        .filter((x) => !x.removed && x.profile !== m.profile)
        .map((x) => x.profile)
      if (closest(m.profile, others, HOSTS_PER_PROFILE).includes(me)) {
        chosen = true
        break
      }
    }
    if (!chosen) {
      if (this.pending.size < 64 || this.pending.has(m.discovery)) {
        this.pending.set(m.discovery, m)
      }
      return
    }
    this.pending.delete(m.discovery)
    let valid = false
    try {
      valid = verifySignature(
        fromHex(m.profile),
        m.sig,
        baseStatement(fromHex(m.base), fromHex(m.discovery))
      ).valid
    } catch {
      valid = false
    }
    if (!valid) return
    const known = this.deps.state.hosted().find((h) => h.discovery === m.discovery)
    // bounded: a profile has at most MAX_CORES cores we keep (its devices' writers)
    const cores = [...new Set([...(known?.cores ?? []), m.base, ...m.cores])].slice(0, MAX_CORES)
    if (known && known.base === m.base && cores.length === known.cores.length) return
    const entry: HostedProfile = {
      profile: m.profile,
      discovery: m.discovery,
      base: m.base,
      sig: m.sig,
      cores
    }
    await this.deps.state.putHosted(entry)
    await this.hostCores(entry)
    this.emit('profile-hosted', { profile: m.profile, discovery: m.discovery, cores: cores.length })
  }

  /**
   * A project changed: profiles offered to us earlier may now be of members we know (or we
   * may now be among their closest). At most one pass every 2 s.
   */
  private scheduleRecheck(): void {
    if (this.pending.size === 0 || this.recheck !== null) return
    this.recheck = this.deps.clock.setTimeout(() => {
      this.recheck = null
      void (async () => {
        for (const m of [...this.pending.values()]) {
          await this.lock.run(() => this.maybeHost(m))
        }
      })().catch((err: unknown) => this.emit('warning', err))
    }, 2000)
  }

  private async hostCores(entry: HostedProfile): Promise<void> {
    const open = this.cores.get(entry.discovery) ?? []
    const have = new Set(open.map((c) => (c.key as Buffer).toString('hex')))
    for (const key of entry.cores) {
      if (have.has(key)) continue
      const core = this.deps.store.get({ key: fromHex(key) })
      await core.ready()
      core.download({ start: 0, end: -1 })
      open.push(core)
    }
    this.cores.set(entry.discovery, open)
    await this.deps.network.topics.join(profileTopic(fromHex(entry.discovery)), TOPIC_OWNER)
  }
}
