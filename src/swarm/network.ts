/**
 * The node's network: one HyperDHT node and one Hyperswarm, the topics it is on, and a session
 * per connection. A connection is held until the admission gate speaks: only an admitted
 * session replicates the node's Corestore, carries Autobase's wakeup protocol and opens the
 * feature channels. Transport only: what to admit is the gate's business, what a feature
 * says is its service's.
 */
import Hyperswarm from 'hyperswarm'
import Protomux from 'protomux'
import type HyperDHT from 'hyperdht'
import ProtomuxWakeup from 'protomux-wakeup'
import type Corestore from 'corestore'
import { Service } from '../util/service.js'
import { systemClock, type Clock } from '../util/clock.js'
import { encodeKey, toHex } from '../identity/keys.js'
import type { VerifiedPeer } from '../identity/peer-proof.js'
import type { DhtStatus, DialFailure } from '../api.js'
import { HELLO, HELLO_TIMEOUT, Session, type Hello } from './session.js'
import { Topics } from './topics.js'
import { NatWatch, WatchedDHT } from './nat.js'
import { RelayServer, Relays } from './relay.js'
import { Reconnect } from './reconnect.js'
import { bindError } from './bind-errors.js'
import { DhtWatch } from './dht-watch.js'

export interface NetworkOptions {
  store: Corestore
  keyPair: { publicKey: Buffer; secretKey: Buffer }
  /** DHT bootstrap nodes ('host:port'); undefined means the public HyperDHT. */
  bootstrap?: string[] | undefined
  /** Address to bind (127.0.0.1 for a loopback mesh). */
  host?: string | undefined
  /**
   * Whether peers cannot reach this node unasked. Defaults to false only when bound to a
   * loopback address (a mesh on one machine); anywhere else HyperDHT starts firewalled and
   * finds out itself whether it is reachable, which is right behind a NAT and on a server alike.
   */
  firewalled?: boolean | undefined
  /** Relays (their relay keys) this node may relay through when holepunching cannot work. */
  relays?: Buffer[] | undefined
  /** Serve as a blind relay for admitted peers, under this key pair (its id is the public key). */
  relayKeyPair?: { publicKey: Buffer; secretKey: Buffer } | null | undefined
  clock?: Clock
}

/** What the gate may say about a session: let it in, refuse it, or hold it for later. */
export type Verdict = { admit: true } | { admit: false; hold: boolean; reason: string }

/** Decides admission; the network only carries out its verdicts. */
export interface Gate {
  /** Refuse a peer outright, before any session (Hyperswarm's firewall: synchronous). */
  refuses(remotePublicKey: Buffer): boolean
  /** Decide a session; asked again on `reconsider` and when the peer proves who it is. */
  decide(session: Session): Verdict
}

/** A feature's channel, opened on every admitted session. */
export interface Attachable {
  attach(session: Session): void
}

const ADMIT_ALL: Gate = { refuses: () => false, decide: () => ({ admit: true }) }

export interface NetworkEvents {
  /** A connection opened (not yet admitted). */
  'session-open': [session: Session]
  /** The peer proved which device and profile it is (null: its proof did not hold). */
  'session-identified': [session: Session, identity: VerifiedPeer | null]
  /** Replication and feature channels started. */
  'session-admitted': [session: Session]
  /** The gate refused it (the connection is closed) or holds it. */
  'session-refused': [session: Session, reason: string]
  'session-held': [session: Session, reason: string]
  'session-close': [session: Session]
  /** A bad feature message was counted against a peer. */
  'peer-strike': [session: Session, reason: string]
  /** A peer was disconnected by us (too many bad messages, or refused). */
  'peer-dropped': [session: Session, reason: string]
  /** An attempt to connect to a peer failed (again): holepunching, relaying, finding it. */
  'dial-failed': [failure: DialFailure]
  /** No DHT node answered for a while (`status.silent`), or one answers again. */
  'dht-status': [status: DhtStatus]
  warning: [err: unknown]
}

export class Network extends Service<NetworkEvents> {
  readonly swarm: Hyperswarm
  readonly dht: HyperDHT
  readonly topics: Topics
  /** Which NAT we are behind, how each connection travels, which attempts fail. */
  readonly nat: NatWatch
  /** Relays this node may use; the relay it serves, if any. */
  readonly relays: Relays
  readonly relayServer: RelayServer | null = null
  /** Peers whose connection died under us, dialed again until they are back. */
  readonly reconnect: Reconnect
  /** Every open connection, by the peer's swarm key (hex). */
  readonly sessions = new Map<string, Session>()
  /**
   * Autobase's wakeup protocol, shared by every Autobase of the node. Autobase only hears that
   * an idle writer has new blocks through it; `store.replicate` alone does not carry it.
   */
  readonly wakeup = new ProtomuxWakeup()
  /** Peers dropped for bad messages since the node started. */
  dropped = 0
  /** Paused: no connection at all (Hyperswarm suspended) until resumed. */
  paused = false
  private gate: Gate = ADMIT_ALL
  private readonly wanted = new WeakSet<Session>()
  private proof: Buffer | null = null
  /** Until this settles, a new connection waits before it says hello (see holdHello). */
  private helloHeld: Promise<void> | null = null
  private caps: (stream: Hyperswarm.SwarmConnection) => Uint8Array[] = () => []
  private readonly channels: Attachable[] = []
  private readonly store: Corestore
  private readonly clock: Clock
  private readonly host: string | undefined
  private dhtWatch: DhtWatch | null = null

  constructor(opts: NetworkOptions) {
    super()
    this.store = opts.store
    this.host = opts.host
    this.clock = opts.clock ?? systemClock
    const dhtOpts: ConstructorParameters<typeof HyperDHT>[0] = { keyPair: opts.keyPair }
    if (opts.bootstrap) dhtOpts.bootstrap = opts.bootstrap
    if (opts.host) dhtOpts.host = opts.host
    dhtOpts.firewalled = opts.firewalled ?? !isLoopback(opts.host)
    const dht = new WatchedDHT(dhtOpts)
    this.dht = dht
    this.relays = new Relays(opts.relays)
    this.swarm = new Hyperswarm({
      dht: this.dht,
      keyPair: opts.keyPair,
      firewall: (remote) => this.gate.refuses(remote),
      relayThrough: (force) => this.relays.choose(force, dht)
    })
    if (opts.relayKeyPair) {
      this.relays.own = opts.relayKeyPair.publicKey
      this.relayServer = new RelayServer({
        dht,
        keyPair: opts.relayKeyPair,
        // anyone given the relay id, but never a peer the gate refuses outright (blocked)
        allow: (remote) => !this.gate.refuses(remote)
      })
    }
    this.nat = new NatWatch(
      dht,
      {
        relays: () => this.relays.list(),
        relaying: () => this.relayServer?.status() ?? null,
        onfail: (failure, remote) => {
          this.reconnect.failed(remote)
          this.emit('dial-failed', failure)
        }
      },
      () => this.clock.now()
    )
    this.topics = new Topics(this.swarm)
    this.reconnect = new Reconnect(this.swarm, this.clock)
    this.swarm.on('connection', (conn, info) => this.onConnection(conn, info))
  }

  /** Whether any DHT node answers (before the node opened: none known yet, not silent). */
  dhtStatus(): DhtStatus {
    return this.dhtWatch?.status() ?? { nodes: 0, silent: false, silentSince: null }
  }

  get publicKey(): Buffer {
    return this.swarm.keyPair.publicKey
  }

  get peerId(): string {
    return encodeKey(this.publicKey)
  }

  protected override async _open(): Promise<void> {
    try {
      await this.dht.ready()
    } catch (err) {
      throw bindError(err, this.host, 0) ?? err
    }
    this.dhtWatch = new DhtWatch(this.dht, this.clock, (s) => this.emit('dht-status', s))
    await this.relayServer?.listen()
  }

  protected override async _close(): Promise<void> {
    this.dhtWatch?.close()
    this.reconnect.close()
    await this.relayServer?.close()
    await this.swarm.destroy()
    this.wakeup.destroy()
  }

  /** Who decides admission (until set, everyone is admitted). */
  setGate(gate: Gate): void {
    this.gate = gate
  }

  /** Open this feature's channel on every admitted connection, now and later. */
  addChannel(channel: Attachable): void {
    this.channels.push(channel)
    for (const s of this.sessions.values()) if (s.admitted) channel.attach(s)
  }

  /** The peer proof this node sends on every connection (null: it has no profile yet). */
  setProof(proof: Buffer | null): void {
    this.proof = proof
    if (proof === null) return
    for (const s of this.sessions.values()) s.sendProof(proof)
  }

  /**
   * Connections made before `until` settles say hello only then, with the proof known by
   * then (the node's profile is being unlocked: peers should judge it by its profile). Until
   * then the connection carries nothing and is no session; the peer's hello waits for ours.
   */
  holdHello(until: Promise<void>): void {
    const held = until.then(() => {
      if (this.helloHeld === held) this.helloHeld = null
    })
    this.helloHeld = held
  }

  /** The capabilities this node proves on a connection (see `Hello`). */
  setCapabilities(make: (stream: Hyperswarm.SwarmConnection) => Uint8Array[]): void {
    this.caps = make
  }

  /**
   * Ask the gate again about every session (the user changed a toggle or a rule, or who is a
   * member changed): a held one it now admits is admitted; an admitted one it no longer would
   * is dropped (it may come back, and is then judged like any new connection).
   */
  reconsiderAll(): void {
    for (const session of [...this.sessions.values()]) {
      if (session.state === 'pending') {
        this.reconsider(session)
        continue
      }
      if (session.state !== 'admitted') continue
      const verdict = this.gate.decide(session)
      if (!verdict.admit) {
        this.emit('session-refused', session, verdict.reason)
        session.drop(verdict.reason)
      }
    }
  }

  /** Pause: every connection is closed and none is made or accepted until `resume`. */
  async pause(): Promise<void> {
    if (this.paused) return
    this.paused = true
    await this.swarm.suspend()
  }

  async resume(): Promise<void> {
    if (!this.paused) return
    this.paused = false
    await this.swarm.resume()
    for (const d of this.swarm.topics()) {
      const mode = this.topics.modeOf(d.topic) ?? { server: true, client: true }
      await d.refresh(mode).catch(() => {})
    }
  }

  /**
   * Dial a peer by its key until connected (an approved peer that is not connected now), and
   * lift a ban Hyperswarm's firewall put on it (an unblocked peer).
   */
  dial(publicKey: Buffer): void {
    this.swarm.peers.get(toHex(publicKey))?.ban(false)
    if (this.sessions.has(toHex(publicKey)) || this.paused) return
    this.swarm.joinPeer(publicKey)
    const stop = (session: Session): void => {
      if (session.key !== toHex(publicKey)) return
      this.off('session-admitted', stop)
      this.swarm.leavePeer(publicKey)
    }
    this.on('session-admitted', stop)
  }

  /** Ask the gate again about a held session (e.g. after the user approved it). */
  reconsider(session: Session): void {
    if (session.state !== 'pending') return
    const verdict = this.gate.decide(session)
    if (verdict.admit) return this.admit(session)
    if (verdict.hold) {
      this.emit('session-held', session, verdict.reason)
      return
    }
    this.emit('session-refused', session, verdict.reason)
    session.drop(verdict.reason)
  }

  private onConnection(conn: Hyperswarm.SwarmConnection, info: Hyperswarm.PeerInfo): void {
    conn.on('error', () => {})
    const held = this.helloHeld
    if (held === null) return this.openSafely(conn, info)
    // the peer's hello is kept (not refused) until ours can go out with it
    const mux = Protomux.from(conn)
    let opened = false
    const go = (): void => {
      if (opened) return
      opened = true
      mux.unpair({ protocol: HELLO })
      if (!conn.destroyed && this.opened && !this.closing) this.openSafely(conn, info)
    }
    mux.pair({ protocol: HELLO }, async () => {
      await held
      go()
    })
    void held.then(go)
  }

  private openSafely(conn: Hyperswarm.SwarmConnection, info: Hyperswarm.PeerInfo): void {
    try {
      this.open(conn, info)
    } catch (err) {
      // a connection we cannot set up is closed, never a crash
      conn.destroy()
      this.emit('warning', err)
    }
  }

  private open(conn: Hyperswarm.SwarmConnection, info: Hyperswarm.PeerInfo): void {
    const hello: Hello = { proof: this.proof, caps: this.caps(conn) }
    const session = new Session(conn, info, this.clock.now(), hello)
    session.routeOf = (stream) => this.nat.route(stream)
    this.nat.opened(conn)
    this.reconnect.found(conn.remotePublicKey)
    const hex = toHex(conn.remotePublicKey)
    this.sessions.set(hex, session)
    let dropped = false
    session.on('close', () => {
      if (this.sessions.get(hex) === session) this.sessions.delete(hex)
      // a connection that died under us (not dropped, not replaced) is dialed again: a peer we
      // dialed, or one that proved who it is; a stranger that dialed us redials by itself (a
      // storm of strangers once left each of them redialed for 15 minutes)
      const worth = session.client || session.identity !== null
      const lost = !dropped && worth && this.wanted.has(session) && !this.sessions.has(hex)
      if (lost && this.closing === null) this.reconnect.dial(session.publicKey)
      this.emit('session-close', session)
    })
    session.on('identified', (identity) => {
      this.emit('session-identified', session, identity)
      this.reconsider(session)
    })
    // a peer that never says who it is counts as one without a profile
    const timer = this.clock.setTimeout(() => session.timeout(), HELLO_TIMEOUT)
    session.once('close', () => timer.clear())
    session.on('strike', (reason) => this.emit('peer-strike', session, reason))
    session.on('dropped', (reason) => {
      dropped = true
      this.dropped++
      this.emit('peer-dropped', session, reason)
    })
    this.emit('session-open', session)
    this.reconsider(session)
  }

  private admit(session: Session): void {
    session.state = 'admitted'
    this.wanted.add(session)
    this.wakeup.addStream(this.store.replicate(session.stream))
    for (const channel of this.channels) channel.attach(session)
    this.emit('session-admitted', session)
  }
}

/** A loopback address: a mesh on one machine, where every node is reachable. */
function isLoopback(host: string | undefined): boolean {
  return host !== undefined && (/^127\./.test(host) || host === 'localhost' || host === '::1')
}
