/** What every suite gets: mode, the testnet, temp folders, progress, and a pool of workers. */
import path from 'path'
import { WorkerProcess } from './worker-process.js'
import { FluxUp, type FluxUpOptions } from './flux-up.js'
import type { Figure, FigureSpec } from './figure.js'

export interface BenchContext {
  quick: boolean
  bootstrap: string[]
  /** A fresh folder path under the run's temp root (created by whoever uses it). */
  dir(name: string): string
  progress(msg: string): void
  /** Milliseconds left of the whole run's time budget (10 minutes full, 2 quick, less a margin). */
  remaining(): number
  /** The full-run value or the --quick one. */
  pick<T>(full: T, quick: T): T
}

export interface Suite {
  name: string
  /** The figures this suite reports, so that a failed suite still lists them, as errors. */
  specs(ctx: BenchContext): FigureSpec[]
  /** A bound on the whole suite, in ms. */
  budget(ctx: BenchContext): number
  run(ctx: BenchContext, pool: Pool): Promise<Figure[]>
}

/**
 * The processes of one suite: all stopped when the suite ends, whatever happened. Once closed
 * (a suite that overran its bound is still running), it refuses to start more.
 */
export class Pool {
  private readonly workers = new Set<WorkerProcess>()
  private readonly ups = new Set<FluxUp>()
  private n = 0
  private closed = false

  constructor(private readonly prefix: string) {}

  private check(): void {
    if (this.closed) throw new Error(`suite ${this.prefix} has ended: no new process`)
  }

  /** A real `flux up` on the testnet, stopped with the pool. */
  async fluxUp(home: string, bootstrap: string[], opts?: FluxUpOptions): Promise<FluxUp> {
    this.check()
    const up = await FluxUp.start(home, bootstrap, opts)
    this.ups.add(up)
    void up.exited.then(() => this.ups.delete(up))
    if (this.closed) up.kill()
    return up
  }

  spawn(name: string): WorkerProcess {
    this.check()
    const w = new WorkerProcess(`${this.prefix}/${name}#${++this.n}`)
    this.workers.add(w)
    void w.exited.then(() => this.workers.delete(w))
    return w
  }

  async stop(w: WorkerProcess): Promise<void> {
    await w.stop()
    this.workers.delete(w)
  }

  async stopAll(): Promise<void> {
    this.closed = true
    await Promise.all([WorkerProcess.stopAll(this.workers), ...[...this.ups].map((u) => u.stop())])
    this.workers.clear()
  }

  killAll(): void {
    this.closed = true
    for (const w of this.workers) w.kill()
    for (const u of this.ups) u.kill()
  }
}

let counter = 0
export function makeDir(root: string, name: string): string {
  return path.join(
    root,
    `${String(++counter).padStart(3, '0')}-${name.replace(/[^a-z0-9.-]+/gi, '_')}`
  )
}
