declare module 'blind-relay' {
  import type { EventEmitter } from 'events'
  import type { Duplex } from 'stream'
  interface Session extends EventEmitter {
    destroy(err?: Error): void
  }
  /** Relays UDX streams between pairs of peers that ask with the same token. */
  class Server extends EventEmitter {
    constructor(opts: { createStream(opts: unknown): unknown })
    accept(stream: Duplex, opts?: { id?: Buffer }): Session
    close(): Promise<void>
    readonly stats: {
      sessions: { active: number }
      pairings: { active: number; matched: number }
      streams: { active: number }
    }
  }
  /** The side of a peer that asks a relay to pair it (HyperDHT makes these itself). */
  class Client extends EventEmitter {
    /** One client per relay connection, made by HyperDHT when it relays. */
    static _clients: WeakMap<object, Client>
    on(
      event: 'pair',
      fn: (isInitiator: boolean, token: Buffer, stream: unknown, remoteId: number) => void
    ): this
    on(event: string, fn: (...args: unknown[]) => void): this
  }
  export { Server, Client }
}
