declare module 'hyperswarm' {
  import type { EventEmitter } from 'events'
  import type { Duplex } from 'stream'
  import type HyperDHT from 'hyperdht'
  interface KeyPair {
    publicKey: Buffer
    secretKey: Buffer
  }
  interface SwarmConnection extends Duplex {
    remotePublicKey: Buffer
    publicKey: Buffer
    rawStream?: { remoteHost?: string; remotePort?: number }
    userData: unknown
    keepAlive?: number
    setKeepAlive?(ms: number): void
    isInitiator: boolean
    handshakeHash: Uint8Array | null
  }
  interface PeerInfo {
    publicKey: Buffer
    topics: Buffer[]
    explicit: boolean
    client: boolean
    /** Refused by the firewall: Hyperswarm never dials it again until unbanned. */
    banned: boolean
    ban(banned?: boolean): void
  }
  interface PeerDiscovery {
    flushed(): Promise<void>
    refresh(opts?: { server?: boolean; client?: boolean }): Promise<void>
    destroy(): Promise<void>
    topic: Buffer
    isServer: boolean
    isClient: boolean
  }
  interface SwarmOptions {
    dht?: HyperDHT
    keyPair?: KeyPair
    bootstrap?: Array<string | { host: string; port: number }>
    maxPeers?: number
    firewall?: (remotePublicKey: Buffer, payload: unknown) => boolean
    /** The relay to connect through (null: none); `force` once a holepunch failed. */
    relayThrough?: (force: boolean | undefined) => Buffer | null
  }
  class Hyperswarm extends EventEmitter {
    constructor(opts?: SwarmOptions)
    dht: HyperDHT
    keyPair: KeyPair
    connections: Set<SwarmConnection>
    peers: Map<string, PeerInfo>
    connecting: number
    suspended: boolean
    destroyed: boolean
    join(topic: Buffer, opts?: { server?: boolean; client?: boolean }): PeerDiscovery
    leave(topic: Buffer): Promise<void>
    joinPeer(publicKey: Buffer): void
    leavePeer(publicKey: Buffer): void
    status(topic: Buffer): PeerDiscovery | undefined
    topics(): Iterable<PeerDiscovery>
    flush(): Promise<void>
    listen(): Promise<void>
    suspend(): Promise<void>
    resume(): Promise<void>
    destroy(opts?: { force?: boolean }): Promise<void>
    on(event: 'connection', fn: (conn: SwarmConnection, info: PeerInfo) => void): this
    on(event: 'update', fn: () => void): this
    on(event: string, fn: (...args: unknown[]) => void): this
  }
  namespace Hyperswarm {
    export type { SwarmConnection, PeerInfo, PeerDiscovery, KeyPair }
  }
  export = Hyperswarm
}
