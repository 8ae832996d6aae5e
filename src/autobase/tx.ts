/**
 * A read-through, write-through cache over one Hyperbee batch, for one apply call.
 * The project record, the author's member record and the like are read by almost every op:
 * within one apply call they are read from the batch once. Values are cached as JSON text
 * and parsed on every read, so a handler that mutates what it read and then skips the op
 * cannot leak the mutation into later reads.
 */
import type Hyperbee from 'hyperbee'

export class ViewTx {
  private readonly cache = new Map<string, string | null>()

  constructor(private readonly batch: Hyperbee.HyperbeeBatch) {}

  async get<T>(key: string): Promise<T | null> {
    let text = this.cache.get(key)
    if (text === undefined) {
      const node = await this.batch.get(key)
      text = node === null ? null : JSON.stringify(node.value)
      this.cache.set(key, text)
    }
    return text === null ? null : (JSON.parse(text) as T)
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== null
  }

  async put(key: string, value: unknown): Promise<void> {
    this.cache.set(key, JSON.stringify(value))
    await this.batch.put(key, value)
  }

  async del(key: string): Promise<void> {
    this.cache.set(key, null)
    await this.batch.del(key)
  }

  flush(): Promise<void> {
    return this.batch.flush()
  }
}
