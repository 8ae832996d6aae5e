/**
 * The live status `flux up` shows while the node runs: peers, projects with their applied
 * op counts, and which projects are syncing. Redrawn in place on a terminal, one plain line
 * per change otherwise, JSON lines with --json. Rendering is throttled: a busy node emits
 * hundreds of updates a second, and each status costs a scan of every project.
 */
import type { FluxApp } from '../app/index.js'
import { HELLO_TIMEOUT, type Session } from '../swarm/session.js'
import type { PendingPeer } from '../store/node-state.js'
import type { Toggles } from '../policy/admission.js'
import type { DhtStatus, DialFailure, NodeStatus, PeerInfo, ProjectSummary } from '../api.js'
import { encodeKey, fromHex } from '../identity/keys.js'
import { type Output, clean, cleanText, plural, projectName, short, table } from './output.js'
import { dhtLine, failingText, meshLine, natLine, peerProfile, toggleLine } from './format-node.js'

export interface LiveStatusOptions {
  /** At most one status per this many ms. */
  interval?: number
  /** Redraw a block in place (a terminal) rather than printing lines. */
  tty?: boolean
}

interface ProjectLine extends ProjectSummary {
  /** The view changed since the previous status. */
  changed: boolean
  /** Peers have blocks we lack, or it changed while peers replicate it with us. */
  syncing: boolean
  /** Ops applied since the previous status. */
  delta: number
}

export class LiveStatus {
  private readonly interval: number
  private readonly tty: boolean
  private readonly updated = new Set<string>()
  private readonly previous = new Map<string, number>()
  private timer: NodeJS.Timeout | null = null
  private rendering = false
  private dirty = false
  private lastRender = 0
  private lastLine = ''
  private block: string[] = []
  private blockLines = 0
  private closed = false
  private readonly detach: Array<() => void> = []
  /** The last failure shown per peer (its code), so a retry that fails alike stays quiet. */
  private readonly failing = new Map<string, string>()
  private natKind: string | null = null

  constructor(
    private readonly app: FluxApp,
    private readonly out: Output,
    opts: LiveStatusOptions = {}
  ) {
    this.interval = opts.interval ?? 1000
    this.tty = !out.json && (opts.tty ?? false)
  }

  start(): void {
    const node = this.app.node
    this.listen(node, 'project-update', (hex: string) => {
      this.updated.add(encodeKey(fromHex(hex)))
      this.schedule()
    })
    this.listen(node.network, 'session-admitted', (peer: Session) => {
      const route = peer.route
      const address = peer.address ? ` (${peer.address}, ${route})` : ` (${route})`
      const after = this.failing.delete(peer.id) ? ' after failed attempts' : ''
      // the profile it proved, named as a project we share (or its own claim) names it
      void identified(peer)
        .then(() => this.profileOf(peer.id))
        .then((profile) => {
          const who = profile === null ? '' : ` ${peerProfile(profile)}`
          this.log('peer-add', `peer connected: ${peer.id}${who}${address}${after}`, {
            peer: peer.id,
            address: peer.address,
            route,
            profile: profile?.profile ?? null
          })
          this.schedule()
        })
    })
    this.listen(node.network, 'dial-failed', (f: DialFailure) => this.dialFailed(f))
    this.listen(node.network, 'dht-status', (d: DhtStatus) => {
      const bootstrap = node.opts.bootstrap ?? null
      if (d.silent) this.log('dht-silent', dhtLine(d, bootstrap), { ...d, bootstrap })
      else this.log('dht-answers', `the DHT answers again: ${dhtLine(d, bootstrap)}`, { ...d })
      this.schedule()
    })
    this.listen(node.network, 'session-close', (peer: Session) => {
      this.log('peer-remove', `peer disconnected: ${peer.id}`, { peer: peer.id })
      this.schedule()
    })
    this.listen(node.network, 'peer-dropped', (peer: Session, reason: string) => {
      this.log('peer-dropped', `peer dropped: ${peer.id}: ${reason}`, { peer: peer.id, reason })
    })
    this.listen(node.admission, 'pending', (row: PendingPeer, added: boolean) => {
      if (!added) return
      const id = encodeKey(fromHex(row.peer))
      const who = row.name ? ` ("${clean(row.name)}"?)` : ''
      this.log('pending', `peer ${id}${who} asks to connect: flux approve ${short(id)}`, {
        peer: id,
        name: row.name
      })
      this.schedule()
    })
    this.listen(node.admission, 'toggles', (t: Toggles, off: string[]) => {
      const line = toggleLine({ ...t, pending: 0, blocked: 0 })
      const also = off.length > 0 ? ` (${off.join(', ')} turned off)` : ''
      this.log('toggles', `toggles: ${line}${also}`, { toggles: t, off })
      this.schedule()
    })
    this.listen(node, 'invite-admitted', (e: { project: string; writer: string }) => {
      const project = encodeKey(fromHex(e.project))
      const writer = encodeKey(fromHex(e.writer))
      this.log('invite-admitted', `admitted ${short(writer)} to ${short(project)}`, {
        project,
        writer
      })
    })
    this.listen(node, 'invite-denied', (e: { project: string; reason: string }) => {
      const project = encodeKey(fromHex(e.project))
      this.log('invite-denied', `refused a join request for ${short(project)}: ${e.reason}`, {
        project,
        reason: e.reason
      })
    })
    this.listen(node, 'warning', (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err)
      this.log('warning', `warning: ${message}`, { message })
    })
    this.schedule()
  }

  /** A connected peer's description, when it proved a profile (null otherwise, or gone). */
  private async profileOf(id: string): Promise<PeerInfo | null> {
    try {
      const peer = (await this.app.peers()).find((p) => p.id === id)
      return peer?.profile ? peer : null
    } catch {
      return null // the node is closing
    }
  }

  /** Stop listening; on a terminal the last block stays on screen. */
  stop(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    for (const off of this.detach.splice(0)) off()
  }

  private listen<A extends unknown[]>(
    emitter: NodeJS.EventEmitter,
    event: string,
    fn: (...args: A) => void
  ): void {
    const handler = (...args: unknown[]): void => fn(...(args as A))
    emitter.on(event, handler)
    this.detach.push(() => emitter.off(event, handler))
  }

  /**
   * A connection attempt failed: said the first time for a peer, when the reason changes, and
   * every 10th attempt (Hyperswarm retries for a while, then waits for the next lookup).
   */
  private dialFailed(f: DialFailure): void {
    const before = this.failing.get(f.peer)
    this.failing.set(f.peer, f.code)
    if (before === f.code && f.count % 10 !== 0) return
    this.log('connect-failed', `cannot connect to ${failingText(f)}`, { ...f })
  }

  /** An event worth its own line, above the status block. */
  private log(event: string, text: string, data: Record<string, unknown>): void {
    if (this.closed) return
    if (this.out.json) {
      this.out.event(event, data)
      return
    }
    this.clearBlock()
    this.out.line(text)
    this.redrawBlock()
  }

  private schedule(): void {
    if (this.closed) return
    if (this.rendering) {
      this.dirty = true
      return
    }
    if (this.timer) return
    const wait = Math.max(0, this.lastRender + this.interval - Date.now())
    this.timer = setTimeout(() => {
      this.timer = null
      void this.render()
    }, wait)
  }

  private async render(): Promise<void> {
    this.rendering = true
    this.lastRender = Date.now()
    try {
      const status = await this.app.status()
      if (status.nat.kind !== this.natKind) {
        // the first verdict, and every change (a new network, a NAT that changed its ways)
        if (this.natKind !== null || status.nat.kind !== 'unknown') {
          this.log('nat', natLine(status.nat), { ...status.nat, failing: undefined })
        }
        this.natKind = status.nat.kind
      }
      const lines = this.lines(status.projects)
      if (!this.closed) this.show(status, lines)
      // keep rendering while anything moves (downloads do not always update the view), and
      // once more after a quiet interval, so that "syncing" turns back to idle
      if (lines.some((p) => p.changed || p.behind > 0)) this.dirty = true
    } catch {
      // the node is closing: the status is about to stop anyway
    } finally {
      this.rendering = false
      if (this.dirty) {
        this.dirty = false
        this.schedule()
      }
    }
  }

  private lines(projects: ProjectSummary[]): ProjectLine[] {
    const lines = projects.map((p) => {
      const before = this.previous.get(p.key)
      this.previous.set(p.key, p.applied)
      const changed = this.updated.has(p.key)
      return {
        ...p,
        changed,
        syncing: p.behind > 0 || (changed && p.peers > 0),
        delta: before === undefined ? 0 : p.applied - before
      }
    })
    this.updated.clear()
    return lines
  }

  private show(status: NodeStatus, projects: ProjectLine[]): void {
    if (this.out.json) {
      this.out.event('status', {
        peers: status.peers,
        toggles: status.toggles,
        dht: status.dht,
        mesh: status.mesh,
        projects: projects.map((p) => ({
          key: p.key,
          name: p.name,
          applied: p.applied,
          skipped: p.skipped,
          peers: p.peers,
          behind: p.behind,
          writable: p.writable,
          archived: p.archived,
          changed: p.changed,
          syncing: p.syncing,
          error: p.error
        }))
      })
      return
    }
    if (!this.tty) {
      const parts = projects.map(
        (p) =>
          `${projectName(p)} ${short(p.key)}: ${p.error ?? `${plural(p.applied, 'op')}, ${plural(p.peers, 'peer')}${syncText(p, ', ')}`}`
      )
      const toggles = `toggles: ${toggleLine(status.toggles)}`
      const book = status.mesh.phonebook === null ? '' : `, phonebook: ${meshLine(status.mesh)}`
      const line = [`status: ${plural(status.peers, 'peer')}, ${toggles}${book}`, ...parts].join(
        ' | '
      )
      // a line per change, not per tick: an idle node stays quiet
      if (line !== this.lastLine) this.out.line(line)
      this.lastLine = line
      return
    }
    const time = new Date().toTimeString().slice(0, 8)
    const rows = projects.map((p) => [
      projectName(p),
      short(p.key),
      plural(p.applied, 'op'),
      plural(p.peers, 'peer'),
      p.error ?? (syncText(p, '') || 'idle')
    ])
    this.clearBlock()
    this.block = [
      `── ${plural(status.peers, 'peer')}, ${plural(projects.length, 'project')} · toggles: ${toggleLine(status.toggles)}${status.mesh.phonebook === null ? '' : ` · phonebook: ${meshLine(status.mesh)}`} · ${time}`,
      ...(status.dht.silent ? [`  ${dhtLine(status.dht, status.bootstrap)}`] : []),
      ...(rows.length > 0
        ? table(rows)
            .split('\n')
            .map((l) => '  ' + l)
        : [])
    ]
    this.redrawBlock()
  }

  private clearBlock(): void {
    if (!this.tty || this.blockLines === 0) return
    // up to the first line of the block, then erase to the end of the screen
    process.stdout.write(`\x1b[${this.blockLines}F\x1b[0J`)
    this.blockLines = 0
  }

  private redrawBlock(): void {
    if (!this.tty || this.block.length === 0) return
    // names in the block are cleaned where they are formatted; this pass covers the rest
    process.stdout.write(cleanText(this.block.join('\n')) + '\n')
    this.blockLines = this.block.length
  }
}

/** Resolves once the peer said who it is (its hello), left, or waited too long. */
function identified(peer: Session): Promise<void> {
  if (peer.known || peer.state === 'closed') return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(done, HELLO_TIMEOUT)
    timer.unref()
    function done(): void {
      clearTimeout(timer)
      peer.off('identified', done)
      peer.off('close', done)
      resolve()
    }
    peer.once('identified', done)
    peer.once('close', done)
  })
}

/** What a project is doing: "syncing, 12 behind +5", "updated +1", or '' when idle. */
function syncText(p: ProjectLine, prefix: string): string {
  const state = p.syncing ? 'syncing' : p.changed ? 'updated' : ''
  if (state === '') return ''
  const behind = p.behind > 0 ? `, ${p.behind} behind` : ''
  const delta = p.delta > 0 ? ` +${p.delta}` : ''
  return `${prefix}${state}${behind}${delta}`
}
