/**
 * The node's network: one HyperDHT node and one Hyperswarm, topic membership, admission
 * through PeerPolicy, and replication of the node's Corestore on every admitted connection.
 */
import Hyperswarm from 'hyperswarm'
import HyperDHT from 'hyperdht'
import ReadyResource from 'ready-resource'
import type Corestore from 'corestore'
import { PeerPolicy } from './peer-policy.js'
import { Rpc } from './rpc.js'
import ProtomuxWakeup from 'protomux-wakeup'
import { encodeKey, toHex } from '../identity/keys.js'

export interface NetworkOptions {
  store: Corestore
  keyPair: { publicKey: Buffer; secretKey: Buffer }
  /** DHT bootstrap nodes ('host:port'); undefined means the public HyperDHT. */
  bootstrap?: string[] | undefined
  /** Address to bind (127.0.0.1 for a loopback mesh). */
  host?: string | undefined
  /** Defaults to false when a host is given (private meshes), true otherwise. */
  firewalled?: boolean | undefined
}

export interface PeerState {
  id: string
  publicKey: Buffer
  address: string | null
  connectedAt: number
  client: boolean
}

export class Network extends ReadyResource {
  readonly swarm: Hyperswarm
  readonly dht: HyperDHT
  readonly policy = new PeerPolicy()
  readonly peers = new Map<string, PeerState>()
  /** The side channel for requests that are not ops (see rpc.ts). */
  readonly rpc = new Rpc()
  /**
   * Autobase's wakeup protocol, shared by every Autobase of the node. Autobase only hears that
   * an idle writer has new blocks through it; `store.replicate` alone does not carry it.
   */
  readonly wakeup = new ProtomuxWakeup()
  private readonly store: Corestore
  private readonly topics = new Map<string, Hyperswarm.PeerDiscovery>()

  constructor(opts: NetworkOptions) {
    super()
    this.store = opts.store
    const dhtOpts: ConstructorParameters<typeof HyperDHT>[0] = { keyPair: opts.keyPair }
    if (opts.bootstrap) dhtOpts.bootstrap = opts.bootstrap
    if (opts.host) dhtOpts.host = opts.host
    dhtOpts.firewalled = opts.firewalled ?? !opts.host
    this.dht = new HyperDHT(dhtOpts)
    this.swarm = new Hyperswarm({
      dht: this.dht,
      keyPair: opts.keyPair,
      firewall: (remote) => {
        return !this.policy.check(remote).admit
      }
    })
    this.swarm.on('connection', (conn, info) => this.onConnection(conn, info))
  }

  get publicKey(): Buffer {
    return this.swarm.keyPair.publicKey
  }

  protected override async _open(): Promise<void> {
    await this.dht.ready()
  }

  protected override async _close(): Promise<void> {
    await this.swarm.destroy()
    this.wakeup.destroy()
  }

  private onConnection(conn: Hyperswarm.SwarmConnection, info: Hyperswarm.PeerInfo): void {
    const hex = toHex(conn.remotePublicKey)
    conn.on('error', () => {})
    const raw = conn.rawStream
    const peer: PeerState = {
      id: encodeKey(conn.remotePublicKey),
      publicKey: conn.remotePublicKey,
      address: raw?.remoteHost ? `${raw.remoteHost}:${raw.remotePort ?? 0}` : null,
      connectedAt: Date.now(),
      client: info.client
    }
    this.peers.set(hex, peer)
    conn.on('close', () => {
      if (this.peers.get(hex) === peer) this.peers.delete(hex)
      this.emit('peer-remove', peer)
    })
    this.wakeup.addStream(this.store.replicate(conn))
    this.rpc.attach(conn, hex)
    this.emit('peer-add', peer)
  }

  /**
   * Join a topic as server and client. Announcing is awaited before looking up, which avoids
   * the race where two peers joining at the same instant never find each other.
   */
  async join(topic: Buffer): Promise<void> {
    const hex = toHex(topic)
    if (this.topics.has(hex)) return
    const discovery = this.swarm.join(topic, { server: true, client: true })
    this.topics.set(hex, discovery)
    await discovery.flushed()
    await discovery.refresh({ server: true, client: true }).catch(() => {})
  }

  async leave(topic: Buffer): Promise<void> {
    const hex = toHex(topic)
    if (!this.topics.delete(hex)) return
    await this.swarm.leave(topic)
  }
}
