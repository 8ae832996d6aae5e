/**
 * Relaying: when two peers cannot holepunch (both behind NATs that pick a new port per peer),
 * HyperDHT can carry their connection through a third node running a blind relay, which
 * forwards the UDX packets of the peers' end-to-end encrypted (Noise) stream: it cannot read,
 * alter or forge them (the peers authenticate each other's keys inside the stream), it only sees
 * that two addresses talk and how much. HyperDHT keeps holepunching beside the relay and moves
 * the connection to the direct path when a punch gets through.
 *
 * `Relays` holds the relays this node may use (`flux up --relay`, and those connected project
 * members offer: src/services/relay-offers.ts) and answers Hyperswarm's question before each
 * connection; `RelayServer` is the relay this node serves
 * (`flux up --serve-relay`): for anyone given its relay id, except peers the admission gate
 * refuses outright, at most MAX_RELAY_CLIENTS at a time.
 */
import type HyperDHT from 'hyperdht'
import { Server as BlindRelay } from 'blind-relay'
import { encodeKey } from '../identity/keys.js'

/** Peers relayed at once by one relay node, at most (each costs the relay bandwidth). */
export const MAX_RELAY_CLIENTS = 64

export class Relays {
  /** This node's own relay key, never used to relay for itself. */
  own: Buffer | null = null
  /** Relays offered by connected peers, by relay key (hex), with who offered each. */
  private readonly offered = new Map<string, { key: Buffer; by: Set<string> }>()

  constructor(private readonly given: Buffer[] = []) {}

  /** Every relay this node may use: the user's, then those connected members offer. */
  list(): Buffer[] {
    const out = [...this.given]
    for (const { key } of this.offered.values()) {
      if (!out.some((k) => k.equals(key))) out.push(key)
    }
    const own = this.own
    return own === null ? out : out.filter((k) => !k.equals(own))
  }

  /** A peer (its swarm key, hex) offers its relay; it counts while that peer is connected. */
  offer(key: Buffer, by: string): void {
    const hex = key.toString('hex')
    const known = this.offered.get(hex)
    if (known) known.by.add(by)
    else this.offered.set(hex, { key, by: new Set([by]) })
  }

  /** The peer went away: forget what it offered (unless another peer offers it too). */
  withdraw(by: string): void {
    for (const [hex, o] of this.offered) {
      o.by.delete(by)
      if (o.by.size === 0) this.offered.delete(hex)
    }
  }

  /**
   * Hyperswarm asks before each dial (`force`: a holepunch to this peer already failed in a way
   * a relay can help) and HyperDHT's server before each answer (no `force`). As Hyperswarm does
   * by default: relay when forced, or at once when our own NAT changes ports per peer (a punch
   * may still upgrade the connection later). Null: connect without a relay.
   */
  choose(force: boolean | undefined, dht: HyperDHT): Buffer | null {
    if (!force && !dht.randomized) return null
    const list = this.list()
    if (list.length === 0) return null
    return list[Math.floor(Math.random() * list.length)] ?? null
  }
}

export interface RelayServerOptions {
  dht: HyperDHT
  /** The relay's own key pair: its id is what peers give to `--relay`. */
  keyPair: HyperDHT.KeyPair
  /** Whether this peer (its swarm key) may be relayed. */
  allow(remotePublicKey: Buffer): boolean
  max?: number
}

/** The blind relay this node serves, on its own key (its swarm key belongs to Hyperswarm). */
export class RelayServer {
  readonly publicKey: Buffer
  private readonly relay: BlindRelay
  private server: HyperDHT.DHTServer | null = null
  private readonly clients = new Set<HyperDHT.Connection>()
  private readonly max: number

  constructor(private readonly opts: RelayServerOptions) {
    this.publicKey = opts.keyPair.publicKey
    this.max = opts.max ?? MAX_RELAY_CLIENTS
    const dht = opts.dht
    this.relay = new BlindRelay({
      createStream: (o) => dht.createRawStream({ ...(o as object), framed: true })
    })
  }

  get id(): string {
    return encodeKey(this.publicKey)
  }

  async listen(): Promise<void> {
    const server = this.opts.dht.createServer(
      {
        // true refuses: strangers, and anyone past the bound
        firewall: (remote) => this.clients.size >= this.max || !this.opts.allow(remote)
      },
      (conn) => this.accept(conn)
    )
    this.server = server
    await server.listen(this.opts.keyPair)
  }

  status(): { id: string; clients: number; pairs: number } {
    return { id: this.id, clients: this.clients.size, pairs: this.relay.stats.pairings.active }
  }

  async close(): Promise<void> {
    for (const conn of this.clients) conn.destroy()
    await this.relay.close().catch(() => {})
    await this.server?.close()
    this.server = null
  }

  private accept(conn: HyperDHT.Connection): void {
    conn.on('error', () => {})
    conn.setKeepAlive(5000)
    this.clients.add(conn)
    conn.once('close', () => this.clients.delete(conn))
    const session = this.relay.accept(conn, { id: conn.remotePublicKey })
    session.on('error', () => {})
  }
}
