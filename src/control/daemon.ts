/**
 * Running a node in the foreground: the node, its control socket, and a clean stop.
 * Used by `flux up`, the demo and tests.
 *
 * A full disk: RocksDB keeps its ENOSPC error until its store is reopened (rocksdb-native's
 * resume() does not clear it), so the projects it stopped stay stopped. The daemon then watches
 * the home's disk and, once there is room again, closes the node and opens a new one on the
 * same home and options, in this process, behind the same control socket.
 */
import { EventEmitter } from 'events'
import { FluxNode, type FluxNodeOptions } from '../node.js'
import { FluxApp } from '../app/index.js'
import { ControlServer } from './server.js'
import { FluxError } from '../errors.js'
import { systemClock, withTimeout, type Clock, type Timer } from '../util/clock.js'
import { LOW_DISK, freeSpace } from '../services/projects.js'
import { copyDeviceKeys } from '../identity/profile-keys.js'

/** Free space wanted before a node stopped by a full disk is reopened: LOW_DISK and a margin. */
export const RESUME_DISK = LOW_DISK + 16 * 1024 * 1024

/** How long closing a node stopped by a full disk may take (its store may be in an error state). */
const REOPEN_CLOSE_TIMEOUT = 20_000
/** How long opening the new node may take before it is given up (and tried again). */
const REOPEN_OPEN_TIMEOUT = 60_000

/** Where the node behind the socket is: answering, waiting for space, or being reopened. */
export type DaemonState = 'running' | 'disk-full' | 'reopening'

/** What the daemon tells `flux up` (every state change is one). */
export interface DaemonEvents {
  /** A project stopped on a full disk: the daemon waits for `need` bytes free on `home`. */
  'disk-full': [info: { home: string; free: number; need: number }]
  /** There is room again: the node is being closed and opened again. */
  reopening: [info: { home: string; free: number }]
  /** A new node answers behind the socket (`took` ms after space returned). */
  reopened: [info: { node: FluxNode; app: FluxApp; took: number }]
  /** A reopen failed; the daemon waits for space again and retries. */
  'reopen-failed': [err: FluxError]
}

export interface DaemonOptions {
  /** The clock the free-space checks run on (default: the node's). */
  clock?: Clock
  /** How often (ms) the home's disk is checked while waiting for space (default 2 s). */
  spaceCheckInterval?: number
}

export interface Daemon {
  /** The node behind the socket now (a new one after a reopen). */
  readonly node: FluxNode
  /** The use-cases of `node`. */
  readonly app: FluxApp
  readonly server: ControlServer
  readonly state: DaemonState
  /** Resolves when the daemon has stopped (by stop() or a `node.stop` request). */
  stopped: Promise<void>
  stop(): Promise<void>
  on<K extends keyof DaemonEvents>(event: K, fn: (...args: DaemonEvents[K]) => void): unknown
  off<K extends keyof DaemonEvents>(event: K, fn: (...args: DaemonEvents[K]) => void): unknown
}

export async function startDaemon(
  opts: FluxNodeOptions,
  daemonOpts: DaemonOptions = {}
): Promise<Daemon> {
  const node = new FluxNode(opts)
  await node.ready()
  const runner = new NodeRunner(node, opts, daemonOpts)
  try {
    await runner.server.listen()
  } catch (err) {
    await node.close()
    throw err
  }
  return runner
}

class NodeRunner extends EventEmitter implements Daemon {
  readonly server: ControlServer
  readonly stopped: Promise<void>
  state: DaemonState = 'running'
  private current: FluxNode
  private readonly clock: Clock
  private readonly interval: number
  private stopping: Promise<void> | null = null
  private resolveStopped: () => void = () => {}
  private timer: Timer | null = null
  private checking = false
  private reopen: Promise<void> | null = null
  private carried: { node: FluxNode; profile: FluxNodeOptions['profile'] } | null = null
  private readonly onDiskFull = (): void => this.diskFull()

  constructor(
    node: FluxNode,
    private readonly opts: FluxNodeOptions,
    daemonOpts: DaemonOptions
  ) {
    super()
    this.current = node
    this.clock = daemonOpts.clock ?? node.clock ?? systemClock
    this.interval = daemonOpts.spaceCheckInterval ?? 2000
    this.stopped = new Promise<void>((resolve) => (this.resolveStopped = resolve))
    this.server = new ControlServer(new FluxApp(node), () => void this.stop())
    node.on('disk-full', this.onDiskFull)
  }

  get node(): FluxNode {
    return this.current
  }

  get app(): FluxApp {
    return this.server.app
  }

  stop(): Promise<void> {
    if (this.stopping) return this.stopping
    this.stopping = (async () => {
      this.timer?.clear()
      // no new requests; the open connections stay until the node has closed, so that
      // `flux stop` returns only once the home (its Corestore lock) is free again
      await this.server.stopListening().catch(() => {})
      try {
        await this.reopen // bounded: it ends on its own timeouts
        await this.current.close()
      } finally {
        await this.server.close().catch(() => {})
        this.resolveStopped()
      }
    })()
    return this.stopping
  }

  override emit<K extends keyof DaemonEvents>(event: K, ...args: DaemonEvents[K]): boolean {
    return super.emit(event, ...args)
  }

  /** A project stopped on a full disk: wait for space (once, however many projects stopped). */
  private diskFull(): void {
    if (this.state !== 'running' || this.stopping) return
    this.state = 'disk-full'
    void freeSpace(this.current.home).then(
      (free) => this.emit('disk-full', { home: this.current.home, free, need: RESUME_DISK }),
      () => this.emit('disk-full', { home: this.current.home, free: 0, need: RESUME_DISK })
    )
    this.timer = this.clock.setInterval(() => void this.check(), this.interval)
  }

  private async check(): Promise<void> {
    if (this.checking || this.state !== 'disk-full' || this.stopping) return
    this.checking = true
    try {
      const free = await freeSpace(this.current.home).catch(() => 0)
      if (free < RESUME_DISK || this.stopping) return
      this.timer?.clear()
      this.timer = null
      this.state = 'reopening'
      this.emit('reopening', { home: this.current.home, free })
      this.reopen = this.reopenNode()
      await this.reopen
    } finally {
      this.reopen = null
      this.checking = false
    }
  }

  /** Close the node and open it again on the same home, behind the same socket. */
  private async reopenNode(): Promise<void> {
    const since = this.clock.now()
    const old = this.current
    // requests wait for the new node rather than meet a closing one
    this.server.hold()
    old.off('disk-full', this.onDiskFull)
    try {
      const profile = await this.profileFor(old)
      await this.closeOld(old)
      if (this.stopping) return
      const next = new FluxNode({ ...this.opts, profile })
      next.on('disk-full', this.onDiskFull)
      try {
        await withTimeout(next.ready(), REOPEN_OPEN_TIMEOUT, 'opening the node again', this.clock)
      } catch (err) {
        next.off('disk-full', this.onDiskFull)
        await withTimeout(next.close(), REOPEN_CLOSE_TIMEOUT, 'closing', this.clock).catch(() => {})
        throw err
      }
      this.current = next
      const app = new FluxApp(next)
      this.server.setApp(app)
      this.state = 'running'
      this.emit('reopened', { node: next, app, took: this.clock.now() - since })
      // a project that met the full disk again while the node opened (its event came while
      // this was reopening): wait for space again
      if (next.projects.list().some((p) => p.failure?.code === 'DISK_FULL')) this.diskFull()
    } catch (err) {
      const e = FluxError.from(err)
      const failed = new FluxError(
        'DISK_FULL',
        `the disk of ${old.home} had room again, but the node could not be reopened ` +
          `(${e.detail}): stop it (flux stop) and start it again (flux up)`
      )
      // requests hear why at once instead of meeting a closed node
      this.server.hold(failed)
      this.state = 'disk-full'
      this.emit('reopen-failed', failed)
      // the old store still open (its close hung): opening the home again in this process
      // would open it twice; only a restart helps now
      if (this.stopping || (old.store && !old.store.closed)) return
      this.timer = this.clock.setInterval(() => void this.check(), this.interval)
    }
  }

  /**
   * The profile the new node runs as: the keys `old` runs on now (a profile made or linked
   * while it ran included), copied before its close zeroes them, once (a retry reuses them).
   */
  private async profileFor(old: FluxNode): Promise<FluxNodeOptions['profile']> {
    if (this.carried?.node === old) return this.carried.profile
    // a key file still unlocking (the disk filled within seconds of the start): its outcome
    const unlocked = old.profile.unlocked()
    await withTimeout(unlocked, REOPEN_OPEN_TIMEOUT, 'unlocking', this.clock).catch(() => {})
    const keys = old.profile.keys ? copyDeviceKeys(old.profile.keys) : null
    const profile = keys ? { keys: Promise.resolve(keys) } : null
    this.carried = { node: old, profile }
    return profile
  }

  /**
   * Close a node whose store may be in an error state: bounded, and its store closed for
   * certain (the Corestore lock released) before the home is opened again.
   */
  private async closeOld(old: FluxNode): Promise<void> {
    const bound = (work: Promise<void>, what: string): Promise<void> =>
      withTimeout(work, REOPEN_CLOSE_TIMEOUT, what, this.clock)
    await bound(old.close(), 'closing the node stopped by a full disk').catch(() => {})
    if (old.store && !old.store.closed) {
      await bound(old.store.close(), "closing the node's store").catch(() => {})
    }
    if (old.store && !old.store.closed) {
      throw new FluxError('TIMEOUT', `the store of ${old.home} did not close`)
    }
  }
}
