/**
 * A local mesh on loopback made of real processes: one `flux dht` bootstrap and N `flux up`
 * nodes, each with its own home in one temporary folder, driven over their control sockets.
 */
import type { MethodName, ParamsOf, ResultOf } from '../control/methods.js'
import crypto from 'crypto'
import fs from 'fs'
import { freeUdpPort } from '../swarm/bootstrap.js'
import os from 'os'
import path from 'path'
import { fileURLToPath } from 'url'
import { ControlClient } from '../control/client.js'
import { socketPath } from '../control/protocol.js'
import { FluxError } from '../errors.js'
import type { NodeStatus, Progress } from '../api.js'
import { Children, type Child, type Exit } from './children.js'
import { poll, within } from './wait.js'

const HOST = '127.0.0.1'

export interface Bounds {
  /** A process starting until it answers (bootstrap line, node `status`). */
  start: number
  /** One control call. */
  call: number
}

export const DEFAULT_BOUNDS: Bounds = { start: 30_000, call: 30_000 }

/** A profile made by `flux init --json` (its recovery phrase is dropped unread). */
export interface MeshProfile {
  profile: string
  name: string
  device: string
}

/** The command that runs the `flux` CLI: this Node binary and the package's bin/flux.js. */
export function fluxCommand(): { command: string; prefix: string[] } {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
  const bin = path.join(root, 'bin', 'flux.js')
  if (!fs.existsSync(bin)) {
    throw new FluxError('INTERNAL', `the flux CLI is missing at ${bin}: run \`npm install\``)
  }
  return { command: process.execPath, prefix: [bin] }
}

/** One `flux up` process and its control connection; restartable on the same home. */
export class MeshNode {
  child: Child | null = null
  client: ControlClient | null = null
  peerId = ''

  constructor(
    readonly index: number,
    readonly home: string,
    private readonly bounds: Bounds
  ) {}

  get label(): string {
    return `node ${this.index}`
  }

  /** A control call, bounded, failing at once with the child's output if the process dies. */
  async call<M extends MethodName>(
    method: M,
    params: ParamsOf<M>,
    onProgress?: (p: Progress) => void,
    timeout = this.bounds.call
  ): Promise<ResultOf<M>> {
    const child = this.child
    const client = this.client
    const what = `${this.label}: ${method}`
    if (child && !child.running) throw child.diedError(what)
    if (!child || !client) {
      throw new FluxError('NO_NODE', `${this.label} is not running (wanted ${method})`)
    }
    const died = child.exited.then(() => {
      throw child.diedError(what)
    })
    // the node's own errors keep their code and gain the node's name
    const answer = client.call(method, params, onProgress).catch((err: unknown) => {
      const e = FluxError.from(err)
      throw new FluxError(e.code, `${what}: ${e.detail}`)
    })
    return within(Promise.race([answer, died]), timeout, what)
  }

  closeClient(): void {
    this.client?.close()
    this.client = null
  }
}

export class LocalMesh {
  readonly nodes: MeshNode[]
  bootstrap = ''
  private closing: Promise<void> | null = null
  /**
   * Seals every node's profile keys (FLUX_PASSPHRASE of `flux init` and `flux up`): made up
   * for this run, never shown. FLUX_KDF=interactive keeps the key derivation quick.
   */
  private readonly unlock: Record<string, string> = {
    FLUX_PASSPHRASE: crypto.randomBytes(18).toString('base64'),
    FLUX_KDF: 'interactive'
  }

  /** The passphrase that seals this run's key files (a device joining by link needs it). */
  get passphrase(): string {
    return this.unlock.FLUX_PASSPHRASE as string
  }

  private constructor(
    readonly root: string,
    private readonly children: Children,
    private readonly bounds: Bounds,
    size: number
  ) {
    this.nodes = Array.from(
      { length: size },
      (_, i) => new MeshNode(i + 1, path.join(root, `node-${i + 1}`), bounds)
    )
  }

  /** Make the temporary folder; nothing runs yet. */
  static async create(size: number, bounds: Bounds = DEFAULT_BOUNDS): Promise<LocalMesh> {
    const { command, prefix } = fluxCommand()
    const root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'flux-demo-'))
    return new LocalMesh(root, new Children(command, prefix), bounds, size)
  }

  /** Every pid started so far. */
  get pids(): number[] {
    return this.children.pids
  }

  /**
   * Start `flux dht` on a free loopback port; resolves with the "host:port" line it prints.
   * The port is free when picked but could be taken before the child binds it: try again.
   */
  async startBootstrap(attempts = 3): Promise<{ address: string; pid: number }> {
    for (let i = 1; ; i++) {
      const port = await freeUdpPort()
      const child = this.children.start('bootstrap', [
        'dht',
        '--host',
        HOST,
        '--port',
        String(port)
      ])
      try {
        const address = await child.waitForLine(
          (line) => {
            const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(line.trim())
            return m ? `${m[1]}:${m[2]}` : null
          },
          this.bounds.start,
          'the bootstrap (flux dht) to print its address'
        )
        this.bootstrap = address
        return { address, pid: child.pid }
      } catch (err) {
        if (child.running || i >= attempts) throw err
      }
    }
  }

  /** `flux init` for a node's home: a profile with this name, its keys sealed in the home. */
  async initProfile(node: MeshNode, name: string): Promise<MeshProfile> {
    await fs.promises.mkdir(node.home, { recursive: true })
    const what = `${node.label}: flux init`
    const child = this.children.start(
      `${node.label} (init)`,
      ['init', '--name', name, '--home', node.home, '--json'],
      { env: this.unlock, result: true }
    )
    const exit = await within(child.exited, this.bounds.start, what)
    if (exit.code !== 0) throw child.diedError(what)
    // the document also holds the recovery phrase: take the public fields only
    const doc = JSON.parse(child.stdout()) as Partial<MeshProfile>
    const { profile, device } = doc
    if (typeof profile !== 'string' || typeof device !== 'string') {
      throw new FluxError('INTERNAL', `${what} printed no profile`)
    }
    return { profile, name: doc.name ?? name, device }
  }

  /** Start `flux up` for a node (again, on the same home) and wait until it answers `status`. */
  async startNode(node: MeshNode): Promise<NodeStatus> {
    if (!this.bootstrap) throw new FluxError('INTERNAL', 'start the bootstrap first')
    if (node.child?.running) throw new FluxError('NODE_RUNNING', `${node.label} is already running`)
    await fs.promises.mkdir(node.home, { recursive: true })
    const child = this.children.start(
      node.label,
      ['up', '--home', node.home, '--bootstrap', this.bootstrap, '--host', HOST],
      { env: this.unlock }
    )
    node.child = child
    const what = `${node.label} (pid ${child.pid}) to answer on its control socket`
    const status = await poll<NodeStatus>(
      what,
      async () => {
        const client = await ControlClient.connect(node.home)
        try {
          const s = await within(client.call('status', {}), 5_000, `${node.label}: status`)
          node.client = client
          return s
        } catch (err) {
          client.close()
          throw err
        }
      },
      {
        timeout: this.bounds.start,
        interval: 100,
        abort: () => {
          if (!child.running) throw child.diedError(what)
        }
      }
    )
    node.peerId = status.peerId
    return status
  }

  /** Stop a node's process (SIGTERM, SIGKILL after a bound); its home is kept. */
  async stopNode(node: MeshNode): Promise<Exit> {
    node.closeClient()
    const child = node.child
    if (!child) throw new FluxError('NO_NODE', `${node.label} was never started`)
    return child.stop()
  }

  /**
   * Stop every process (SIGTERM, then SIGKILL after a bound) and remove the temporary
   * folder unless `keep`. Safe to call more than once and from a signal handler.
   */
  close(keep = false): Promise<void> {
    if (this.closing) return this.closing
    this.closing = (async () => {
      for (const n of this.nodes) n.closeClient()
      // nodes first: a node whose DHT bootstrap is already gone waits on its unannounce
      await Promise.all(this.nodes.map((n) => n.child?.stop()))
      await this.children.stopAll()
      for (const n of this.nodes) {
        // a socket placed outside the home (long paths) would survive the folder's removal
        const sock = socketPath(n.home)
        if (!sock.startsWith(this.root)) await fs.promises.unlink(sock).catch(() => {})
      }
      if (!keep) await fs.promises.rm(this.root, { recursive: true, force: true, maxRetries: 3 })
    })()
    return this.closing
  }

  /** SIGKILL every child still running (a second Ctrl-C); close() still waits and cleans. */
  kill(): void {
    this.children.killAll()
  }
}
