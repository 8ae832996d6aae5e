/**
 * Helpers for testing `flux` as people use it: real child processes running bin/flux.js.
 * Every node gets --bootstrap to a local `flux dht` and --host 127.0.0.1, so nothing here
 * touches the public DHT. Every child is killed in teardown (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess } from 'child_process'
import dgram from 'dgram'
import fs from 'fs'
import path from 'path'
import { fileURLToPath } from 'url'
import type { Test } from 'brittle'
import { ControlClient } from '../../src/control/client.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const bin = path.join(root, 'bin', 'flux.js')

export interface RunResult {
  code: number
  stdout: string
  stderr: string
  /** stdout parsed as JSON, or null when it is not one JSON document. */
  json: unknown
}

/** A `flux` process that keeps running (dht, up). */
export interface Running {
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>
  /** Send a signal and wait (bounded) for the exit. */
  stop(signal?: NodeJS.Signals, timeout?: number): Promise<number | string>
}

export interface FluxNodeProc extends Running {
  home: string
}

/** The passphrase every test profile is sealed with (FLUX_PASSPHRASE of init and up). */
export const PASSPHRASE = 'correct horse battery staple'

/** The environment that unlocks (or seals) a test profile, cheaply (FLUX_KDF=interactive). */
export const UNLOCK: Record<string, string> = {
  FLUX_PASSPHRASE: PASSPHRASE,
  FLUX_KDF: 'interactive'
}

export interface UpOptions {
  /** Profile name for `flux init` when the home has no profile yet (default: node-N). */
  name?: string
  /** false: start without a profile (a hosting-only node, or one to link or recover). */
  profile?: boolean
  /** Extra environment for `flux up` (e.g. another FLUX_PASSPHRASE). */
  env?: Record<string, string>
}

export interface Cli {
  /** `flux dht` on a free loopback port; resolves with its address. */
  dht(): Promise<string>
  /**
   * `flux up` for a home on the local dht; resolves once its control socket answers. A home
   * without a profile gets one first (`flux init`), unless `opts.profile` is false.
   */
  up(home: string, extra?: string[], opts?: UpOptions): Promise<FluxNodeProc>
  /** Run one verb with --home and return its outcome. */
  run(home: string, ...args: string[]): Promise<RunResult>
  /** Start one verb with --home and return it running (to signal it while it works). */
  spawn(home: string, ...args: string[]): Running
  /** Like run, with extra environment (FLUX_PASSPHRASE, FLUX_PHRASE...). */
  runWith(env: Record<string, string>, home: string, ...args: string[]): Promise<RunResult>
  /** Like run, with --json, failing the test unless it exits 0 with a JSON document. */
  json<T>(home: string, ...args: string[]): Promise<T>
  bootstrap: string | null
}

/** The environment of every child: never the person's own FLUX_* settings. */
function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env }
  delete e.FLUX_HOME
  delete e.FLUX_BOOTSTRAP
  delete e.FLUX_HOST
  delete e.FLUX_DEBUG
  delete e.FLUX_PASSPHRASE
  delete e.FLUX_PHRASE
  delete e.FLUX_KDF
  return e
}

/**
 * Children still running. brittle ends the process when a test throws, before teardown
 * runs: this exit hook makes sure no node outlives its test file even then.
 */
const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

/** Run `flux args...` to completion (killed after `timeout` ms). */
export function flux(
  args: string[],
  opts: { timeout?: number; env?: Record<string, string>; input?: string } = {}
): Promise<RunResult> {
  const timeout = opts.timeout ?? 60_000
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: root,
      env: { ...env(), ...opts.env },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']
    })
    live.add(child)
    child.on('exit', () => live.delete(child))
    if (opts.input !== undefined) child.stdin?.end(opts.input)
    let stdout = ''
    let stderr = ''
    child.stdout?.setEncoding('utf-8').on('data', (d: string) => (stdout += d))
    child.stderr?.setEncoding('utf-8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`flux ${args.join(' ')} did not exit within ${timeout} ms\n${stderr}`))
    }, timeout)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      let json: unknown = null
      try {
        json = JSON.parse(stdout)
      } catch {}
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, json })
    })
  })
}

function start(args: string[], extraEnv: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...env(), ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  live.add(child)
  child.on('exit', () => live.delete(child))
  let out = ''
  let err = ''
  child.stdout?.setEncoding('utf-8').on('data', (d: string) => (out += d))
  child.stderr?.setEncoding('utf-8').on('data', (d: string) => (err += d))
  const exited = new Promise<number | string>((resolve) => {
    child.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown'))
  })
  const running: Running = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal = 'SIGTERM', timeout = 15_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      let timer: NodeJS.Timeout | null = null
      const late = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeout)))
      const result = await Promise.race([exited, late])
      if (timer) clearTimeout(timer)
      if (result !== 'timeout') return result
      child.kill('SIGKILL')
      await exited
      throw new Error(`flux ${args.join(' ')} ignored ${signal} for ${timeout} ms`)
    }
  }
  return running
}

/** Poll `fn` until it returns a truthy value; fail after `timeout` ms. */
export async function waitFor<T>(
  fn: () => Promise<T | null | undefined | false>,
  what: string | (() => string),
  timeout = 20_000,
  interval = 100
): Promise<T> {
  const deadline = Date.now() + timeout
  let last: unknown = null
  while (Date.now() < deadline) {
    try {
      const v = await fn()
      if (v) return v
    } catch (err) {
      last = err
    }
    await new Promise((r) => setTimeout(r, interval))
  }
  const described = typeof what === 'string' ? what : what()
  throw new Error(
    `timed out after ${timeout} ms waiting for ${described}${last ? `: ${String(last)}` : ''}`
  )
}

/** A UDP port that was free a moment ago (the dht binds UDP). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4')
    socket.on('error', reject)
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address()
      socket.close(() => resolve(port))
    })
  })
}

/** A line of `text` matching `re`, once it appears (or null if the process exits first). */
async function lineOf(proc: Running, re: RegExp, timeout: number): Promise<string | null> {
  let gone = false
  void proc.exited.then(() => (gone = true))
  const found = await waitFor(
    async () => {
      const line = proc
        .stdout()
        .split('\n')
        .find((l) => re.test(l))
      if (line !== undefined) return { line }
      return gone ? { line: null } : null
    },
    `a line matching ${re}`,
    timeout,
    50
  )
  return found.line
}

/** Whether a node answers `status` on the control socket of `home`. */
export async function answers(home: string): Promise<boolean> {
  try {
    const client = await ControlClient.connect(home)
    try {
      await client.call('status', {})
      return true
    } finally {
      client.close()
    }
  } catch {
    return false
  }
}

/** Child processes for one test, all stopped in its teardown. */
export function cli(t: Test): Cli {
  const procs: Running[] = []
  let dhtProc: Running | null = null
  let count = 0
  t.teardown(async () => {
    // nodes before the dht: a node whose DHT vanished first takes seconds to unannounce
    const nodes = procs.filter((p) => p !== dhtProc)
    // a child that ignores SIGTERM is killed, and said so: teardown must not fail the test
    const stop = (p: Running): Promise<unknown> =>
      p.stop('SIGTERM', 5000).catch((e: unknown) => t.comment(String(e)))
    await Promise.all(nodes.map(stop))
    if (dhtProc) await stop(dhtProc)
  })
  const self: Cli = {
    bootstrap: null,
    async dht() {
      for (let attempt = 0; attempt < 3; attempt++) {
        const port = await freePort()
        const proc = start(['dht', '--host', '127.0.0.1', '--port', String(port)])
        procs.push(proc)
        dhtProc = proc
        const line = await lineOf(proc, /^127\.0\.0\.1:\d+$/, 20_000)
        if (line !== null) {
          self.bootstrap = line
          return line
        }
      }
      throw new Error('flux dht did not start')
    },
    async up(home, extra = [], opts = {}) {
      if (self.bootstrap === null) throw new Error('start the dht first')
      if (opts.profile !== false && !fs.existsSync(path.join(home, 'profile.key'))) {
        const name = opts.name ?? `node-${++count}`
        const r = await flux(['init', '--name', name, '--home', home, '--json'], { env: UNLOCK })
        if (r.code !== 0) throw new Error(`flux init for ${home} exited ${r.code}: ${r.stderr}`)
      }
      const args = ['up', '--home', home, '--bootstrap', self.bootstrap, '--host', '127.0.0.1']
      const proc = start([...args, ...extra], { ...UNLOCK, ...opts.env })
      procs.push(proc)
      let gone = false
      void proc.exited.then(() => (gone = true))
      // generous: a loaded machine (2 cores, other test files) can take seconds to start one
      const deadline = Date.now() + 30_000
      while (!(await answers(home))) {
        if (gone) throw new Error(`flux up for ${home} exited early: ${proc.stderr()}`)
        if (Date.now() > deadline)
          throw new Error(`the node for ${home} did not answer within 30 s`)
        await new Promise((r) => setTimeout(r, 100))
      }
      // the socket answers while the profile still unlocks: the banner comes once it is, a line
      // at a time (a reader can see its first line before the rest): wait for the line that
      // names the profile, or says there is none (with --json, the one `up` event)
      const bannerDone = (): boolean => {
        const out = proc.stdout()
        if (out.trimStart().startsWith('{')) return out.includes('\n')
        return /\n {2}(profile |no profile)/.test(out)
      }
      await waitFor(
        async () => bannerDone() || gone,
        `the banner of flux up for ${home}`,
        30_000,
        20
      )
      if (!bannerDone()) {
        throw new Error(`flux up for ${home} exited early: ${proc.stderr()}`)
      }
      return Object.assign(proc, { home })
    },
    run(home, ...args) {
      return flux([...args, '--home', home])
    },
    spawn(home, ...args) {
      const proc = start([...args, '--home', home])
      procs.push(proc)
      return proc
    },
    runWith(extraEnv, home, ...args) {
      return flux([...args, '--home', home], { env: extraEnv })
    },
    async json<T>(home: string, ...args: string[]): Promise<T> {
      const r = await flux([...args, '--home', home, '--json'])
      if (r.code !== 0 || r.json === null) {
        throw new Error(`flux ${args.join(' ')} --json exited ${r.code}: ${r.stderr}${r.stdout}`)
      }
      return r.json as T
    }
  }
  return self
}
