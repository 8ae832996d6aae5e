/**
 * The orchestrator's handle on one worker process: fork, request/reply over IPC with a bound
 * on every call, events, and a stop that always ends the process (SIGKILL after a grace).
 * Every live worker is tracked so that any exit path of the bench can kill them all.
 */
import { fork, type ChildProcess } from 'child_process'
import path from 'path'
import { fileURLToPath } from 'url'
import type { FromWorker, Request, WorkerEvent } from './protocol.js'
import { TimeoutError } from './util.js'

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'worker.js')
const TAIL = 30
const STOP_GRACE = 15_000

interface Waiting {
  resolve: (v: unknown) => void
  reject: (e: unknown) => void
  timer: NodeJS.Timeout
  cmd: string
}

export class WorkerProcess {
  static readonly live = new Set<WorkerProcess>()
  /** Print every worker's stderr as it comes (--verbose). */
  static verbose = false

  readonly pid: number
  readonly exited: Promise<void>
  private readonly child: ChildProcess
  private readonly waiting = new Map<number, Waiting>()
  private readonly listeners = new Set<(e: WorkerEvent) => void>()
  private readonly tail: string[] = []
  private nextId = 1
  private gone = false

  constructor(readonly name: string) {
    this.child = fork(WORKER, [name], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json'
    })
    if (this.child.pid === undefined) throw new Error(`worker ${name} could not be started`)
    this.pid = this.child.pid
    WorkerProcess.live.add(this)
    this.child.on('error', (err) => this.remember(`process error: ${err.message}`))
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream?.setEncoding('utf-8')
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line.trim() !== '') this.remember(line)
      })
    }
    this.child.on('message', (msg: FromWorker) => this.onMessage(msg))
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.gone = true
        WorkerProcess.live.delete(this)
        const why = new Error(
          `worker ${this.name} (pid ${this.pid}) exited (${signal ?? `code ${code}`})` +
            (this.tail.length ? `; last output:\n    ${this.tail.slice(-8).join('\n    ')}` : '')
        )
        for (const w of this.waiting.values()) {
          clearTimeout(w.timer)
          w.reject(why)
        }
        this.waiting.clear()
        resolve()
      })
    })
  }

  private remember(line: string): void {
    this.tail.push(line)
    if (this.tail.length > TAIL) this.tail.shift()
    if (WorkerProcess.verbose) process.stderr.write(`  [${this.name}] ${line}\n`)
  }

  private onMessage(msg: FromWorker): void {
    if (msg.kind === 'event') {
      for (const fn of this.listeners) fn(msg)
      return
    }
    const w = this.waiting.get(msg.id)
    if (!w) return
    this.waiting.delete(msg.id)
    clearTimeout(w.timer)
    if (msg.ok) w.resolve(msg.value)
    else w.reject(new Error(`${this.name} ${w.cmd}: ${msg.error}`))
  }

  /** Run a command in the worker; rejects after `timeout` ms (the worker keeps running). */
  call<T = unknown>(cmd: string, args: Record<string, unknown> = {}, timeout = 60_000): Promise<T> {
    if (this.gone) return Promise.reject(new Error(`worker ${this.name} has exited`))
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id)
        reject(new TimeoutError(`${this.name} ${cmd}`, timeout))
      }, timeout)
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, cmd })
      const req: Request = { kind: 'req', id, cmd, args }
      this.child.send(req, (err) => {
        if (!err) return
        clearTimeout(timer)
        this.waiting.delete(id)
        reject(err)
      })
    })
  }

  onEvent(fn: (e: WorkerEvent) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  output(): string {
    return this.tail.join('\n')
  }

  /** Ask the worker to close what it runs and exit; kill it if it has not within the grace. */
  async stop(): Promise<void> {
    if (this.gone) return
    this.call('exit', {}, STOP_GRACE).catch(() => {})
    const timer = setTimeout(() => this.kill(), STOP_GRACE)
    await this.exited
    clearTimeout(timer)
  }

  kill(): void {
    if (!this.gone) this.child.kill('SIGKILL')
  }

  /** Stop several workers at once. */
  static async stopAll(workers: Iterable<WorkerProcess>): Promise<void> {
    await Promise.all([...workers].map((w) => w.stop()))
  }

  /** Last resort (process exit, signals): kill every worker still alive, synchronously. */
  static killAll(): void {
    for (const w of WorkerProcess.live) w.kill()
  }
}
