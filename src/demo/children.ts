/**
 * The demo's child processes (`flux dht`, `flux up`): spawned with their output captured,
 * stopped with SIGTERM then SIGKILL after a bound, and all stopped on every exit path.
 */
import { spawn, type ChildProcess } from 'child_process'
import { FluxError } from '../errors.js'
import { within } from './wait.js'

/** How long a child gets to stop after SIGTERM before it is killed. */
export const STOP_GRACE = 10_000
const TAIL_LINES = 40

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export class Child {
  readonly pid: number
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<Exit>
  exit: Exit | null = null
  private readonly tail: string[] = []
  private readonly lineWatchers = new Set<(line: string) => void>()
  private out = ''

  /**
   * `result`: the child prints one result on stdout (e.g. `flux init --json`), kept whole for
   * `stdout()` and left out of the tail that error messages show.
   */
  constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
    result = false
  ) {
    // 'error' (spawn failure, failed kill) must never go unhandled: it would crash the demo
    proc.on('error', (err) => this.remember(`process error: ${err.message}`))
    if (proc.pid === undefined) throw new FluxError('INTERNAL', `${name} could not be started`)
    this.pid = proc.pid
    this.exited = new Promise<Exit>((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exit = { code, signal }
        resolve(this.exit)
      })
    })
    if (result) {
      proc.stdout?.setEncoding('utf-8')
      proc.stdout?.on('data', (chunk: string) => (this.out += chunk))
    } else this.capture(proc.stdout)
    this.capture(proc.stderr)
  }

  /** Everything the child printed on stdout (only for a child started for its `result`). */
  stdout(): string {
    return this.out
  }

  get running(): boolean {
    return this.exit === null
  }

  /** The last lines the child printed, for error messages. */
  output(lines = 15): string {
    return this.tail.slice(-lines).join('\n')
  }

  /** Resolve with the first line (stdout or stderr) that `match` accepts. */
  waitForLine<T>(match: (line: string) => T | null, timeout: number, what: string): Promise<T> {
    for (const line of this.tail) {
      const found = match(line)
      if (found !== null) return Promise.resolve(found)
    }
    let watcher: ((line: string) => void) | null = null
    const seen = new Promise<T>((resolve, reject) => {
      watcher = (line) => {
        const found = match(line)
        if (found !== null) resolve(found)
      }
      this.lineWatchers.add(watcher)
      void this.exited.then(() => reject(this.diedError(what)))
    })
    return within(seen, timeout, what).finally(() => {
      if (watcher) this.lineWatchers.delete(watcher)
    })
  }

  /** The error to report when the child is gone while we wait for it. */
  diedError(what: string): FluxError {
    const how = this.exit?.signal ? `signal ${this.exit.signal}` : `code ${this.exit?.code}`
    const out = this.output()
    return new FluxError(
      'NODE_CLOSED',
      `${this.name} (pid ${this.pid}) exited with ${how} while waiting for ${what}` +
        (out ? `; its last output:\n${indent(out)}` : '')
    )
  }

  /** SIGTERM, then SIGKILL if it is still running after `grace` ms. */
  async stop(grace = STOP_GRACE): Promise<Exit> {
    if (this.exit) return this.exit
    this.proc.kill('SIGTERM')
    const timer = setTimeout(() => {
      if (this.running) this.proc.kill('SIGKILL')
    }, grace)
    try {
      return await this.exited
    } finally {
      clearTimeout(timer)
    }
  }

  /** SIGKILL now, without waiting. */
  kill(): void {
    if (this.running) this.proc.kill('SIGKILL')
  }

  private capture(stream: NodeJS.ReadableStream | null): void {
    if (!stream) return
    stream.setEncoding('utf-8')
    let partial = ''
    stream.on('data', (chunk: string) => {
      partial += chunk
      let nl: number
      while ((nl = partial.indexOf('\n')) !== -1) {
        this.remember(partial.slice(0, nl).replace(/\r$/, ''))
        partial = partial.slice(nl + 1)
      }
    })
    stream.on('end', () => {
      if (partial) this.remember(partial)
      partial = ''
    })
  }

  private remember(line: string): void {
    this.tail.push(line)
    if (this.tail.length > TAIL_LINES) this.tail.shift()
    for (const w of this.lineWatchers) w(line)
  }
}

/** Every child the demo started, so that all of them are stopped whatever happens. */
export class Children {
  private readonly all: Child[] = []

  constructor(
    private readonly command: string,
    private readonly prefix: string[]
  ) {}

  start(
    name: string,
    args: string[],
    opts: { env?: Record<string, string>; result?: boolean } = {}
  ): Child {
    const proc = spawn(this.command, [...this.prefix, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
      // its own process group: a Ctrl-C in the terminal reaches only the demo, which then
      // stops each child once, cleanly (a second signal makes `flux` exit without cleanup)
      detached: true
    })
    const child = new Child(name, proc, opts.result === true)
    this.all.push(child)
    return child
  }

  /** Every pid ever started (including stopped ones). */
  get pids(): number[] {
    return this.all.map((c) => c.pid)
  }

  killAll(): void {
    for (const c of this.all) if (c.running) c.kill()
  }

  /** Stop every running child at once; resolves when all have exited. */
  async stopAll(grace = STOP_GRACE): Promise<void> {
    await Promise.all(this.all.map((c) => c.stop(grace)))
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    | ${l}`)
    .join('\n')
}
