/**
 * Who counts as a member device for admission: a peer that proved (peer proof) a device of a
 * profile that is an active member of a project this node holds, or of our own profile, and
 * that no project or profile here has revoked; or a proven, unrevoked device that proves it
 * holds the key of a private project this node holds (a capability in its hello: only members
 * and their devices get that key; it is how a new joiner recognizes the member that let it in
 * before it has the member list). Kept as a synchronous cache, because the gate must answer
 * at once, refreshed when projects or the profile change.
 */
import HyperswarmCapability from 'hyperswarm-capability'
import type Hyperswarm from 'hyperswarm'
import { Service } from '../util/service.js'
import type { Clock, Timer } from '../util/clock.js'
import type { Session } from '../swarm/session.js'
import type { Network } from '../swarm/network.js'
import type { ProfileService } from './profile.js'
import type { ProjectRegistry } from './projects.js'

export interface MembershipEvents {
  /** The set of members or revoked devices changed: admission decisions may change. */
  changed: []
  warning: [err: unknown]
}

export interface MembershipDeps {
  network: Network
  projects: ProjectRegistry
  profile: ProfileService
  clock: Clock
}

const capability = new HyperswarmCapability()
/** Refreshes are coalesced: at most one per this many ms. */
const SETTLE = 250

export class Membership extends Service<MembershipEvents> {
  private members = new Set<string>()
  private revoked = new Set<string>()
  /** The private project keys held (hex): a peer's capabilities are checked against them. */
  private held = new Set<string>()
  private refreshing: Timer | null = null
  private running: Promise<void> | null = null

  constructor(private readonly deps: MembershipDeps) {
    super()
    const soon = (): void => this.schedule()
    deps.projects.on('project-open', soon)
    deps.projects.on('project-close', soon)
    deps.projects.on('project-update', soon)
    deps.profile.on('active', soon)
    deps.profile.on('base-update', soon)
    deps.network.setCapabilities((stream) => this.capabilities(stream))
  }

  protected override async _open(): Promise<void> {
    await this.refresh()
  }

  protected override async _close(): Promise<void> {
    this.refreshing?.clear()
    await this.running?.catch(() => {})
  }

  /** Whether the peer of this session proved a device revoked here (or one it descends from). */
  isRevoked(session: Session): boolean {
    const id = session.identity
    return id !== null && id.chain.some((device) => this.revoked.has(`${id.profile}/${device}`))
  }

  /** Whether the peer of this session is a member device (see above). */
  isMember(session: Session): boolean {
    const id = session.identity
    if (id === null || this.isRevoked(session)) return false
    if (id.profile === this.deps.profile.profileHex) return true
    return this.members.has(id.profile) || this.provesKey(session)
  }

  /** Recompute now (tests, and after a change that must count at once). */
  async refresh(): Promise<void> {
    const run = (async () => {
      const members = new Set<string>()
      const revoked = new Set<string>()
      for (const project of this.deps.projects.list()) {
        for (const m of await project.view.members().catch(() => [])) {
          if (!m.removed) members.add(m.profile)
        }
        for (const r of await project.view.revocations().catch(() => [])) {
          revoked.add(`${r.profile}/${r.device}`)
        }
      }
      const { base, profileHex } = this.deps.profile
      if (base !== null) {
        for (const d of await base.view.devices().catch(() => [])) {
          if (d.revoked !== null) revoked.add(`${profileHex}/${d.device}`)
        }
      }
      const held = new Set(this.keys().map((k) => k.toString('hex')))
      const changed =
        !same(members, this.members) || !same(revoked, this.revoked) || !same(held, this.held)
      this.members = members
      this.revoked = revoked
      this.held = held
      if (changed) this.emit('changed')
    })()
    this.running = run
    await run
  }

  private schedule(): void {
    if (this.refreshing !== null || this.closing) return
    this.refreshing = this.deps.clock.setTimeout(() => {
      this.refreshing = null
      this.refresh().catch((err: unknown) => this.emit('warning', err))
    }, SETTLE)
  }

  /** Our capabilities on a connection: one per private project we hold the key of. */
  private capabilities(stream: Hyperswarm.SwarmConnection): Uint8Array[] {
    const out: Uint8Array[] = []
    for (const key of this.keys()) out.push(capability.generate(stream, key))
    return out
  }

  private provesKey(session: Session): boolean {
    if (session.caps.length === 0) return false
    for (const key of this.keys()) {
      for (const cap of session.caps) {
        if (capability.verify(session.stream, key, cap)) return true
      }
    }
    return false
  }

  private keys(): Buffer[] {
    const keys: Buffer[] = []
    for (const project of this.deps.projects.list()) {
      const key = project.base.encryptionKey
      if (key) keys.push(key)
    }
    return keys
  }
}

function same(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false
  for (const x of a) if (!b.has(x)) return false
  return true
}
