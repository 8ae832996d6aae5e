/**
 * A real `flux up` process (bin/flux.js, as a person starts it) on the testnet, driven over its
 * control socket with the same ControlClient the `flux` verbs use. Its RSS is read from /proc.
 */
import type { MethodName, ParamsOf, ResultOf } from '../../src/control/methods.js'
import { spawn, spawnSync, type ChildProcess } from 'child_process'
import fs from 'fs'
import path from 'path'
import { fileURLToPath } from 'url'
import { ControlClient } from '../../src/control/client.js'
import { pollUntil, sleep, within, MiB } from './util.js'

const BIN = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'bin',
  'flux.js'
)

/** The node flags of bin/flux.js's `#!` line: `flux up` runs with them when a person starts it. */
const NODE_FLAGS = (() => {
  const first = fs.readFileSync(BIN, 'utf-8').split('\n')[0] ?? ''
  const m = /^#!\/usr\/bin\/env (?:-S )?node(.*)$/.exec(first)
  return (m?.[1] ?? '').split(' ').filter(Boolean)
})()

export interface FluxUpOptions {
  /** false: no profile (a hosting-only node); default: one is made with `flux init` first. */
  profile?: boolean
  /** The key derivation cost of that profile's key file (default interactive: cheap). */
  kdf?: 'interactive' | 'moderate'
  /** How often to try the control socket while it starts (ms, default 100). */
  poll?: number
}

export class FluxUp {
  static readonly live = new Set<FluxUp>()
  readonly client: ControlClient
  private readonly tail: string[] = []

  private constructor(
    private readonly child: ChildProcess,
    client: ControlClient,
    readonly exited: Promise<void>,
    /** When the process was spawned (performance.now()). */
    readonly spawnedAt: number,
    /** From the spawn until the first `status` was answered on the control socket (ms). */
    readonly answeredIn: number
  ) {
    this.client = client
  }

  get pid(): number {
    return this.child.pid ?? 0
  }

  static async start(home: string, bootstrap: string[], opts: FluxUpOptions = {}): Promise<FluxUp> {
    fs.mkdirSync(home, { recursive: true })
    // members are profiles: a fresh home gets one first (cheap key derivation: not measured)
    const kdf = opts.kdf ?? 'interactive'
    const env = { ...process.env, NO_COLOR: '1', FLUX_PASSPHRASE: 'bench', FLUX_KDF: kdf }
    if (opts.profile !== false && !fs.existsSync(path.join(home, 'profile.key'))) {
      const r = spawnSync(process.execPath, [BIN, 'init', '--name', 'bench', '--home', home], {
        env,
        encoding: 'utf-8'
      })
      if (r.status !== 0) throw new Error(`flux init failed: ${r.stderr}`)
    }
    const spawned = performance.now()
    const child = spawn(
      process.execPath,
      [
        ...NODE_FLAGS,
        BIN,
        'up',
        '--home',
        home,
        '--bootstrap',
        bootstrap.join(','),
        '--host',
        '127.0.0.1'
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env }
    )
    const tail: string[] = []
    for (const s of [child.stdout, child.stderr]) {
      s?.setEncoding('utf-8')
      s?.on('data', (d: string) => {
        tail.push(...d.split('\n').filter(Boolean))
        tail.splice(0, Math.max(0, tail.length - 20))
      })
    }
    let gone = false
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => ((gone = true), resolve()))
    )
    child.on('error', () => {})
    const kill = (): void => void (gone || child.kill('SIGKILL'))
    try {
      const client = await pollUntil(
        '`flux up` to answer on its control socket',
        async () => {
          if (gone) throw new Error(`flux up exited: ${tail.join(' | ')}`)
          const c = await ControlClient.connect(home).catch(() => null)
          if (c === null) return null
          // answered: a socket that accepts but cannot answer yet does not count
          return c.call('status', {}).then(
            () => c,
            () => (c.close(), null)
          )
        },
        30_000,
        opts.poll ?? 100
      )
      const up = new FluxUp(child, client, exited, spawned, performance.now() - spawned)
      up.tail.push(...tail)
      FluxUp.live.add(up)
      void exited.then(() => FluxUp.live.delete(up))
      return up
    } catch (err) {
      kill()
      throw err
    }
  }

  /** Resident memory of the process now, in MiB (no forced GC: what a person would see). */
  rss(): number {
    const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf-8')
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN)
    return (kb * 1024) / MiB
  }

  call<M extends MethodName>(
    method: M,
    params: ParamsOf<M>,
    timeout = 60_000
  ): Promise<ResultOf<M>> {
    return within(this.client.call(method, params), timeout, `flux up ${method}`)
  }

  async stop(): Promise<void> {
    await this.client.call('node.stop', {}).catch(() => {})
    this.client.close()
    const timer = setTimeout(() => this.kill(), 15_000)
    await this.exited
    clearTimeout(timer)
    await sleep(0)
  }

  kill(): void {
    try {
      this.child.kill('SIGKILL')
    } catch {}
  }

  static killAll(): void {
    for (const u of FluxUp.live) u.kill()
  }
}
