/**
 * Who our peers are. This node proves its own device and profile on every connection (a peer
 * proof: the device signs the node's swarm key); each peer's proof is checked by its session,
 * and here against what this node knows: a device revoked in a project or profile we hold is
 * marked revoked, and a peer's name is the one our shared projects agreed on, else its claim.
 */
import { Service } from '../util/service.js'
import { encodeKey, fromHex } from '../identity/keys.js'
import { createPeerProof, type VerifiedPeer } from '../identity/peer-proof.js'
import type { Network } from '../swarm/network.js'
import type { Session } from '../swarm/session.js'
import type { ProfileService } from './profile.js'
import type { ProjectRegistry } from './projects.js'
import type { PeerInfo, PeerProfile } from '../api.js'

export interface PeersEvents {
  /** A peer proved who it is (its swarm key hex, and profile hex). */
  'peer-identified': [info: { peer: string; profile: string; device: string }]
}

export interface PeersDeps {
  network: Network
  profile: ProfileService
  projects: ProjectRegistry
}

export class PeerDirectory extends Service<PeersEvents> {
  constructor(private readonly deps: PeersDeps) {
    super()
    const prove = (): void => {
      const keys = deps.profile.keys
      if (keys === null) return
      deps.network.setProof(createPeerProof(keys, deps.network.publicKey, deps.profile.name))
    }
    deps.profile.on('active', prove)
    deps.network.on('session-identified', (session, identity) => {
      if (identity === null) return
      this.emit('peer-identified', {
        peer: session.key,
        profile: identity.profile,
        device: identity.device
      })
    })
  }

  /** Every connected peer, with the profile it proved (names and revocation as we know them). */
  async list(): Promise<PeerInfo[]> {
    const out: PeerInfo[] = []
    for (const s of this.deps.network.sessions.values()) {
      if (s.state === 'closed') continue
      out.push({
        id: s.id,
        address: s.address,
        connectedAt: s.connectedAt,
        initiator: s.client,
        state: s.admitted ? 'admitted' : 'pending',
        profile: s.identity === null ? null : await this.describe(s.identity),
        strikes: s.strikes,
        route: s.route
      })
    }
    return out
  }

  /** The session of a peer, by its id (z-base-32) or swarm key (hex). */
  session(ref: string): Session | null {
    for (const s of this.deps.network.sessions.values()) {
      if (s.id === ref || s.key === ref) return s
    }
    return null
  }

  private async describe(peer: VerifiedPeer): Promise<PeerProfile> {
    const { profile, projects } = this.deps
    const ours = peer.profile === profile.profileHex
    let name: string | null = ours ? profile.name : null
    let nameFrom: PeerProfile['nameFrom'] = ours ? 'profile' : null
    let revoked = false
    if (ours && profile.base !== null) {
      for (const device of peer.chain) {
        if ((await profile.base.view.device(device))?.revoked) revoked = true
      }
    }
    for (const project of projects.list()) {
      const member = await project.view.member(peer.profile).catch(() => null)
      if (member === null) continue
      if (name === null && member.name !== null) {
        name = member.name.value
        nameFrom = 'project'
      }
      for (const device of peer.chain) {
        if ((await project.view.revoked(peer.profile, device)) !== null) revoked = true
      }
    }
    if (name === null && peer.name !== '') {
      name = peer.name
      nameFrom = 'peer'
    }
    return {
      id: encodeKey(fromHex(peer.profile)),
      name,
      nameFrom,
      device: encodeKey(fromHex(peer.device)),
      delegated: peer.delegated,
      revoked
    }
  }
}
