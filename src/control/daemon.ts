/**
 * Running a node in the foreground: the node, its control socket, and a clean stop.
 * Used by `flux up`, the demo and tests.
 */
import { FluxNode, type FluxNodeOptions } from '../node.js'
import { FluxApp } from '../app/index.js'
import { ControlServer } from './server.js'

export interface Daemon {
  node: FluxNode
  app: FluxApp
  server: ControlServer
  /** Resolves when the daemon has stopped (by stop() or a `node.stop` request). */
  stopped: Promise<void>
  stop(): Promise<void>
}

export async function startDaemon(opts: FluxNodeOptions): Promise<Daemon> {
  const node = new FluxNode(opts)
  await node.ready()
  let stopping: Promise<void> | null = null
  let resolveStopped: () => void = () => {}
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve))
  const stop = (): Promise<void> => {
    if (stopping) return stopping
    stopping = (async () => {
      // no new requests; the open connections stay until the node has closed, so that
      // `flux stop` returns only once the home (its Corestore lock) is free again
      await server.stopListening().catch(() => {})
      try {
        await node.close()
      } finally {
        await server.close().catch(() => {})
        resolveStopped()
      }
    })()
    return stopping
  }
  const app = new FluxApp(node)
  const server = new ControlServer(app, () => void stop())
  try {
    await server.listen()
  } catch (err) {
    await node.close()
    throw err
  }
  return { node, app, server, stopped, stop }
}
