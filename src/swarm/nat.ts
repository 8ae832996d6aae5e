/**
 * NAT traversal as this node sees it: which NAT HyperDHT thinks the node is behind, how each
 * connection travels (direct, holepunched or relayed), and which connection attempts keep
 * failing and why. HyperDHT does the traversal; this only watches it, through a HyperDHT that
 * reports every connection it dials (Hyperswarm's dials, and HyperDHT's own dials to relays).
 */
import os from 'os'
import HyperDHT from 'hyperdht'
import { Client as RelayClient } from 'blind-relay'
import type { DialFailure, NatKind, NatStatus, Route } from '../api.js'
import { encodeKey, toHex } from '../identity/keys.js'

type Connection = HyperDHT.Connection
type RawStream = HyperDHT.RawStream

/** A HyperDHT that tells its watcher about every connection it dials. */
export class WatchedDHT extends HyperDHT {
  ondial:
    ((conn: Connection, remote: Buffer, opts: HyperDHT.ConnectOptions | undefined) => void) | null =
    null

  override connect(remotePublicKey: Buffer, opts?: HyperDHT.ConnectOptions): Connection {
    const conn = super.connect(remotePublicKey, opts)
    this.ondial?.(conn, remotePublicKey, opts)
    return conn
  }
}

/** Failing peers remembered at most (the oldest is forgotten first). */
const MAX_FAILING = 32

/** What HyperDHT's connection errors mean, for people. */
const REASONS: Record<string, string> = {
  HOLEPUNCH_DOUBLE_RANDOMIZED_NATS:
    'both this node and the peer are behind NATs that change ports per peer: holepunching cannot work, a relay can',
  HOLEPUNCH_ABORTED: 'the holepunch was given up',
  HOLEPUNCH_PROBE_TIMEOUT: 'the NATs could not be probed in time',
  HOLEPUNCH_INVALID: 'the peer sent a bad holepunch message',
  CANNOT_HOLEPUNCH: 'the peer cannot be holepunched',
  REMOTE_NOT_HOLEPUNCHABLE: 'the punch packets did not get through',
  REMOTE_NOT_HOLEPUNCHING: 'the peer did not start holepunching',
  REMOTE_ABORTED: 'the peer gave up the holepunch',
  PEER_NOT_FOUND: 'the peer is not announced on the DHT (offline?)',
  PEER_CONNECTION_FAILED: 'no DHT node could reach the peer',
  RELAY_ABORTED: 'the relay did not pair us with the peer in time',
  HANDSHAKE_INVALID: 'the handshake failed',
  HANDSHAKE_UNFINISHED: 'the handshake did not finish',
  SERVER_ERROR: 'the peer refused the connection',
  ETIMEDOUT: 'the connection timed out',
  SUSPENDED: 'the node is suspended'
}

/** Codes of a holepunch that did not get through (as opposed to a peer not found). */
const PUNCH_FAILED = new Set([
  'HOLEPUNCH_DOUBLE_RANDOMIZED_NATS',
  'HOLEPUNCH_ABORTED',
  'HOLEPUNCH_PROBE_TIMEOUT',
  'CANNOT_HOLEPUNCH',
  'REMOTE_NOT_HOLEPUNCHABLE',
  'REMOTE_NOT_HOLEPUNCHING'
])

/**
 * A HyperDHT error code in words (the code itself when it is not known). Behind a NAT that
 * changes ports per peer, a failed punch gets the likely cause and the way out: HyperDHT gives
 * up such punches with more than one code (a double randomized pair is often just "aborted").
 */
export function dialReason(code: string, ctx: { kind: NatKind; relays: number }): string {
  const text = REASONS[code] ?? code.toLowerCase().replace(/_/g, ' ')
  if (!PUNCH_FAILED.has(code) || ctx.kind !== 'random') return text
  if (code === 'HOLEPUNCH_DOUBLE_RANDOMIZED_NATS') {
    return ctx.relays > 0 ? text : `${text} (flux up --relay)`
  }
  const fix = ctx.relays > 0 ? 'a relay can' : 'a relay can (flux up --relay)'
  return `${text}: this node's NAT changes ports per peer, so if the peer's does too, holepunching cannot work; ${fix}`
}

export interface NatWatchOptions {
  /** Relay ids this node may use (for the status). */
  relays(): Buffer[]
  /** The relay this node serves, if any (for the status). */
  relaying(): NatStatus['relaying']
  /** An attempt to connect to a peer failed (again). */
  onfail(failure: DialFailure, remotePublicKey: Buffer): void
}

export class NatWatch {
  /** Streams paired through a relay, with the relay's address at the time. */
  private readonly relayed = new WeakMap<object, { host: string; port: number }>()
  /** Failing peers, by swarm key (hex). */
  private readonly failing = new Map<string, DialFailure>()
  private readonly counts = { direct: 0, holepunched: 0, relayed: 0 }

  constructor(
    private readonly dht: WatchedDHT,
    private readonly opts: NatWatchOptions,
    private readonly now: () => number
  ) {
    dht.ondial = (conn, remote, connectOpts) => this.watch(conn, remote, connectOpts)
  }

  /** How a connection travels now. */
  route(conn: { rawStream?: unknown }): Route {
    const raw = conn.rawStream as RawStream | null | undefined
    if (!raw || raw.socket === null || raw.socket === undefined || !raw.remoteHost) return 'unknown'
    const relay = this.relayed.get(raw)
    if (relay && relay.host === raw.remoteHost && relay.port === raw.remotePort) return 'relayed'
    const { serverSocket, clientSocket } = this.dht.io
    // HyperDHT's own sockets carry connections that needed no punch (an open peer, a LAN);
    // a punch always goes out of a socket of its own, from its socket pool
    if (raw.socket === serverSocket || raw.socket === clientSocket) return 'direct'
    return 'holepunched'
  }

  /** A connection opened: count its route; its peer is no longer failing. */
  opened(conn: { remotePublicKey: Buffer; rawStream?: unknown }): void {
    this.failing.delete(toHex(conn.remotePublicKey))
    const route = this.route(conn)
    if (route !== 'unknown') this.counts[route]++
  }

  /** The NAT HyperDHT sees this node behind (from its samples of our public address). */
  kind(): NatKind {
    const dht = this.dht
    if (!dht.firewalled) return 'open'
    if (dht.host === null) return 'unknown'
    return dht.port === 0 ? 'random' : 'consistent'
  }

  status(): NatStatus {
    const dht = this.dht
    const host = dht.host
    const port = dht.port
    const kind = this.kind()
    return {
      firewalled: dht.firewalled,
      kind,
      publicAddress: host === null ? null : port === 0 ? host : `${host}:${port}`,
      behindNat: host === null ? null : !ownAddresses().has(host),
      relays: this.opts.relays().map(encodeKey),
      relaying: this.opts.relaying(),
      failing: [...this.failing.values()].sort((a, b) => b.last - a.last),
      connections: { ...this.counts }
    }
  }

  private watch(conn: Connection, remote: Buffer, opts: HyperDHT.ConnectOptions | undefined): void {
    if (opts === undefined) {
      // HyperDHT dials a relay with no options: note the streams it pairs through it
      queueMicrotask(() => {
        const client = RelayClient._clients.get(conn)
        client?.on('pair', (_initiator, _token, stream) => {
          const raw = conn.rawStream
          if (raw?.remoteHost && stream !== null && typeof stream === 'object') {
            this.relayed.set(stream, { host: raw.remoteHost, port: raw.remotePort })
          }
        })
      })
      return
    }
    const relayed = opts.relayThrough !== null && opts.relayThrough !== undefined
    conn.on('error', (err: unknown) => this.fail(remote, err, relayed))
    conn.once('open', () => this.failing.delete(toHex(remote)))
  }

  private fail(remote: Buffer, err: unknown, relayed: boolean): void {
    const e = err as { code?: unknown; message?: unknown } | null
    const code = typeof e?.code === 'string' ? e.code : 'ERROR'
    // Hyperswarm drops a dial that lost a race with an incoming connection: not a failure
    if (code === 'DUPLICATE_CONNECTION' || /Duplicate connection/.test(String(e?.message))) return
    const key = toHex(remote)
    const at = this.now()
    const before = this.failing.get(key)
    const failure: DialFailure = {
      peer: encodeKey(remote),
      code,
      reason: dialReason(code, { kind: this.kind(), relays: this.opts.relays().length }),
      relayed,
      count: (before?.count ?? 0) + 1,
      first: before?.first ?? at,
      last: at
    }
    this.failing.delete(key)
    this.failing.set(key, failure)
    if (this.failing.size > MAX_FAILING) {
      const oldest = this.failing.keys().next().value
      if (oldest !== undefined) this.failing.delete(oldest)
    }
    this.opts.onfail(failure, remote)
  }
}

/** Every address of this machine's interfaces (in its network namespace). */
function ownAddresses(): Set<string> {
  const out = new Set<string>()
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) out.add(a.address)
  }
  return out
}
