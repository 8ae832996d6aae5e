declare module 'hyperdht' {
  import type { EventEmitter } from 'events'
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
  class HyperDHT extends EventEmitter {
    constructor(opts?: DHTOptions)
    static bootstrapper(port: number, host: string, opts?: DHTOptions): HyperDHT
    static keyPair(seed?: Buffer): KeyPair
    ready(): Promise<void>
    destroy(opts?: { force?: boolean }): Promise<void>
    address(): { host: string; port: number }
    /** Dial the node whose public key is `remotePublicKey` (an encrypted Noise stream). */
    connect(
      remotePublicKey: Buffer,
      opts?: { keyPair?: KeyPair }
    ): import('stream').Duplex & { remotePublicKey: Buffer }
    readonly destroyed: boolean
    readonly bootstrapped: boolean
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
