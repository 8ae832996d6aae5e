declare module 'hypercore' {
  import type { EventEmitter } from 'events'
  class Hypercore extends EventEmitter {
    key: Buffer | null
    discoveryKey: Buffer | null
    length: number
    contiguousLength: number
    byteLength: number
    signedLength: number
    writable: boolean
    readable: boolean
    closed: boolean
    peers: Array<{
      remoteLength: number
      remoteContiguousLength: number
      /** The connection's remote swarm key. */
      remotePublicKey: Buffer
    }>
    ready(): Promise<void>
    close(): Promise<void>
    /** `decrypt: false`: the block as stored (encrypted for an encrypted core). */
    get(
      index: number,
      opts?: { wait?: boolean; timeout?: number; decrypt?: boolean }
    ): Promise<Buffer | null>
    /** Whether block `index` is held locally. */
    has(index: number): Promise<boolean>
    /** Delete blocks from local storage (they may be downloaded again). */
    clear(start: number, end?: number): Promise<unknown>
    append(block: Buffer | Buffer[]): Promise<{ length: number; byteLength: number }>
    update(opts?: { wait?: boolean }): Promise<boolean>
    download(range?: { start?: number; end?: number }): { done(): Promise<void>; destroy(): void }
    treeHash(length?: number): Promise<Buffer>
    getUserData(key: string): Promise<Buffer | null | undefined>
    setUserData(key: string, value: Buffer): Promise<void>
    info(opts?: { storage?: boolean }): Promise<unknown>
    /** Close every session and delete the core from storage (hypercore 11.39). */
    purge(): Promise<void>
    /** The key of the core a manifest describes. */
    static key(manifest: unknown): Buffer
  }
  export = Hypercore
}
