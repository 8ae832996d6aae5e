/** The node side of the control channel: runs each request's method against the use-cases. */
import fs from 'fs/promises'
import net from 'net'
import { FluxError } from '../errors.js'
import {
  LineReader,
  MAX_REQUEST_BYTES,
  socketPath,
  type Request,
  type Response
} from './protocol.js'
import { prepareSocketDir } from './socket-path.js'
import { removePidFile, writePidFile } from '../store/pid-file.js'
import { withTimeout } from '../util/clock.js'
import { depthExceeds } from '../autobase/shapes.js'
import { METHODS, type Entry } from './handlers/index.js'
import type { MethodName } from './methods.js'
import type { FluxApp } from '../app/index.js'
import type { Progress } from '../api.js'

/** Deepest nesting a request may have (a kv value may nest up to 64 levels inside params). */
const MAX_REQUEST_DEPTH = 100

/**
 * What is answered at once while the node's profile is still unlocking (the key file's key
 * derivation takes seconds): reads that do not depend on who this node is. Anything else waits
 * for the unlock, and fails as it failed (a wrong passphrase: PASSPHRASE_WRONG).
 */
const ANSWERED_WHILE_UNLOCKING: ReadonlySet<string> = new Set<MethodName>([
  'status',
  'peers',
  'post.feed',
  'task.list',
  'kv.get',
  'kv.list',
  'toggle.show',
  'peer.pending',
  'peer.blocked',
  'phonebook.show',
  'host.list'
])

/** How long a request waits for a node being reopened (see `hold`) before it gives up. */
const HOLD_TIMEOUT = 30_000

export class ControlServer {
  private readonly server: net.Server
  private readonly sockets = new Set<net.Socket>()
  readonly path: string
  private listenerClosed: Promise<void> | null = null
  private current: FluxApp
  /** Requests wait on `until` (a node being swapped), or fail at once with `error`. */
  private held: { until: Promise<void>; release: () => void; error: FluxError | null } | null = null

  constructor(
    app: FluxApp,
    private readonly onStop: () => void = () => {}
  ) {
    this.current = app
    this.path = socketPath(app.node.home)
    this.server = net.createServer((socket) => this.onSocket(socket))
  }

  /** The use-cases requests run against (the node behind the socket). */
  get app(): FluxApp {
    return this.current
  }

  /**
   * Hold requests while the node behind the socket is replaced (a reopen after a full disk):
   * they wait for `setApp` (at most 30 s), or, given `error`, fail with it at once.
   */
  hold(error: FluxError | null = null): void {
    if (this.held) {
      this.held.error = error
      return
    }
    let release = (): void => {}
    const until = new Promise<void>((resolve) => (release = resolve))
    this.held = { until, release, error }
  }

  /** Serve requests with `app` from now on (same home, same socket), releasing held ones. */
  setApp(app: FluxApp): void {
    if (app.node.home !== this.current.node.home) {
      throw new FluxError('INVALID_INPUT', 'a control server serves one home')
    }
    this.current = app
    const held = this.held
    this.held = null
    held?.release()
  }

  /** Listen on the home's socket, replacing a stale socket file left by a crashed node. */
  async listen(): Promise<void> {
    await prepareSocketDir(this.app.node.home, this.path)
    await fs.unlink(this.path).catch(() => {})
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.path, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    await fs.chmod(this.path, 0o600).catch(() => {})
    // which process this is, for a client that finds the socket gone (see pid-file.ts)
    await writePidFile(this.app.node.home, this.path).catch(() => {})
  }

  /**
   * Stop accepting connections and remove the socket file, but keep the open connections:
   * a `node.stop` caller waits on its connection to learn when the node has really closed.
   */
  async stopListening(): Promise<void> {
    if (this.listenerClosed) return
    this.listenerClosed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    await fs.unlink(this.path).catch(() => {})
    await removePidFile(this.app.node.home).catch(() => {})
  }

  /** Drop every connection and wait for the listener to be gone. */
  async close(): Promise<void> {
    void this.stopListening()
    for (const s of this.sockets) s.destroy()
    await this.listenerClosed
  }

  private onSocket(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => this.sockets.delete(socket))
    const reader = new LineReader(MAX_REQUEST_BYTES)
    socket.on('data', (chunk: Buffer) => {
      if (reader.overflowed) return
      for (const line of reader.push(chunk)) void this.handle(socket, line)
      if (reader.overflowed) this.refuse(socket)
    })
  }

  /** A request line too long to be one: say so, then close (nothing more is read). */
  private refuse(socket: net.Socket): void {
    if (socket.destroyed || socket.writableEnded) return
    socket.pause()
    const error = {
      code: 'CONTROL_PROTOCOL',
      message: `control request longer than ${MAX_REQUEST_BYTES} bytes: connection closed`
    }
    socket.end(JSON.stringify({ id: 0, error }) + '\n', () => socket.destroy())
  }

  private async handle(socket: net.Socket, line: string): Promise<void> {
    const send = (msg: Response): void => {
      if (!socket.destroyed) socket.write(JSON.stringify(msg) + '\n')
    }
    let req: Request
    try {
      req = JSON.parse(line) as Request
      if (typeof req.id !== 'number' || typeof req.method !== 'string')
        throw new Error('bad request')
    } catch {
      send({ id: 0, error: { code: 'CONTROL_PROTOCOL', message: 'malformed control request' } })
      return
    }
    // bounded before anything recursive (a param check, JSON.stringify) walks it: a value
    // nested 100,000 deep fits in a 1 MiB line and would overflow the stack
    if (depthExceeds(req, MAX_REQUEST_DEPTH)) {
      const message = `control request nested deeper than ${MAX_REQUEST_DEPTH} levels`
      send({ id: req.id, error: { code: 'CONTROL_PROTOCOL', message } })
      return
    }
    try {
      if (req.method === 'node.stop') {
        send({ id: req.id, result: { stopping: true } })
        this.onStop()
        return
      }
      if (this.held) await this.waitHeld()
      if (this.listenerClosed !== null) {
        // the node is closing under us: a clear answer beats whatever a half-closed store throws
        throw new FluxError('NODE_CLOSED', 'the node is stopping')
      }
      const result = await this.run(req.method, req.params ?? {}, (progress) =>
        send({ id: req.id, progress })
      )
      send({ id: req.id, result: result ?? null })
    } catch (err) {
      const e = FluxError.from(err)
      send({ id: req.id, error: e.toJSON() })
    }
  }

  private async waitHeld(): Promise<void> {
    const held = this.held
    if (!held) return
    if (held.error) throw held.error
    const message = 'the node is reopening (after a full disk) and did not answer within 30 s'
    await withTimeout(held.until, HOLD_TIMEOUT, message)
    if (this.held?.error) throw this.held.error
  }

  private async run(
    method: string,
    params: unknown,
    progress: (p: Progress) => void
  ): Promise<unknown> {
    if (!Object.hasOwn(METHODS, method)) {
      throw new FluxError('CONTROL_PROTOCOL', `unknown method "${method}"`)
    }
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      throw new FluxError('INVALID_INPUT', 'params must be an object')
    }
    const entry = METHODS[method as Exclude<MethodName, 'node.stop'>] as Entry<MethodName>
    const parsed = entry.parse(params as Record<string, unknown>)
    if (!ANSWERED_WHILE_UNLOCKING.has(method)) await this.app.node.profile.unlocked()
    return entry.run(parsed, { app: this.app, progress })
  }
}
