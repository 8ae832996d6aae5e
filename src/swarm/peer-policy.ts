/**
 * The one place that decides which connections a node admits. Today it admits every peer
 * not blocked by the user; manual approval (I Accept), Pause, Isolate and Auto-Connect
 * plug in here (see DESIGN.md, "Admission").
 */
import { toHex } from '../identity/keys.js'

export interface AdmissionContext {
  /** True when we dialed the peer. */
  client: boolean
  /** Topics we found the peer under (only known when we dialed). */
  topics: Buffer[]
}

export type Verdict = { admit: true } | { admit: false; reason: string }

export class PeerPolicy {
  private readonly blocked = new Set<string>()

  /** Synchronous by design: Hyperswarm's firewall cannot wait (a Promise would reject everyone). */
  check(remotePublicKey: Buffer, _ctx?: AdmissionContext): Verdict {
    if (this.blocked.has(toHex(remotePublicKey)))
      return { admit: false, reason: 'blocked by the user' }
    return { admit: true }
  }

  block(remotePublicKey: Buffer): void {
    this.blocked.add(toHex(remotePublicKey))
  }

  unblock(remotePublicKey: Buffer): void {
    this.blocked.delete(toHex(remotePublicKey))
  }
}
