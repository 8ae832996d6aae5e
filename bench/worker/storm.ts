/**
 * A connection storm (issue 10, item 7): strangers open many short connections to a node, each
 * with a fresh key pair, straight to its public key over HyperDHT (as a flood from the
 * internet would, not through a topic). The listeners: a Flux node (`FluxActor`) or a raw
 * Hyperswarm that accepts every connection.
 */
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'

let raw: Hyperswarm | null = null

/** A raw Hyperswarm listening on the testnet, accepting everything: the baseline's node. */
export async function rawListen(bootstrap: string[]): Promise<string> {
  // on loopback as a Flux node there is: bound to 127.0.0.1, not firewalled
  const dht = new HyperDHT({ bootstrap, host: '127.0.0.1', firewalled: false } as never)
  raw = new Hyperswarm({ dht, firewall: () => false })
  raw.on('connection', (c: { on(e: string, f: () => void): void }) => c.on('error', () => {}))
  await raw.listen()
  return raw.keyPair.publicKey.toString('hex')
}

export async function rawClose(): Promise<void> {
  await raw?.destroy()
  raw = null
}

/**
 * Open `n` connections to `key`, `parallel` at a time, each closed 50 ms after it opened;
 * resolves once all have closed.
 */
export async function hit(
  bootstrap: string[],
  key: string,
  n: number,
  parallel = 20
): Promise<{ opened: number; failed: number }> {
  const dht = new HyperDHT({ bootstrap, host: '127.0.0.1', ephemeral: true } as never)
  await dht.ready()
  const target = Buffer.from(key, 'hex')
  let opened = 0
  let failed = 0
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const s = dht.connect(target, { keyPair: HyperDHT.keyPair() })
      s.on('open', () => {
        opened++
        setTimeout(() => s.destroy(), 50)
      })
      s.on('error', () => void failed++)
      s.on('close', () => resolve())
    })
  for (let i = 0; i < n; i += parallel) {
    await Promise.all(Array.from({ length: Math.min(parallel, n - i) }, one))
  }
  await dht.destroy()
  return { opened, failed }
}
