/**
 * Real Flux processes inside a NAT lab: `flux dht` on a public host and `flux up` on hosts behind
 * the lab's routers, each started with `ip netns exec <ns> node bin/flux.js ...`. The verbs that
 * only talk to a node's control socket (a Unix socket in its home folder, reachable from any
 * namespace) run from the test's own namespace, exactly as a person types them.
 */
import { spawn, type ChildProcess } from 'child_process'
import fs from 'fs'
import path from 'path'
import { fileURLToPath } from 'url'
import { ControlClient } from '../../src/control/client.js'
import type { MethodName, ParamsOf, ResultOf } from '../../src/control/methods.js'
import { flux, waitFor, type RunResult } from '../cli/helpers.js'
import type { Host, Lab } from './lab.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
export const FLUX_BIN = path.join(root, 'bin', 'flux.js')

/** The environment that seals and unlocks lab profiles cheaply. */
export const LAB_UNLOCK = { FLUX_PASSPHRASE: 'nat lab passphrase', FLUX_KDF: 'interactive' }

/** A long-running flux process in a namespace. */
export class LabProc {
  private out = ''
  private err = ''
  readonly exited: Promise<number | string>
  private gone = false

  constructor(
    readonly name: string,
    readonly child: ChildProcess
  ) {
    child.stdout?.setEncoding('utf-8').on('data', (d: string) => (this.out += d))
    child.stderr?.setEncoding('utf-8').on('data', (d: string) => (this.err += d))
    child.on('error', () => {})
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        this.gone = true
        resolve(code ?? signal ?? 'unknown')
      })
    })
  }

  get running(): boolean {
    return !this.gone
  }

  stdout(): string {
    return this.out
  }

  stderr(): string {
    return this.err
  }

  /** The JSON lines (`--json` events) printed so far. */
  events(): Array<{ event: string; [k: string]: unknown }> {
    const events: Array<{ event: string; [k: string]: unknown }> = []
    for (const line of this.out.split('\n')) {
      if (!line.startsWith('{')) continue
      try {
        events.push(JSON.parse(line) as { event: string })
      } catch {}
    }
    return events
  }

  /** A line of stdout matching `re`, once it appears (null if the process exits first). */
  async line(re: RegExp, timeout: number): Promise<string | null> {
    const found = await waitFor(
      async () => {
        const line = this.out.split('\n').find((l) => re.test(l))
        if (line !== undefined) return { line }
        return this.gone ? { line: null } : null
      },
      () => `${this.name}: a line matching ${re}; stderr: ${this.err.slice(-500)}`,
      timeout,
      50
    )
    return found.line
  }

  /** SIGTERM, then SIGKILL after `timeout` ms. */
  async stop(timeout = 10_000): Promise<void> {
    if (this.gone) return
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeout)
    await this.exited
    clearTimeout(timer)
  }
}

/** A `flux up` in the lab, with a control client. */
export class LabNode {
  constructor(
    readonly name: string,
    readonly host: Host,
    readonly home: string,
    readonly proc: LabProc,
    readonly client: ControlClient
  ) {}

  call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    return this.client.call(method, params)
  }

  async stop(): Promise<void> {
    this.client.close()
    await this.proc.stop()
  }
}

/** Processes of one lab, all stopped by `stopAll` (the lab's destroy kills any left). */
export class LabFlux {
  private readonly procs: LabProc[] = []
  private readonly nodes: LabNode[] = []

  constructor(
    readonly lab: Lab,
    /** Folder for the nodes' homes. */
    readonly dir: string
  ) {}

  /** `flux dht` on a public host; resolves with its address (host:port). */
  async dht(host: Host, port = 49737): Promise<string> {
    const proc = this.start(host, 'dht', ['dht', '--host', host.ip, '--port', String(port)])
    const line = await proc.line(/^\d+\.\d+\.\d+\.\d+:\d+$/, 20_000)
    if (line === null) throw new Error(`flux dht exited: ${proc.stderr()}`)
    return line.trim()
  }

  /**
   * `flux init` (in the test's namespace: it needs no network), then `flux up --json` in the
   * host's namespace; resolves once the node answers on its control socket.
   */
  async up(
    host: Host,
    name: string,
    bootstrap: string,
    extra: string[] = [],
    opts: { profile?: boolean } = {}
  ): Promise<LabNode> {
    const home = path.join(this.dir, name)
    fs.mkdirSync(home, { recursive: true })
    if (opts.profile !== false && !fs.existsSync(path.join(home, 'profile.key'))) {
      const init = await runFlux(['init', '--name', name, '--home', home, '--json'])
      if (init.code !== 0) throw new Error(`flux init ${name}: ${init.stderr}`)
    }
    const args = ['up', '--home', home, '--bootstrap', bootstrap, '--json', ...extra]
    const proc = this.start(host, name, args)
    const answered = await waitFor(
      async () => {
        if (!proc.running) return { client: null }
        const client = await ControlClient.connect(home).catch(() => null)
        return client === null ? null : { client }
      },
      `flux up ${name} to answer on its control socket`,
      30_000
    )
    const client = answered.client
    if (client === null) throw new Error(`flux up ${name} exited: ${proc.stderr()}`)
    const node = new LabNode(name, host, home, proc, client)
    this.nodes.push(node)
    return node
  }

  /** Processes of this lab still running. */
  running(): number {
    return this.procs.filter((p) => p.running).length
  }

  /** Stop every process: nodes first, then the DHT. */
  async stopAll(): Promise<void> {
    for (const n of this.nodes) n.client.close()
    const ups = this.procs.filter((p) => p.name !== 'dht')
    await Promise.all(ups.map((p) => p.stop()))
    await Promise.all(this.procs.map((p) => p.stop()))
  }

  private start(host: Host, name: string, args: string[]): LabProc {
    const [cmd, argv] = this.lab.argv(host, process.execPath, FLUX_BIN, ...args)
    const child = spawn(cmd, argv, {
      cwd: root,
      env: { ...cleanEnv(), ...LAB_UNLOCK },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const proc = new LabProc(name, child)
    this.procs.push(proc)
    return proc
  }
}

/** Run a `flux` verb to completion in the test's namespace (verbs that use a control socket). */
export function runFlux(args: string[], timeout = 120_000): Promise<RunResult> {
  return flux(args, { env: LAB_UNLOCK, timeout })
}

/** Run a verb with --json; throws unless it exits 0 with one JSON document. */
export async function fluxJson<T>(home: string, ...args: string[]): Promise<T> {
  const r = await runFlux([...args, '--home', home, '--json'])
  if (r.code !== 0 || r.json === null) {
    throw new Error(`flux ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`)
  }
  return r.json as T
}

/** The environment of every child: never the person's own FLUX_* settings. */
function cleanEnv(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env }
  for (const k of Object.keys(e)) if (k.startsWith('FLUX_')) delete e[k]
  return e
}
