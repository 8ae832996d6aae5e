/** Raw Hypercore: local appends, and replication of a core to a fresh reader (baselines). */
import path from 'path'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import type Hyperswarm from 'hyperswarm'
import { now } from '../lib/util.js'
import { loopbackSwarm, replicateOn, joinTopic } from './loopback.js'
import { postText } from './replica.js'

export class CoreActor {
  store!: Corestore
  core!: Hypercore
  swarm: Hyperswarm | null = null

  static async open(dir: string, key: string | null): Promise<CoreActor> {
    const a = new CoreActor()
    a.store = new Corestore(path.join(dir, 'store'))
    await a.store.ready()
    a.core =
      key === null ? a.store.get({ name: 'bench' }) : a.store.get({ key: Buffer.from(key, 'hex') })
    await a.core.ready()
    return a
  }

  /** Append `n` blocks of `size` bytes: one awaited append each, or arrays of `batch`. */
  async append(n: number, size: number, batch: number): Promise<{ started: number; done: number }> {
    const block = (i: number): Buffer => Buffer.from(postText(i).padEnd(size, '.').slice(0, size))
    const started = now()
    if (batch <= 1) {
      for (let i = 0; i < n; i++) await this.core.append(block(i))
    } else {
      for (let i = 0; i < n; i += batch) {
        const arr: Buffer[] = []
        for (let j = i; j < Math.min(n, i + batch); j++) arr.push(block(j))
        await this.core.append(arr)
      }
    }
    return { started, done: now() }
  }

  async serve(bootstrap: string[]): Promise<void> {
    this.swarm = replicateOn(loopbackSwarm(bootstrap), this.store)
    await joinTopic(this.swarm, this.core.discoveryKey as Buffer)
  }

  /** Join the core's topic and download every block up to `length`: the time it took. */
  async fetch(
    bootstrap: string[],
    length: number
  ): Promise<{ started: number; connected: number; done: number }> {
    const started = now()
    let connected = 0
    this.swarm = replicateOn(loopbackSwarm(bootstrap), this.store)
    this.swarm.once('connection', () => (connected = now()))
    const joined = joinTopic(this.swarm, this.core.discoveryKey as Buffer)
    const range = this.core.download({ start: 0, end: length })
    await range.done()
    const done = now()
    await joined.catch(() => {})
    return { started, connected, done }
  }

  info(): Record<string, number> {
    return {
      length: this.core.length,
      contiguous: this.core.contiguousLength,
      bytes: this.core.byteLength
    }
  }

  async close(): Promise<void> {
    if (this.swarm) await this.swarm.destroy()
    await this.core.close()
    await this.store.close()
  }
}
