/**
 * The admission gate and the user's toggles. The network asks the gate about every connection;
 * the gate answers from the admission policy (a pure function, src/policy/admission.ts) given
 * the toggles, what the user decided about the peer (approved, blocked), and whether the peer
 * is a member device (Membership). It also carries the toggles out: Pause suspends the swarm;
 * every change re-judges every open connection. Toggles, rules and the I Accept queue are kept
 * in node.json, so a restarted node keeps them.
 */
import { Service } from '../util/service.js'
import type { Clock } from '../util/clock.js'
import { FluxError } from '../errors.js'
import { encodeKey, fromHex, toHex } from '../identity/keys.js'
import { decide, normalize, setToggle, type ToggleName, type Toggles } from '../policy/admission.js'
import { projectTopic } from '../swarm/topics.js'
import type { Gate, Network, Verdict } from '../swarm/network.js'
import type { Session } from '../swarm/session.js'
import type { NodeState, PeerRule, PendingPeer } from '../store/node-state.js'
import { PendingQueue } from './pending.js'
import type { Membership } from './membership.js'
import type { ProjectRegistry } from './projects.js'

export interface AdmissionEvents {
  /** The toggles changed; `off`: toggles switched off as a consequence. */
  toggles: [toggles: Toggles, off: ToggleName[]]
  /** A peer asks to connect (I Accept): a new row, or a known one asking again. */
  pending: [row: PendingPeer, added: boolean]
  approved: [peer: string]
  dismissed: [peer: string]
  blocked: [peer: string]
  unblocked: [peer: string]
  warning: [err: unknown]
}

export interface AdmissionDeps {
  network: Network
  state: NodeState
  clock: Clock
  membership: Membership
  projects: ProjectRegistry
  /** Peers never admitted, from the start (not written to node.json). */
  blocked?: Buffer[] | undefined
}

/** Queued peers whose connection is kept open (to admit at once on approval); older ones close. */
const MAX_HELD = 16
/** Connections held until they say who they are (a hello takes milliseconds); more are refused. */
const MAX_UNKNOWN = 64
/** Revoked devices' nodes remembered for the firewall (see `revokedPeers`). */
const MAX_REVOKED_PEERS = 1024

export class AdmissionService extends Service<AdmissionEvents> implements Gate {
  private readonly rules = new Map<string, PeerRule>()
  private readonly blockedNow = new Set<string>()
  private readonly queue: PendingQueue
  private toggleState: Toggles
  /** Sessions held for the user's approval, oldest first. */
  private held: Session[] = []
  /** Sessions already counted in the queue (a connection is one attempt, however re-judged). */
  private readonly counted = new WeakSet<Session>()

  constructor(private readonly deps: AdmissionDeps) {
    super()
    const { network, state, membership } = deps
    this.toggleState = normalize(state.toggles()) // a hand-edited file cannot break the rule
    for (const rule of state.peerRules()) this.rules.set(rule.peer, rule)
    for (const key of deps.blocked ?? []) this.blockedNow.add(toHex(key))
    this.queue = new PendingQueue(state, deps.clock)
    network.setGate(this)
    membership.on('changed', () => network.reconsiderAll())
    network.on('session-close', (s) => {
      this.held = this.held.filter((h) => h !== s)
    })
  }

  protected override async _open(): Promise<void> {
    if (this.toggleState.pause) await this.deps.network.pause()
  }

  protected override async _close(): Promise<void> {
    await this.queue.persist().catch(() => {})
    this.queue.close()
  }

  // ---- the gate ---------------------------------------------------------------------------

  refuses(remotePublicKey: Buffer): boolean {
    const key = toHex(remotePublicKey)
    return this.isBlocked(key) || this.revokedPeers.has(key)
  }

  /**
   * Nodes that proved a revoked device: refused at the next connection before any hello (a
   * revoked device's node would otherwise redial on every shared topic). Until a restart.
   */
  private readonly revokedPeers = new Set<string>()

  decide(session: Session): Verdict {
    const revoked = this.deps.membership.isRevoked(session)
    if (revoked && this.revokedPeers.size < MAX_REVOKED_PEERS) this.revokedPeers.add(session.key)
    const d = decide({
      toggles: this.toggleState,
      blocked: this.isBlocked(session.key),
      approved: this.rules.get(session.key)?.approvedAt != null,
      member: this.deps.membership.isMember(session),
      known: session.known,
      revoked
    })
    if (d.decision === 'admit') {
      void this.queue.remove(session.key).catch(() => {})
      return { admit: true }
    }
    if (d.decision === 'refuse') return { admit: false, hold: false, reason: d.reason }
    if (!d.queue) {
      let unknown = 0
      for (const s of this.deps.network.sessions.values()) {
        if (s.state === 'pending' && !s.known) unknown++
      }
      if (unknown > MAX_UNKNOWN) {
        return {
          admit: false,
          hold: false,
          reason: 'too many connections waiting to say who they are'
        }
      }
      return { admit: false, hold: true, reason: d.reason }
    }
    return this.enqueue(session, d.reason)
  }

  /** A peer waits for approval: its row in the queue, its connection kept (bounded). */
  private enqueue(session: Session, reason: string): Verdict {
    if (this.counted.has(session)) return { admit: false, hold: true, reason }
    this.counted.add(session)
    const topics = new Set(
      this.deps.projects.list().map((p) => projectTopic(p.discoveryKey).toString('hex'))
    )
    const recorded = this.queue.record(session.key, {
      profile: session.identity?.profile ?? null,
      name: session.identity?.name ?? null,
      address: session.address,
      sharesProject: session.topics.some((t) => topics.has(t.toString('hex')))
    })
    if (recorded === null) {
      return { admit: false, hold: false, reason: 'too many new requests: try again later' }
    }
    for (const gone of recorded.evicted) {
      this.deps.network.sessions.get(gone.peer)?.drop('dismissed to make room in the queue')
    }
    if (!this.held.includes(session)) {
      this.held.push(session)
      while (this.held.length > MAX_HELD) this.held.shift()?.drop('waiting for approval')
    }
    this.emit('pending', recorded.row, recorded.added)
    return { admit: false, hold: true, reason }
  }

  // ---- what the user says -------------------------------------------------------------------

  toggles(): Toggles {
    return { ...this.toggleState }
  }

  /** Set a toggle (TOGGLE_CONFLICT when Auto-Connect is asked for under a restriction). */
  async setToggle(name: ToggleName, on: boolean): Promise<{ toggles: Toggles; off: ToggleName[] }> {
    const change = setToggle(this.toggleState, name, on)
    if (!change.ok) throw new FluxError('TOGGLE_CONFLICT', change.reason)
    const before = this.toggleState
    this.toggleState = change.toggles
    await this.deps.state.putToggles(change.toggles)
    if (change.toggles.pause && !before.pause) await this.deps.network.pause()
    if (!change.toggles.pause && before.pause) await this.deps.network.resume()
    // judged on who is a member now, not on a cache a moment old
    await this.deps.membership.refresh()
    this.deps.network.reconsiderAll()
    if (!change.toggles.accept && before.accept) {
      // the queue is moot: everyone waiting may come in
      for (const row of this.queue.list()) this.deps.network.dial(fromHex(row.peer))
    }
    this.emit('toggles', this.toggles(), change.off)
    return { toggles: this.toggles(), off: change.off }
  }

  pending(): PendingPeer[] {
    return this.queue.list()
  }

  /** Let a peer in: at once if it is connected, else dial it, and on its next attempt. */
  async approve(peer: string): Promise<PeerRule> {
    if (this.isBlocked(peer)) {
      throw new FluxError('NOT_ALLOWED', `${encodeKey(fromHex(peer))} is blocked: unblock it first`)
    }
    const rule = await this.putRule(peer, { approvedAt: this.deps.clock.now() })
    await this.queue.remove(peer)
    this.emit('approved', peer)
    const session = this.deps.network.sessions.get(peer)
    if (session) this.deps.network.reconsider(session)
    else this.deps.network.dial(fromHex(peer))
    return rule
  }

  /** Remove a request from the queue; the peer may ask again later. */
  async dismiss(peer: string): Promise<PendingPeer> {
    const row = await this.queue.remove(peer)
    if (row === null) {
      throw new FluxError(
        'PEER_NOT_FOUND',
        `${encodeKey(fromHex(peer))} is not waiting for approval`
      )
    }
    this.deps.network.sessions.get(peer)?.drop('dismissed by the user')
    this.emit('dismissed', peer)
    return row
  }

  /** Refuse a peer entirely, from now on (its connection is closed; it leaves the queue). */
  async block(peer: string): Promise<PeerRule> {
    const rule = await this.putRule(peer, { blockedAt: this.deps.clock.now(), approvedAt: null })
    await this.queue.remove(peer)
    this.deps.network.sessions.get(peer)?.drop('blocked by the user')
    this.emit('blocked', peer)
    return rule
  }

  /** Undo a block: the peer may connect again (and is dialed if we know where). */
  async unblock(peer: string): Promise<PeerRule> {
    if (!this.isBlocked(peer)) {
      throw new FluxError('PEER_NOT_FOUND', `${encodeKey(fromHex(peer))} is not blocked`)
    }
    this.blockedNow.delete(peer)
    const rule = await this.putRule(peer, { blockedAt: null })
    this.deps.network.dial(fromHex(peer))
    this.emit('unblocked', peer)
    return rule
  }

  /** The peers the user blocked. */
  blocked(): PeerRule[] {
    return [...this.rules.values()].filter((r) => r.blockedAt !== null)
  }

  /** Peers the node knows of (connected, waiting, or with a rule), by swarm key (hex). */
  known(): string[] {
    return [
      ...new Set([
        ...this.deps.network.sessions.keys(),
        ...this.queue.list().map((r) => r.peer),
        ...this.rules.keys()
      ])
    ]
  }

  private isBlocked(peer: string): boolean {
    return this.blockedNow.has(peer) || this.rules.get(peer)?.blockedAt != null
  }

  private async putRule(peer: string, change: Partial<PeerRule>): Promise<PeerRule> {
    const session = this.deps.network.sessions.get(peer)
    const queued = this.queue.get(peer)
    const known = this.rules.get(peer)
    const rule: PeerRule = {
      peer,
      approvedAt: known?.approvedAt ?? null,
      blockedAt: known?.blockedAt ?? null,
      profile: session?.identity?.profile ?? queued?.profile ?? known?.profile ?? null,
      name: session?.identity?.name ?? queued?.name ?? known?.name ?? null,
      ...change
    }
    if (rule.approvedAt === null && rule.blockedAt === null) this.rules.delete(peer)
    else this.rules.set(peer, rule)
    await this.deps.state.putPeerRule(rule)
    return rule
  }
}
