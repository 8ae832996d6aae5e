/**
 * Relays offered by project members. A node that relays (`flux up --serve-relay`) tells every
 * peer it admits its relay id over 'flux/relay/v1'. A node takes up an offer only from a peer
 * that proved a profile that is a live member of a project it holds (any device of it not
 * revoked there), or its own profile, and only while that peer stays connected; then, when a
 * holepunch cannot work, HyperDHT may relay through it (see src/swarm/relay.ts: the relay sees
 * only the end-to-end encrypted stream). An offer from a peer not (yet) known as a member waits
 * and is judged again when the membership changes: a new member learns the member list while it
 * syncs.
 */
import { Service } from '../util/service.js'
import { isHexKey, isObj } from '../autobase/shapes.js'
import { encodeKey, fromHex, toHex } from '../identity/keys.js'
import { FeatureChannel, type ChannelPeer } from '../swarm/channels.js'
import type { Network } from '../swarm/network.js'
import type { Membership } from './membership.js'

type RelayMessages = { relay: { id: string } }

export const relayChannelSpec = {
  protocol: 'flux/relay/v1',
  events: {
    relay: {
      maxBytes: 256,
      parse: (v: unknown): { id: string } | null =>
        isObj(v) && isHexKey(v.id) ? { id: v.id } : null
    }
  },
  requests: {}
}

export interface RelayOffersEvents {
  /** A member's relay may now be used (peer: its swarm key; relay: its relay id). */
  'relay-offered': [info: { peer: string; relay: string }]
  warning: [err: unknown]
}

export interface RelayOffersDeps {
  network: Network
  membership: Membership
}

export class RelayOffers extends Service<RelayOffersEvents> {
  readonly channel = new FeatureChannel<RelayMessages>(relayChannelSpec)
  /** Offers from peers not known as members yet, by the peer's swarm key (hex). */
  private readonly waiting = new Map<string, { id: string; peer: ChannelPeer }>()

  constructor(private readonly deps: RelayOffersDeps) {
    super()
    const { network } = deps
    this.channel.on('open', (peer) => {
      const server = network.relayServer
      if (server !== null) this.channel.send(peer, 'relay', { id: toHex(server.publicKey) })
    })
    this.channel.on('close', (peer) => {
      this.waiting.delete(peer.id)
      network.relays.withdraw(peer.id)
    })
    this.channel.onEvent('relay', (m, peer) => {
      this.waiting.set(peer.id, { id: m.id, peer })
      this.judge()
    })
    deps.membership.on('changed', () => {
      if (this.waiting.size > 0) this.judge()
    })
    network.addChannel(this.channel)
  }

  /** Take up the waiting offers of peers now known as member devices (see Membership). */
  private judge(): void {
    for (const [key, { id, peer }] of [...this.waiting]) {
      if (peer.session.state === 'closed') {
        this.waiting.delete(key)
        continue
      }
      if (!this.deps.membership.isMember(peer.session)) continue
      this.waiting.delete(key)
      this.deps.network.relays.offer(fromHex(id), key)
      this.emit('relay-offered', { peer: key, relay: encodeKey(fromHex(id)) })
    }
  }
}
