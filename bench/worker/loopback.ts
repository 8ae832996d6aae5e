/** A Hyperswarm on a loopback DHT, as the raw baselines use it (see the notes on loopback). */
import Hyperswarm from 'hyperswarm'
import HyperDHT from 'hyperdht'
import type Corestore from 'corestore'

export function loopbackSwarm(
  bootstrap: string[],
  keyPair?: { publicKey: Buffer; secretKey: Buffer }
): Hyperswarm {
  const dht = new HyperDHT({
    bootstrap,
    host: '127.0.0.1',
    firewalled: false,
    ...(keyPair ? { keyPair } : {})
  })
  return new Hyperswarm({ dht, ...(keyPair ? { keyPair } : {}) })
}

/** Replicate `store` on every connection of `swarm`; returns the swarm for chaining. */
export function replicateOn(swarm: Hyperswarm, store: Corestore): Hyperswarm {
  swarm.on('connection', (conn) => {
    conn.on('error', () => {})
    store.replicate(conn)
  })
  return swarm
}

/** Announce first, then look up: avoids the join race of two peers joining at once. */
export async function joinTopic(swarm: Hyperswarm, topic: Buffer): Promise<void> {
  const d = swarm.join(topic, { server: true, client: true })
  await d.flushed()
  await d.refresh({ server: true, client: true }).catch(() => {})
}
