/** The client side of the control channel, used by the `flux` verbs, the demo and tests. */
import net from 'net'
import { FluxError, type FluxErrorCode } from '../errors.js'
import { LineReader, type Response } from './protocol.js'
import { checkSocket, socketPath } from './socket-path.js'
import { liveNode } from '../store/pid-file.js'
import type { MethodName, ParamsOf, ResultOf } from './methods.js'
import type { Progress } from '../api.js'

export class ControlClient {
  private nextId = 1
  // answers can be large (a long feed); the bound only keeps a broken node from exhausting us
  private readonly reader = new LineReader(512 * 1024 * 1024)
  private readonly waiting = new Map<
    number,
    {
      resolve: (v: unknown) => void
      reject: (e: unknown) => void
      onProgress?: ((p: Progress) => void) | undefined
    }
  >()

  /** Resolves when the connection ends (after `node.stop`: once the node has closed). */
  readonly closed: Promise<void>

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', () => {})
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        const err = new FluxError('NODE_CLOSED', 'the node closed the control connection')
        for (const w of this.waiting.values()) w.reject(err)
        this.waiting.clear()
        resolve()
      })
    })
  }

  /**
   * Connect to the node running for `home`; throws NO_NODE when none runs, NODE_UNREACHABLE
   * when one runs but its socket is gone.
   */
  static async connect(home: string): Promise<ControlClient> {
    try {
      return await ControlClient.open(home)
    } catch (err) {
      if (!(err instanceof FluxError) || err.code !== 'NO_NODE') throw err
      const live = await liveNode(home)
      if (live === null) throw err
      throw new FluxError(
        'NODE_UNREACHABLE',
        `a node runs for ${home} (process ${live.pid}) but its control socket ` +
          `${live.socket || socketPath(home)} is gone (deleted?), so no \`flux\` command can ` +
          `reach it: stop it (\`kill ${live.pid}\`, or Ctrl-C where \`flux up\` runs), then ` +
          'start `flux up` again'
      )
    }
  }

  private static async open(home: string): Promise<ControlClient> {
    const file = socketPath(home)
    await checkSocket(home, file)
    return new Promise((resolve, reject) => {
      const socket = net.connect(file)
      socket.once('connect', () => resolve(new ControlClient(socket)))
      socket.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENOTSOCK') {
          reject(new FluxError('NO_NODE', `no node is running for ${home}: start \`flux up\``))
        } else reject(new FluxError('NO_NODE', `cannot reach the node for ${home}: ${err.message}`))
      })
    })
  }

  /** Call a method of the protocol: its parameters and result are typed by `methods.ts`. */
  call<M extends MethodName>(
    method: M,
    params: ParamsOf<M>,
    onProgress?: (p: Progress) => void
  ): Promise<ResultOf<M>> {
    const id = this.nextId++
    return new Promise<ResultOf<M>>((resolve, reject) => {
      if (this.socket.destroyed) {
        reject(new FluxError('NODE_CLOSED', 'the node closed the control connection'))
        return
      }
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress })
      this.socket.write(JSON.stringify({ id, method, params }) + '\n')
    })
  }

  close(): void {
    this.socket.end()
  }

  private onData(chunk: Buffer): void {
    const lines = this.reader.push(chunk)
    // a line past the bound: the waiting calls are rejected with NODE_CLOSED on 'close'
    if (this.reader.overflowed) this.socket.destroy()
    for (const line of lines) {
      let msg: Response
      try {
        msg = JSON.parse(line) as Response
      } catch {
        continue
      }
      const w = this.waiting.get(msg.id)
      if (!w) continue
      if ('progress' in msg) {
        w.onProgress?.(msg.progress)
        continue
      }
      this.waiting.delete(msg.id)
      if ('error' in msg)
        w.reject(new FluxError(msg.error.code as FluxErrorCode, msg.error.message))
      else w.resolve(msg.result)
    }
  }
}
