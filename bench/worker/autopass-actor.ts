/**
 * Autopass (Holepunch's own Autobase app) as a peer-app baseline.
 *
 * Autopass builds its Hyperswarms itself from a `bootstrap` option, which binds its DHT node
 * to 0.0.0.0 and leaves it firewalled: on this machine such nodes do not connect across
 * processes. So before autopass is loaded, the `hyperswarm` module it requires is replaced
 * (in Node's require cache, in this worker process only) by a subclass that, when it is given
 * no DHT, builds one bound to 127.0.0.1 with firewalled: false on the same bootstrap. Nothing
 * else changes: autopass's own code, pairing and replication paths run as published.
 */
import path from 'path'
import { createRequire } from 'module'
import Corestore from 'corestore'
import type AutopassType from 'autopass'
import { firstPass, now } from '../lib/util.js'
import { postText, type WriteMode, type WriteResult } from './replica.js'

const require = createRequire(import.meta.url)
let Autopass: typeof AutopassType | null = null

export const AUTOPASS_LOOPBACK_NOTE =
  "autopass's `hyperswarm` import is swapped (require cache, worker only) for a subclass whose " +
  'default DHT binds 127.0.0.1 with firewalled:false on the testnet bootstrap; autopass code unchanged'

function loadAutopass(): typeof AutopassType {
  if (Autopass !== null) return Autopass
  const HyperDHT = require('hyperdht') as new (opts: object) => unknown
  const swarmPath = require.resolve('hyperswarm', {
    paths: [path.dirname(require.resolve('autopass'))]
  })
  const Original = require(swarmPath) as new (opts?: Record<string, unknown>) => object
  class LoopbackHyperswarm extends Original {
    constructor(opts: Record<string, unknown> = {}) {
      const dht =
        opts.dht ??
        new HyperDHT({
          bootstrap: opts.bootstrap,
          keyPair: opts.keyPair,
          host: '127.0.0.1',
          firewalled: false
        })
      super({ ...opts, dht })
    }
  }
  const cached = require.cache[swarmPath]
  if (!cached) throw new Error('hyperswarm is not in the require cache')
  cached.exports = LoopbackHyperswarm
  Autopass = require('autopass') as typeof AutopassType
  return Autopass
}

export class AutopassActor {
  store!: Corestore
  pass!: AutopassType

  static async create(dir: string, bootstrap: string[]): Promise<AutopassActor> {
    const Ap = loadAutopass()
    const a = new AutopassActor()
    a.store = new Corestore(path.join(dir, 'store'))
    a.pass = new Ap(a.store, { bootstrap })
    await a.pass.ready()
    return a
  }

  /** Pair with an invite, as Autopass.pair does; times from the call to a writable pass. */
  static async pair(
    dir: string,
    bootstrap: string[],
    invite: string
  ): Promise<{ actor: AutopassActor; times: Record<string, number> }> {
    const Ap = loadAutopass()
    const a = new AutopassActor()
    a.store = new Corestore(path.join(dir, 'store'))
    const started = now()
    const pairer = Ap.pair(a.store, invite, { bootstrap })
    a.pass = await pairer.finished()
    const paired = now()
    await a.pass.ready()
    return { actor: a, times: { started, paired, writable: now() } }
  }

  invite(): Promise<string> {
    return this.pass.createInvite()
  }

  async write(n: number, mode: WriteMode): Promise<WriteResult> {
    const started = now()
    if (mode === 'burst') {
      const all: Promise<unknown>[] = []
      for (let i = 0; i < n; i++) all.push(this.pass.add(`entry-${i}`, postText(i)))
      await Promise.all(all)
    } else {
      for (let i = 0; i < n; i++) await this.pass.add(`entry-${i}`, postText(i))
    }
    const acked = now()
    await this.pass.base.update()
    return { started, acked, applied: now() }
  }

  /** Resolve when entries 0..n-1 are all readable here; the time the last check passed. */
  waitEntries(n: number, timeout: number): Promise<number> {
    return firstPass(
      async () => {
        if ((await this.pass.get(`entry-${n - 1}`)) === null) return null
        const at = now()
        return (await this.pass.list().toArray()).length >= n ? at : null
      },
      (fn) => {
        this.pass.on('update', fn)
        return () => this.pass.off('update', fn)
      },
      { poll: 250, timeout, what: `autopass: ${n} entries seen` }
    )
  }

  async close(): Promise<void> {
    await this.pass.close()
    await this.store.close()
  }
}
