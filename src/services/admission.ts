/**
 * The admission gate: the network asks it about every connection, and it answers from the
 * admission policy (a pure function) and what the user said (the blocklist). Blocked peers are
 * refused by Hyperswarm's firewall too, before any session exists.
 */
import { Service } from '../util/service.js'
import { toHex } from '../identity/keys.js'
import { decide } from '../policy/admission.js'
import type { Gate, Network, Verdict } from '../swarm/network.js'
import type { Session } from '../swarm/session.js'

export interface AdmissionEvents {
  /** The blocklist changed (peer swarm key, hex). */
  blocked: [peer: string]
  unblocked: [peer: string]
}

export class AdmissionService extends Service<AdmissionEvents> implements Gate {
  private readonly blockedPeers = new Set<string>()

  constructor(
    private readonly network: Network,
    blocked: Buffer[] = []
  ) {
    super()
    for (const key of blocked) this.blockedPeers.add(toHex(key))
    network.setGate(this)
  }

  refuses(remotePublicKey: Buffer): boolean {
    return this.blockedPeers.has(toHex(remotePublicKey))
  }

  decide(session: Session): Verdict {
    const d = decide({ blocked: this.blockedPeers.has(session.key) })
    if (d.decision === 'admit') return { admit: true }
    return { admit: false, hold: d.decision === 'hold', reason: d.reason }
  }

  /** Refuse a peer from now on (its open connection is closed). */
  block(remotePublicKey: Buffer): void {
    const hex = toHex(remotePublicKey)
    this.blockedPeers.add(hex)
    this.network.sessions.get(hex)?.drop('blocked by the user')
    this.emit('blocked', hex)
  }

  unblock(remotePublicKey: Buffer): void {
    const hex = toHex(remotePublicKey)
    if (this.blockedPeers.delete(hex)) this.emit('unblocked', hex)
  }
}
