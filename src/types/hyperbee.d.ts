declare module 'hyperbee' {
  import type Hypercore from 'hypercore'
  import type { Readable } from 'stream'
  interface Entry<V = unknown> {
    seq: number
    key: string
    value: V
  }
  interface Range {
    gt?: string
    gte?: string
    lt?: string
    lte?: string
    limit?: number
    reverse?: boolean
  }
  interface HyperbeeBatch {
    get(key: string): Promise<Entry | null>
    put(key: string, value: unknown): Promise<void>
    del(key: string): Promise<void>
    createReadStream(range?: Range): Readable & AsyncIterable<Entry>
    flush(): Promise<void>
    close(): Promise<void>
  }
  class Hyperbee {
    constructor(
      core: Hypercore,
      opts?: { keyEncoding?: string; valueEncoding?: string; extension?: boolean }
    )
    core: Hypercore
    version: number
    ready(): Promise<void>
    close(): Promise<void>
    get(key: string): Promise<Entry | null>
    put(key: string, value: unknown): Promise<void>
    del(key: string): Promise<void>
    batch(): HyperbeeBatch
    createReadStream(range?: Range): Readable & AsyncIterable<Entry>
    /** Every put and del, in the order written (`seq` is the block). */
    createHistoryStream(opts?: {
      gte?: number
      lt?: number
    }): Readable & AsyncIterable<Entry & { type: 'put' | 'del' }>
    snapshot(): Hyperbee
    checkout(version: number): Hyperbee
  }
  namespace Hyperbee {
    export type { Entry, Range, HyperbeeBatch }
  }
  export = Hyperbee
}
