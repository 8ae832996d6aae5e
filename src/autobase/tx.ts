/**
 * A read-through, write-through cache over one Hyperbee batch, for one apply call.
 * The project record, the author's member record and the like are read by almost every op:
 * within one apply call they are read from the batch once. Values are cached as JSON text
 * and parsed on every read, so a handler that mutates what it read and then skips the op
 * cannot leak the mutation into later reads.
 *
 * One op at a time, its writes are held back until the runner `commit`s them, or dropped by
 * `rollback`: an op that fails in an unexpected way changes nothing. Committed writes reach
 * the batch at `flush`: in the order they were made (the view is built exactly as if they had
 * gone straight to the batch), or, for a compact layout, once per key in key order, so a key
 * written by every op of a call (a page of posts, a credit counter) is one view block, not
 * one per op.
 */
import type Hyperbee from 'hyperbee'

/**
 * An error of the view's storage (a read or write of the batch failed), not of the op being
 * applied: the runner lets it end the apply call instead of skipping the op, because a local
 * failure must never make one peer skip what the others apply.
 */
export class ViewStorageError extends Error {
  constructor(override readonly cause: unknown) {
    super(`view storage failed: ${cause instanceof Error ? cause.message : 'unknown error'}`)
  }
}

export class ViewTx {
  private readonly cache = new Map<string, string | null>()
  /**
   * Writes of the op in progress, in order, as JSON text (a later mutation cannot leak in);
   * null text: a delete.
   */
  private held: Array<[string, string | null]> = []
  /** Cache entries the op in progress replaced, to restore on rollback (first value wins). */
  private undo = new Map<string, string | null | undefined>()
  /** Committed writes of the call, in order, not yet in the batch. */
  private log: Array<[string, string | null]> = []

  constructor(private readonly batch: Hyperbee.HyperbeeBatch) {}

  async get<T>(key: string): Promise<T | null> {
    let text = this.cache.get(key)
    if (text === undefined) {
      let node: { value: unknown } | null
      try {
        node = await this.batch.get(key)
      } catch (err) {
        throw new ViewStorageError(err)
      }
      text = node === null ? null : JSON.stringify(node.value)
      this.cache.set(key, text)
    }
    return text === null ? null : (JSON.parse(text) as T)
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== null
  }

  // async, as it was when it wrote through: callers await it
  async put(key: string, value: unknown): Promise<void> {
    return this.putJson(key, JSON.stringify(value))
  }

  /**
   * Put a value given as its JSON text, built by the caller (a page that grows by a post at a
   * time is not stringified whole for every post). The text must be what `JSON.stringify`
   * makes of the value: the batch gets the value parsed from it.
   */
  async putJson(key: string, text: string): Promise<void> {
    if (!this.undo.has(key)) this.undo.set(key, this.cache.get(key))
    this.cache.set(key, text)
    this.held.push([key, text])
  }

  /** The JSON text this call holds for `key` (undefined: not read or written in this call). */
  textOf(key: string): string | null | undefined {
    return this.cache.get(key)
  }

  async del(key: string): Promise<void> {
    if (!this.undo.has(key)) this.undo.set(key, this.cache.get(key))
    this.cache.set(key, null)
    this.held.push([key, null])
  }

  /** Keep the op's held writes for the batch (they reach it at {@link flush}). */
  async commit(): Promise<void> {
    for (const w of this.held) this.log.push(w)
    this.held = []
    this.undo.clear()
  }

  /**
   * The greatest key in `[prefix, key]` that holds a value, in the view as this call left it
   * (writes not yet flushed included), or null.
   */
  async floor(prefix: string, key: string): Promise<string | null> {
    let best: string | null = null
    for (const [k, text] of this.cache) {
      if (text !== null && k >= prefix && k <= key && (best === null || k > best)) best = k
    }
    try {
      for await (const e of this.batch.createReadStream({ gte: prefix, lte: key, reverse: true })) {
        if (best !== null && e.key <= best) break
        if (this.cache.get(e.key) === null) continue // deleted in this call
        best = e.key
        break
      }
    } catch (err) {
      throw new ViewStorageError(err)
    }
    return best
  }

  /** Forget the op's held writes, as if it had never run. */
  rollback(): void {
    for (const [key, text] of this.undo) {
      if (text === undefined) this.cache.delete(key)
      else this.cache.set(key, text)
    }
    this.held = []
    this.undo.clear()
  }

  /**
   * Write the call's committed writes to the batch and flush it: in order, or with `coalesce`
   * only the last write of each key, in key order.
   */
  async flush(coalesce = false): Promise<void> {
    await this.commit()
    let writes = this.log
    this.log = []
    if (coalesce) {
      const last = new Map<string, string | null>(writes)
      writes = [...last].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    }
    try {
      for (const [key, text] of writes) {
        if (text === null) await this.batch.del(key)
        else await this.batch.put(key, JSON.parse(text))
      }
      await this.batch.flush()
    } catch (err) {
      throw new ViewStorageError(err)
    }
  }
}
