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
      onopen?: () => void
      onclose?: () => void
    }): Channel | null
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
