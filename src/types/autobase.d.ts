declare module 'autobase' {
  import type { EventEmitter } from 'events'
  import type Corestore from 'corestore'
  import type Hypercore from 'hypercore'
  interface ApplyNode {
    value: unknown
    from: { key: Buffer }
    length: number
    /** The writer's block's causal dependencies: the tips it had seen when it appended. */
    heads?: Array<{ key: Buffer; length: number }>
    /** An optimistic block (from a node not yet a writer), applied on its own. */
    optimistic?: boolean
  }
  interface ApplyHost {
    addWriter(key: Buffer, opts?: { indexer?: boolean }): Promise<void>
    removeWriter(key: Buffer): Promise<void>
    removeable(key: Buffer): boolean
    ackWriter(key: Buffer): Promise<void>
    /** The system as linearized up to this apply call: the same on every peer. */
    system: {
      /** Indexers that have written since they were added, with their core's length. */
      indexers: Array<{ key: Buffer; length: number }>
      /** Indexers added that have not written yet. */
      pendingIndexers: Buffer[]
    }
  }
  interface AutobaseHandlers<V> {
    open: (store: Corestore) => V
    apply: (nodes: ApplyNode[], view: V, host: ApplyHost) => Promise<void>
    close?: (view: V) => Promise<void>
    valueEncoding?: string | unknown
    encryptionKey?: Buffer | null
    ackInterval?: number
    optimistic?: boolean
    fastForward?: boolean
    /** A shared protomux-wakeup instance; the caller adds every replication stream to it. */
    wakeup?: unknown
  }
  class Autobase<V = unknown> extends EventEmitter {
    constructor(store: Corestore, key: Buffer | null, handlers: AutobaseHandlers<V>)
    key: Buffer
    discoveryKey: Buffer
    local: Hypercore
    view: V
    writable: boolean
    isIndexer: boolean
    closed: boolean
    closing: Promise<void> | null
    opened: boolean
    encryptionKey: Buffer | null
    system: {
      members: number
      heads: unknown[]
      indexers: Array<{ key: Buffer; length: number }>
      pendingIndexers: Buffer[]
    } | null
    /** The system as signed by the current indexer quorum (null before the base opens). */
    getIndexedInfo(): Promise<{
      indexers: Array<{ key: Buffer; length: number }>
      pendingIndexers: Buffer[]
    } | null>
    /** The system core (the linearized log of the base). */
    core: Hypercore
    activeWriters: Iterable<{ core: Hypercore }> & { size: number }
    ready(): Promise<void>
    close(): Promise<void>
    /** `optimistic`: a non-writer's block, kept only if apply adds or acks its writer. */
    append(value: unknown, opts?: { optimistic?: boolean }): Promise<unknown>
    update(): Promise<void>
    waitForWritable(): Promise<void>
    hash(): Promise<Buffer>
    /** The key of the store's writer core, through a session that does not lock it. */
    static getLocalKey(store: Corestore): Promise<Buffer>
    static getLocalCore(
      store: Corestore,
      handlers?: unknown,
      encryptionKey?: Buffer | null
    ): Hypercore
  }
  namespace Autobase {
    export type { ApplyNode, ApplyHost, AutobaseHandlers }
  }
  export = Autobase
}
