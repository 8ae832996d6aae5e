/** `flux dht`: a private DHT bootstrap for a local or private mesh, in the foreground. */
import { flag, summary, description } from 'paparam'
import { FluxError } from '../errors.js'
import { intFlag, stringFlag, verb } from './command.js'
import { onShutdown, within } from './signals.js'

export const DEFAULT_DHT_PORT = 49737

export const dht = verb(
  'dht',
  [
    summary('Run a private DHT bootstrap node in the foreground'),
    description(
      'Prints its address (host:port) on one line, then runs until SIGINT or SIGTERM.\n' +
        'Give the address to nodes: `flux up --bootstrap HOST:PORT`.'
    ),
    flag('--host <addr>', 'address to bind (default: 127.0.0.1)'),
    flag('--port <port>', `UDP port to bind (default: ${DEFAULT_DHT_PORT})`)
  ],
  async (inv, out) => {
    const host = stringFlag(inv, 'host') ?? '127.0.0.1'
    const port = intFlag(inv, 'port', { min: 1, max: 65535 }) ?? DEFAULT_DHT_PORT
    const shutdown = onShutdown()
    try {
      // loaded here, not at the top: the other verbs should not pay for the DHT's modules
      const { startBootstrap } = await import('../swarm/bootstrap.js')
      const { bindError } = await import('../swarm/bind-errors.js')
      const running = await startBootstrap({ host, port }).catch((err: unknown) => {
        const mistake = bindError(err, host, port)
        if (mistake !== null) throw mistake
        const reason = err instanceof Error ? err.message : String(err)
        throw new FluxError('INTERNAL', `cannot run a DHT bootstrap on ${host}:${port}: ${reason}`)
      })
      if (out.json) out.event('listening', { address: running.address, host, port: running.port })
      else out.line(running.address)
      const signal = await shutdown.signal
      if (!out.json) out.note(`${signal}: stopping the DHT bootstrap`)
      await within(running.close(), 10_000, 'stopping the DHT bootstrap')
      if (out.json) out.event('stopped')
    } finally {
      shutdown.dispose()
    }
  }
)
