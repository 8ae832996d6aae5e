/**
 * One connection to a peer, and what the node knows about it: who it proved to be (its device
 * and profile, from the hello channel), which private projects it proved it holds the key of,
 * whether the admission gate let it in, and how many bad feature messages it sent.
 * Replication and feature channels start only once it is admitted.
 */
import { EventEmitter } from 'events'
import Protomux from 'protomux'
import c from 'compact-encoding'
import type { Encoder } from 'compact-encoding'
import type Hyperswarm from 'hyperswarm'
import { encodeKey, toHex } from '../identity/keys.js'
import { verifyPeerProof, type VerifiedPeer } from '../identity/peer-proof.js'
import type { Route } from '../api.js'

/**
 * What a node says first on every connection: its peer proof (null without a profile), and a
 * capability for each private project it holds (hyperswarm-capability over the project's
 * encryption key and this connection's handshake: only a holder of the key can make it, and it
 * is worth nothing on another connection).
 */
export interface Hello {
  proof: Uint8Array | null
  caps: Uint8Array[]
}

/** More capabilities than this and the hello is bad (a node holds few private projects). */
export const MAX_CAPS = 256
/** How long a peer has to say who it is before it counts as a peer without a profile (ms). */
export const HELLO_TIMEOUT = 10_000

export type SessionState = 'pending' | 'admitted' | 'closed'

/** A peer past this many bad feature messages is dropped. */
export const MAX_STRIKES = 8

/** The hello channel's protocol name. */
export const HELLO = 'flux/hello/v1'

export interface SessionEvents {
  /** The peer proved which device and profile it is (or sent a proof that failed: null). */
  identified: [identity: VerifiedPeer | null]
  /** A bad feature message was counted. */
  strike: [reason: string]
  /** We closed the connection (too many bad messages, or refused). */
  dropped: [reason: string]
  close: []
}

export class Session extends EventEmitter<SessionEvents> {
  /** The peer id people see (z-base-32 of the swarm key). */
  readonly id: string
  /** The swarm key in hex: the map key everywhere in the node. */
  readonly key: string
  readonly publicKey: Buffer
  readonly address: string | null
  /** Whether we dialed it. */
  readonly client: boolean
  readonly connectedAt: number
  /** Topics we found the peer under (only known when we dialed). */
  readonly topics: Buffer[]
  state: SessionState = 'pending'
  /** What the peer proved about itself; null until (or unless) it did. */
  identity: VerifiedPeer | null = null
  /** Whether the peer said who it is (or waited too long, and so has no profile for us). */
  known = false
  /** The capabilities it sent (see Hello); checked by whoever knows the project keys. */
  caps: Uint8Array[] = []
  /** Bad feature messages so far, and the last few reasons. */
  strikes = 0
  readonly reasons: string[] = []
  private readonly hello: Protomux.Message | null

  constructor(
    readonly stream: Hyperswarm.SwarmConnection,
    info: Hyperswarm.PeerInfo,
    connectedAt: number,
    hello: Hello
  ) {
    super()
    this.publicKey = stream.remotePublicKey
    this.key = toHex(stream.remotePublicKey)
    this.id = encodeKey(stream.remotePublicKey)
    const raw = stream.rawStream
    this.address = raw?.remoteHost ? `${raw.remoteHost}:${raw.remotePort ?? 0}` : null
    this.client = info.client
    this.connectedAt = connectedAt
    this.topics = info.topics ?? []
    stream.once('close', () => {
      this.state = 'closed'
      this.emit('close')
    })
    // this muxer is the one replication shares later; hypercore would give it this keep-alive
    if (stream.keepAlive === 0) stream.setKeepAlive?.(5000)
    // the hello channel opens before admission: the gate may want to know who this is
    const mux = Protomux.from(stream)
    const channel = mux.createChannel({
      protocol: HELLO,
      handshake: HelloEncoding,
      onopen: (handshake) => this.onHello(handshake as Hello)
    })
    this.hello =
      channel === null
        ? null
        : channel.addMessage({ encoding: c.buffer, onmessage: (m) => this.onProof(m) })
    channel?.open(hello)
  }

  get admitted(): boolean {
    return this.state === 'admitted'
  }

  /** Tells how a connection travels (set by the network, which knows its sockets and relays). */
  routeOf: ((stream: Hyperswarm.SwarmConnection) => Route) | null = null

  /** How the connection travels now: direct, holepunched, relayed (unknown once closed). */
  get route(): Route {
    if (this.state === 'closed' || this.routeOf === null) return 'unknown'
    return this.routeOf(this.stream)
  }

  /** Tell the peer who we are now (our profile became active after it connected). */
  sendProof(proof: Buffer): void {
    this.hello?.send(proof)
  }

  /** Count a bad feature message; past MAX_STRIKES the peer is dropped. */
  strike(reason: string): void {
    if (this.state === 'closed') return
    this.strikes++
    this.reasons.push(reason)
    if (this.reasons.length > 4) this.reasons.shift()
    this.emit('strike', reason)
    if (this.strikes > MAX_STRIKES) this.drop(`sent ${this.strikes} bad messages (${reason})`)
  }

  /** Close the connection. */
  drop(reason: string): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.emit('dropped', reason)
    this.stream.destroy(new Error(reason))
  }

  /** No hello in time: from now on the peer counts as one without a profile. */
  timeout(): void {
    if (this.known || this.state === 'closed') return
    this.known = true
    this.emit('identified', null)
  }

  private onHello(hello: Hello): void {
    this.caps = hello.caps
    this.onProof(hello.proof)
  }

  private onProof(bytes: unknown): void {
    this.known = true
    if (bytes === null || bytes === undefined) {
      this.emit('identified', this.identity) // a node without a profile (so far)
      return
    }
    const verified = verifyPeerProof(bytes, this.publicKey)
    if (verified === null) this.strike('a peer proof that does not hold')
    this.identity = verified
    this.emit('identified', verified)
  }
}

const HelloEncoding: Encoder<Hello> = {
  preencode(state, h) {
    c.optionalBuffer.preencode(state, h.proof)
    c.array(c.fixed32).preencode(state, h.caps)
  },
  encode(state, h) {
    c.optionalBuffer.encode(state, h.proof)
    c.array(c.fixed32).encode(state, h.caps)
  },
  decode(state) {
    const proof = c.optionalBuffer.decode(state)
    // a hello from a node that sends no capabilities ends here
    const caps = state.start < state.end ? c.array(c.fixed32).decode(state) : []
    if (caps.length > MAX_CAPS) throw new Error('too many capabilities')
    return { proof, caps }
  }
}
