/**
 * The evidence this node gives for other members' credits (src/project/credits.ts), written
 * into each project it is a writer of:
 * - uptime: once per epoch, for each connected peer that proved a profile that is a live member
 *   of the project (never our own profile);
 * - support: once, for the member who let us in (the `addedBy` of our member record);
 * - hosting: after a proof of hosting passes against a connected member (`attestHosting`).
 * Apply checks everything again (it does not trust us): this only avoids writing what it
 * would skip. At most BUDGET attestations per project per epoch leave this node.
 */
import { Service } from '../util/service.js'
import type { Clock, Timer } from '../util/clock.js'
import { toHex } from '../identity/keys.js'
import { BUDGET, EPOCH_SLACK, epochOf, type AttestKind } from '../project/credits.js'
import { MAX_CLOCK_SKEW, meshClock } from '../autobase/merge.js'
import type { Project } from '../project/project.js'
import type { Network } from '../swarm/network.js'
import type { ProfileService } from './profile.js'
import type { ProjectRegistry } from './projects.js'

/**
 * How often the connected members are looked at: a peer counts as seen online once it has
 * been connected at a tick (so a connection of a few seconds earns nothing, and a node writes
 * at most one round of attestations a minute).
 */
const TICK = 60_000

export interface CreditsEvents {
  /** This node wrote an attestation. */
  attested: [info: { project: string; kind: AttestKind; subject: string; epoch: number }]
  warning: [err: unknown]
}

export interface CreditsDeps {
  clock: Clock
  network: Network
  projects: ProjectRegistry
  profile: ProfileService
}

export class CreditsService extends Service<CreditsEvents> {
  private timer: Timer | null = null
  /**
   * Per epoch: attestations written (`project/kind/subject`, so none is written twice) and how
   * many per project (the budget, kept locally too). Epochs apply no longer accepts are dropped.
   */
  private readonly epochs = new Map<number, { done: Set<string>; spent: Map<string, number> }>()
  private running: Promise<void> | null = null

  constructor(private readonly deps: CreditsDeps) {
    super()
  }

  protected override async _open(): Promise<void> {
    this.timer = this.deps.clock.setInterval(() => this.soon(), TICK)
  }

  protected override async _close(): Promise<void> {
    this.timer?.clear()
    await this.running?.catch(() => {})
  }

  /** Attest now what can be attested (tests; the tick and connections do it too). */
  async attestAll(): Promise<void> {
    const me = this.deps.profile.profileHex
    if (me === '' || this.closing) return
    const online = new Set<string>()
    for (const s of this.deps.network.sessions.values()) {
      if (s.admitted && s.identity !== null) online.add(s.identity.profile)
    }
    online.delete(me)
    for (const project of this.deps.projects.list()) {
      if (project.closing || !project.writable || project.memberId === '') continue
      const self = await project.view.member(project.memberId)
      if (self === null || self.removed) continue
      if (self.addedBy !== self.profile && !(await project.view.supported(self.profile))) {
        await this.attest(project, 'support', self.addedBy)
      }
      for (const profile of online) {
        const m = await project.view.member(profile)
        if (m !== null && !m.removed) await this.attest(project, 'uptime', profile)
      }
    }
  }

  /** A proof of hosting passed against `profile` (hex), a member of `project`. */
  async attestHosting(project: Project, profile: string): Promise<boolean> {
    const m = await project.view.member(profile)
    if (m === null || m.removed || profile === project.memberId || !project.writable) return false
    return this.attest(project, 'hosting', profile)
  }

  private soon(): void {
    if (this.running !== null || this.closing || !this.opened) return
    this.running = this.attestAll()
      .catch((err: unknown) => {
        this.emit('warning', err)
      })
      .finally(() => {
        this.running = null
      })
  }

  /**
   * The epoch apply will judge our op in: its time as apply will clamp it (at most
   * MAX_CLOCK_SKEW ahead of the mesh clock), never our clock alone.
   */
  private async epochFor(project: Project): Promise<number> {
    const { clocks } = await project.view.system()
    const now = this.deps.clock.now()
    if (Object.keys(clocks).length === 0) return epochOf(now)
    return epochOf(Math.min(now, meshClock(clocks) + MAX_CLOCK_SKEW))
  }

  private memo(epoch: number): { done: Set<string>; spent: Map<string, number> } {
    let memo = this.epochs.get(epoch)
    if (memo === undefined) {
      this.epochs.set(epoch, (memo = { done: new Set(), spent: new Map() }))
      for (const e of this.epochs.keys()) if (e < epoch - EPOCH_SLACK) this.epochs.delete(e)
    }
    return memo
  }

  private async attest(project: Project, kind: AttestKind, subject: string): Promise<boolean> {
    const epoch = await this.epochFor(project)
    const key = toHex(project.key)
    const id = `${key}/${kind}/${subject}`
    const memo = this.memo(epoch)
    if (memo.done.has(id) || (memo.spent.get(key) ?? 0) >= BUDGET) return false
    if (await project.view.hasEvidence(subject, kind, epoch, project.memberId)) return false
    memo.done.add(id)
    memo.spent.set(key, (memo.spent.get(key) ?? 0) + 1)
    await project.append({ type: 'credit/attest', kind, subject, epoch, project: key })
    this.emit('attested', { project: key, kind, subject, epoch })
    return true
  }
}
