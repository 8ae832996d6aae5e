declare module 'hyperdht' {
  import type { EventEmitter } from 'events'
  import type { Duplex } from 'stream'
  interface KeyPair {
    publicKey: Buffer
    secretKey: Buffer
  }
  interface DHTOptions {
    bootstrap?: Array<string | { host: string; port: number }>
    host?: string
    port?: number
    ephemeral?: boolean
    firewalled?: boolean
    keyPair?: KeyPair
  }
  /** A UDX stream (udx-native): the transport under a connection. */
  interface RawStream {
    socket: unknown
    remoteHost: string | null
    remotePort: number
  }
  /** A connection: a Noise secret stream over a UDX stream. */
  interface Connection extends Duplex {
    remotePublicKey: Buffer
    publicKey: Buffer
    rawStream: RawStream | null
    setKeepAlive(ms: number): void
  }
  interface ConnectOptions {
    keyPair?: KeyPair
    relayThrough?: Buffer | null | (() => Buffer | null)
    relayAddresses?: unknown
  }
  interface DHTServer extends EventEmitter {
    listen(keyPair?: KeyPair): Promise<unknown>
    close(): Promise<void>
    readonly publicKey: Buffer
  }
  interface ServerOptions {
    /** true rejects the connection. */
    firewall?: (remotePublicKey: Buffer, payload: unknown, address: unknown) => boolean
  }
  class HyperDHT extends EventEmitter {
    constructor(opts?: DHTOptions)
    static bootstrapper(port: number, host: string, opts?: DHTOptions): HyperDHT
    static keyPair(seed?: Buffer): KeyPair
    ready(): Promise<void>
    destroy(opts?: { force?: boolean }): Promise<void>
    address(): { host: string; port: number }
    /** Dial the node whose public key is `remotePublicKey` (an encrypted Noise stream). */
    connect(remotePublicKey: Buffer, opts?: ConnectOptions): Connection
    createServer(opts: ServerOptions, onconnection: (conn: Connection) => void): DHTServer
    createRawStream(opts?: { framed?: boolean; firewall?: unknown }): RawStream
    localAddress(): { host: string; port: number } | null
    /** The DHT nodes in the routing table (most recently seen first). */
    toArray(opts?: { limit?: number }): Array<{ host: string; port: number }>
    readonly destroyed: boolean
    readonly bootstrapped: boolean
    /** Whether the node thinks it cannot be reached unasked (behind a NAT or firewall). */
    readonly firewalled: boolean
    /** The address the DHT sees this node at (port 0: it changes from peer to peer). */
    readonly host: string | null
    readonly port: number
    /** The NAT maps this node to a different port for every peer. */
    readonly randomized: boolean
    readonly io: { serverSocket: unknown; clientSocket: unknown }
    readonly stats: {
      punches: { consistent: number; random: number; open: number }
      relaying: { attempts: number; successes: number; aborts: number }
    }
  }
  namespace HyperDHT {
    export type { Connection, ConnectOptions, DHTServer, KeyPair, RawStream }
  }
  export = HyperDHT
}

declare module 'hyperdht/testnet.js' {
  import type HyperDHT from 'hyperdht'
  interface Testnet {
    nodes: HyperDHT[]
    bootstrap: Array<{ host: string; port: number }>
    destroy(): Promise<void>
  }
  function createTestnet(
    size?: number,
    opts?:
      ((fn: () => Promise<void>) => void) | { teardown?: unknown; host?: string; port?: number }
  ): Promise<Testnet>
  export = createTestnet
}
