/**
 * A bootstrap for a private mesh: a HyperDHT bootstrapper plus a few persistent DHT nodes,
 * so that a private network works with nothing else running (a lone bootstrapper is not
 * enough for records to be stored).
 */
import dgram from 'dgram'
import HyperDHT from 'hyperdht'

export interface BootstrapOptions {
  host?: string
  port?: number
  /** Persistent DHT nodes started beside the bootstrapper. */
  extraNodes?: number
}

export interface RunningBootstrap {
  host: string
  port: number
  /** 'host:port' to hand to nodes. */
  address: string
  close(): Promise<void>
}

export async function startBootstrap(opts: BootstrapOptions = {}): Promise<RunningBootstrap> {
  const host = opts.host ?? '127.0.0.1'
  // the bootstrapper needs an explicit port: without one, ask the OS for a free one
  const bootstrapper = HyperDHT.bootstrapper(opts.port || (await freeUdpPort(host)), host, {
    host,
    firewalled: false
  })
  await bootstrapper.ready()
  const { port } = bootstrapper.address()
  const address = `${host}:${port}`
  const nodes: HyperDHT[] = []
  for (let i = 0; i < (opts.extraNodes ?? 2); i++) {
    const node = new HyperDHT({ bootstrap: [address], ephemeral: false, firewalled: false, host })
    await node.ready()
    nodes.push(node)
  }
  return {
    host,
    port,
    address,
    async close() {
      for (const n of nodes) await n.destroy()
      await bootstrapper.destroy()
    }
  }
}

/** A free UDP port on `host` (HyperDHT speaks UDP); another process may still take it first. */
export function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4')
    socket.once('error', reject)
    socket.bind(0, host, () => {
      const { port } = socket.address()
      socket.close(() => resolve(port))
    })
  })
}
