declare module 'protomux' {
  import type { Encoder } from 'compact-encoding'
  interface Message {
    send(value: unknown): boolean
  }
  interface Channel {
    readonly opened: boolean
    readonly closed: boolean
    addMessage(opts: { encoding?: Encoder<unknown>; onmessage?: (m: unknown) => void }): Message
    open(handshake?: unknown): void
    close(): void
  }
  class Protomux {
    static from(stream: unknown): Protomux
    createChannel(opts: {
      protocol: string
      id?: Buffer | null
      unique?: boolean
      handshake?: Encoder<unknown> | null
      onopen?: (handshake: unknown) => void
      onclose?: () => void
    }): Channel | null
    /**
     * Call `notify` when the remote opens a channel of this protocol that we have not; the
     * remote's open is refused only once `notify` has returned (or resolved) without our open.
     */
    pair(
      opts: { protocol: string; id?: Buffer | null },
      notify: (id: Buffer | null) => void | Promise<void>
    ): void
    unpair(opts: { protocol: string; id?: Buffer | null }): void
  }
  namespace Protomux {
    export type { Channel, Message }
  }
  export = Protomux
}

declare module 'protomux-wakeup' {
  /** One wakeup protocol per node, shared by its Autobases (Autobase's `wakeup` handler). */
  class ProtomuxWakeup {
    constructor()
    addStream(stream: unknown): void
    destroy(): void
  }
  export = ProtomuxWakeup
}

declare module 'protomux-rpc' {
  import type { EventEmitter } from 'events'
  import type { Encoder } from 'compact-encoding'
  interface RpcOptions {
    protocol?: string
    id?: Buffer | null
    valueEncoding?: Encoder<unknown>
  }
  /** Request/response and events on one protomux channel of a stream's shared muxer. */
  class ProtomuxRPC extends EventEmitter {
    constructor(stream: unknown, opts?: RpcOptions)
    readonly opened: boolean
    readonly closed: boolean
    respond(method: string, handler: (value: unknown) => unknown): this
    request(method: string, value: unknown, opts?: { timeout?: number }): Promise<unknown>
    event(method: string, value: unknown): void
    destroy(err?: Error): void
  }
  export = ProtomuxRPC
}
