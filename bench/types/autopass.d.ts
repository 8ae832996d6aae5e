// Ambient types for autopass (untyped CommonJS), declaring only what the bench uses.
// They live here rather than in src/types because only the bench uses autopass.
declare module 'autopass' {
  import type Corestore from 'corestore'
  import type Autobase from 'autobase'
  interface AutopassOptions {
    bootstrap?: Array<string | { host: string; port: number }> | null
    key?: Buffer
    encryptionKey?: Buffer
    replicate?: boolean
  }
  interface Pairer {
    ready(): Promise<void>
    close(): Promise<void>
    finished(): Promise<Autopass>
  }
  class Autopass {
    constructor(store: Corestore, opts?: AutopassOptions)
    base: Autobase
    swarm: unknown
    writable: boolean
    ready(): Promise<void>
    close(): Promise<void>
    createInvite(opts?: { readOnly?: boolean }): Promise<string>
    add(key: string, value: string): Promise<void>
    get(key: string): Promise<{ value: string } | null>
    list(): { toArray(): Promise<unknown[]> }
    on(event: 'update', fn: () => void): this
    off(event: 'update', fn: () => void): this
    static pair(store: Corestore, invite: string, opts?: AutopassOptions): Pairer
  }
  export = Autopass
}
