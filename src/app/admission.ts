/**
 * Use-cases for the user's control over who reaches the node: the toggles, the I Accept queue,
 * approving, dismissing, blocking and unblocking peers.
 */
import { FluxError } from '../errors.js'
import { decodeKey, encodeKey, fromHex, looksLikeKey, toHex } from '../identity/keys.js'
import type { ToggleName } from '../policy/admission.js'
import type { FluxNode } from '../node.js'
import type { PeerRule, PendingPeer } from '../store/node-state.js'
import type { PeerRuleInfo, PendingInfo, ToggleChangeResult, ToggleState } from '../api.js'

/** How people write each toggle on the command line. */
const NAMES: Record<string, ToggleName> = {
  accept: 'accept',
  pause: 'pause',
  isolate: 'isolate',
  'auto-connect': 'autoConnect',
  autoconnect: 'autoConnect'
}

export class AdmissionActions {
  constructor(private readonly node: FluxNode) {}

  toggles(): ToggleState {
    const a = this.node.admission
    return { ...a.toggles(), pending: a.pending().length, blocked: a.blocked().length }
  }

  async setToggle(name: string, on: boolean): Promise<ToggleChangeResult> {
    const toggle = NAMES[name.trim().toLowerCase()]
    if (toggle === undefined) {
      throw new FluxError(
        'INVALID_INPUT',
        `unknown toggle "${name}": the toggles are accept, pause, isolate and auto-connect`
      )
    }
    const { off } = await this.node.admission.setToggle(toggle, on)
    return { toggles: this.toggles(), off: off.map(cliName) }
  }

  pending(): PendingInfo[] {
    return this.node.admission.pending().map((row) => this.pendingInfo(row))
  }

  blocked(): PeerRuleInfo[] {
    return this.node.admission.blocked().map(ruleInfo)
  }

  async approve(ref: string): Promise<PeerRuleInfo> {
    return ruleInfo(await this.node.admission.approve(this.resolve(ref)))
  }

  async dismiss(ref: string): Promise<PendingInfo> {
    return this.pendingInfo(await this.node.admission.dismiss(this.resolve(ref)))
  }

  async block(ref: string): Promise<PeerRuleInfo> {
    const peer = this.resolve(ref)
    if (peer === toHex(this.node.network.publicKey)) {
      throw new FluxError('INVALID_INPUT', 'this is this node itself')
    }
    return ruleInfo(await this.node.admission.block(peer))
  }

  async unblock(ref: string): Promise<PeerRuleInfo> {
    return ruleInfo(await this.node.admission.unblock(this.resolve(ref)))
  }

  /**
   * A peer from its id (z-base-32 or hex: any peer, even one never seen), or a unique prefix
   * of the id (4 characters or more) of a peer the node knows: connected, waiting or ruled.
   */
  private resolve(ref: string): string {
    const text = ref.trim()
    if (looksLikeKey(text)) return toHex(decodeKey(text, 'peer id'))
    if (text.length < 4) {
      throw new FluxError(
        'INVALID_INPUT',
        `"${text}" is too short: give the peer id (see \`flux peers\`)`
      )
    }
    const matches = this.node.admission
      .known()
      .filter((hex) => encodeKey(fromHex(hex)).startsWith(text))
    if (matches.length === 1) return matches[0] as string
    if (matches.length > 1) {
      throw new FluxError(
        'INVALID_INPUT',
        `"${text}" matches ${matches.length} peers: give more of the id`
      )
    }
    throw new FluxError(
      'PEER_NOT_FOUND',
      `no peer "${text}" is connected, waiting or known here (see \`flux peers\`, \`flux pending\`)`
    )
  }

  private pendingInfo(row: PendingPeer): PendingInfo {
    return {
      id: encodeKey(fromHex(row.peer)),
      profile: row.profile === null ? null : encodeKey(fromHex(row.profile)),
      name: row.name,
      address: row.address,
      firstSeen: row.firstSeen,
      lastSeen: row.lastSeen,
      attempts: row.attempts,
      sharesProject: row.sharesProject,
      connected: this.node.network.sessions.has(row.peer)
    }
  }
}

/** A toggle as the CLI writes it. */
export function cliName(name: ToggleName): string {
  return name === 'autoConnect' ? 'auto-connect' : name
}

function ruleInfo(rule: PeerRule): PeerRuleInfo {
  return {
    id: encodeKey(fromHex(rule.peer)),
    approvedAt: rule.approvedAt,
    blockedAt: rule.blockedAt,
    profile: rule.profile === null ? null : encodeKey(fromHex(rule.profile)),
    name: rule.name
  }
}
