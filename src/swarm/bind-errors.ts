/**
 * A UDP socket that cannot bind is a person's mistake far more often than a bug: a port
 * another program holds, an address this machine does not have, a name where an IP address
 * goes. Each gets its own code and a message that says what to change.
 */
import { FluxError } from '../errors.js'

/** The FluxError for a failed bind of `host:port` (port 0: any), or null for anything else. */
export function bindError(err: unknown, host: string | undefined, port: number): FluxError | null {
  const code = (err as { code?: unknown } | null)?.code
  const message = err instanceof Error ? err.message : String(err)
  const where = host === undefined ? `port ${port}` : port === 0 ? host : `${host}:${port}`
  if (code === 'EADDRINUSE') {
    return new FluxError(
      'ADDRESS_IN_USE',
      `${where} is already in use (another \`flux dht\` or \`flux up\`?): ` +
        'choose another port, or stop what uses it'
    )
  }
  if (code === 'EADDRNOTAVAIL') {
    return new FluxError(
      'ADDRESS_UNAVAILABLE',
      `${host ?? where} is not an address of this machine: give one it has ` +
        '(127.0.0.1 for this machine only, 0.0.0.0 for every interface)'
    )
  }
  if (/is not a valid IP address|must be a IPv4 address/.test(message)) {
    return new FluxError(
      'ADDRESS_INVALID',
      `"${host ?? ''}" is not an IPv4 address: give one such as 127.0.0.1 or 0.0.0.0 (not a name)`
    )
  }
  if (code === 'EACCES') {
    return new FluxError(
      'ADDRESS_UNAVAILABLE',
      `${where} is not allowed for this user (ports below 1024 need root): choose another port`
    )
  }
  return null
}
