declare module 'corestore' {
  import type Hypercore from 'hypercore'
  import type { Duplex } from 'stream'
  interface KeyPair {
    publicKey: Buffer
    secretKey: Buffer
  }
  interface GetOptions {
    key?: Buffer
    name?: string
    keyPair?: KeyPair
    valueEncoding?: unknown
    active?: boolean
    encryption?: unknown
    exclusive?: boolean
  }
  class Corestore {
    constructor(
      storage: string,
      opts?: { primaryKey?: Buffer; unsafe?: boolean; readOnly?: boolean; allowBackup?: boolean }
    )
    primaryKey: Buffer
    ready(): Promise<void>
    close(): Promise<void>
    get(opts: GetOptions): Hypercore
    namespace(name: string | Buffer): Corestore
    session(opts?: unknown): Corestore
    replicate(stream: unknown, opts?: unknown): Duplex
    createKeyPair(name: string, ns?: Buffer): Promise<KeyPair>
    /** The discovery key of every core in the store (or in one namespace). */
    list(namespace?: Buffer): AsyncIterable<Buffer>
    /** What the store knows about a core (its key), or null. */
    getAuth(discoveryKey: Buffer): Promise<{ key: Buffer } | null>
    closing: Promise<void> | null
    closed: boolean
    /** The shared RocksDB storage (hypercore-storage). */
    storage: { hasCore(discoveryKey: Buffer): Promise<boolean> }
  }
  export = Corestore
}
