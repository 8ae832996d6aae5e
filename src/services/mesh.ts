/**
 * The wider mesh (whitepaper 2.4; DESIGN.md "Phonebooks and auto-connect"): connecting to a
 * peer by its id, the well-known mesh topic, and Auto-Connect.
 *
 * - A node that holds a phonebook announces itself on the mesh topic while it is connected to
 *   another node of that phonebook and has none of I Accept, Isolate, Pause on: the mesh is
 *   visible only while at least two of its peers are online together.
 * - A node with Auto-Connect on and no phonebook (or none of its phonebook's nodes connected)
 *   looks the topic up, joins the first phonebook a peer there tells it of, writes its entry,
 *   and dials nodes from it: those sharing a project first, never blocked ones, and only up to
 *   MAX_AUTO connections in all. On restart it dials its phonebook's nodes the same way.
 */
import crypto from 'hypercore-crypto'
import { Service } from '../util/service.js'
import type { Clock } from '../util/clock.js'
import { FluxError } from '../errors.js'
import { encodeKey, fromHex, toHex } from '../identity/keys.js'
import { saltedHash } from '../phonebook/ops.js'
import type { PhonebookSnapshot } from '../phonebook/snapshot.js'
import type { ChannelPeer } from '../swarm/channels.js'
import type { Network } from '../swarm/network.js'
import type { AdmissionService } from './admission.js'
import type { ProjectRegistry } from './projects.js'
import type { PhonebookService, ShareOutcome } from './phonebook.js'

/** The well-known topic where phonebooks are found. */
export const MESH_TOPIC = crypto.hash(Buffer.from('flux/mesh/v1'))
/** Auto-Connect dials from the phonebook while the node has fewer connections than this. */
export const MAX_AUTO = 8
/** How often Auto-Connect looks at the phonebook again (besides its updates). */
const SCAN_EVERY = 15_000
/** The first looks come sooner (1, 2, 4, 8 s): the mesh may have just appeared. */
const FIRST_LOOK = 1_000

export interface ConnectOutcome {
  peer: string
  phonebook: ShareOutcome
}

export interface BootstrapOutcome {
  /** Nodes of the snapshot dialed. */
  dialed: number
  /** Whether this node now holds the snapshot's phonebook. */
  joined: boolean
  /** Entries carried into the phonebook this node already held. */
  carried: number
}

export interface MeshEvents {
  /** Auto-Connect dialed a node from the phonebook (its swarm key, hex). */
  'auto-dial': [peer: string]
  /** The node's place on the mesh topic changed. */
  topic: [mode: { server: boolean; client: boolean }]
  warning: [err: unknown]
}

export interface MeshDeps {
  network: Network
  clock: Clock
  admission: AdmissionService
  projects: ProjectRegistry
  phonebook: PhonebookService
}

export class MeshService extends Service<MeshEvents> {
  /** Peers Auto-Connect dialed (swarm keys, hex). */
  readonly dialed = new Set<string>()
  private mode = { server: false, client: false }

  /** Whether the node announces on the mesh topic (server) and looks it up (client). */
  get topicMode(): { server: boolean; client: boolean } {
    return { ...this.mode }
  }
  private busy: Promise<void> = Promise.resolve()
  private joining = false
  private scan: { clear(): void } | null = null
  private looked = 0
  /** Looks since the topic was joined (each waits twice as long, up to SCAN_EVERY). */
  private looks = 0
  private again: { clear(): void } | null = null
  /** The phonebook of an imported snapshot, joined through the first of its nodes met. */
  private wanted: string | null = null

  constructor(private readonly deps: MeshDeps) {
    super()
    const { network, admission, phonebook } = deps
    const again = (): void => this.kick()
    network.on('session-admitted', again)
    network.on('session-close', again)
    admission.on('toggles', again)
    phonebook.on('update', again)
    phonebook.on('joined', again)
    phonebook.on('peer-book', (peer, key) => void this.learn(peer, key))
  }

  protected override async _open(): Promise<void> {
    this.scan = this.deps.clock.setInterval(() => this.kick(), SCAN_EVERY)
    this.kick()
  }

  protected override async _close(): Promise<void> {
    this.scan?.clear()
    this.again?.clear()
    await this.busy.catch(() => {})
  }

  /**
   * Dial a peer by its id and, once both sides admitted the connection, ask it to share a
   * phonebook. Fails with NODE_PAUSED, NOT_ALLOWED (blocked, or Isolate here), CONNECT_REFUSED
   * (the peer closed every attempt), PEER_HELD (it holds us for its owner's approval) or TIMEOUT.
   */
  async connect(key: Buffer, timeout: number): Promise<ConnectOutcome> {
    const { network, admission, phonebook } = this.deps
    const hex = toHex(key)
    const id = encodeKey(key)
    if (hex === toHex(network.publicKey)) {
      throw new FluxError('INVALID_INPUT', 'that is this node itself')
    }
    const t = admission.toggles()
    if (t.pause)
      throw new FluxError('NODE_PAUSED', 'the node is paused: `flux toggle pause off` first')
    if (admission.refuses(key)) {
      throw new FluxError('NOT_ALLOWED', `${id} is blocked here: \`flux unblock\` it first`)
    }
    if (t.isolate) {
      throw new FluxError(
        'NOT_ALLOWED',
        'Isolate is on here: only member devices of your projects may connect'
      )
    }
    let closes = 0
    let held = false
    const peer = await new Promise<ChannelPeer>((resolve, reject) => {
      const done = (err: FluxError | null, p?: ChannelPeer): void => {
        timer.clear()
        phonebook.channel.off('open', onOpen)
        network.off('session-close', onClose)
        if (err === null) return resolve(p as ChannelPeer)
        network.swarm.leavePeer(key) // stop dialing a peer that will not have us
        reject(err)
      }
      const onOpen = (p: ChannelPeer): void => {
        if (p.id === hex) done(null, p)
      }
      const onClose = (s: { key: string; admitted: boolean }): void => {
        if (s.key !== hex) return
        if (++closes >= 3) done(refused(id))
      }
      const timer = this.deps.clock.setTimeout(() => {
        held = network.sessions.get(hex)?.admitted === true
        if (held)
          done(
            new FluxError(
              'PEER_HELD',
              `connected to ${id}, but it holds the connection for its owner's approval (its I Accept is on): try again once approved`
            )
          )
        else if (closes > 0) done(refused(id))
        else
          done(
            new FluxError(
              'TIMEOUT',
              `could not reach ${id} within ${Math.round(timeout / 1000)}s: it is offline, paused, or on another DHT`
            )
          )
      }, timeout)
      phonebook.channel.on('open', onOpen)
      network.on('session-close', onClose)
      const open = phonebook.channel.peers().find((p) => p.id === hex && p.session.admitted)
      if (open) return done(null, open)
      network.dial(key)
    })
    return { peer: id, phonebook: await phonebook.shareWith(peer) }
  }

  /** Re-judge the mesh topic and Auto-Connect, one run at a time. */
  private kick(): void {
    if (this.closing) return
    this.busy = this.busy
      .then(() => this.step())
      .catch((err: unknown) => {
        this.emit('warning', err)
      })
  }

  private async step(): Promise<void> {
    const { phonebook, admission, network } = this.deps
    const restricted = phonebook.restricted() !== null
    const auto = admission.toggles().autoConnect && !restricted
    const members = await this.members()
    const linked = [...network.sessions.values()].some((s) => s.admitted && members.has(s.key))
    const want = {
      server: !restricted && linked,
      client: auto && (phonebook.book === null || !linked)
    }
    // known nodes first: on a restart they are dialed before the topic is even looked up
    if (auto && phonebook.book !== null) await this.dialFromBook(members)
    await this.setMode(want)
  }

  /** Nodes with a live entry in our phonebook (swarm keys, hex), us excluded. */
  private async members(): Promise<Set<string>> {
    const book = this.deps.phonebook.book
    if (book === null) return new Set()
    const me = toHex(this.deps.network.publicKey)
    return new Set((await book.view.entries()).map((e) => e.peer).filter((p) => p !== me))
  }

  private async setMode(want: { server: boolean; client: boolean }): Promise<void> {
    const swarm = this.deps.network.swarm
    if (want.server === this.mode.server && want.client === this.mode.client) {
      // still looking: look again now and then (Hyperswarm itself looks again every ~10 min)
      const now = this.deps.clock.now()
      const gap = Math.min(SCAN_EVERY, FIRST_LOOK * 2 ** this.looks)
      if (want.client && !swarm.suspended && now - this.looked >= gap) {
        this.looked = now
        this.looks++
        await swarm
          .status(MESH_TOPIC)
          ?.refresh(want)
          .catch(() => {})
      }
      if (want.client) this.lookAgain(Math.min(SCAN_EVERY, FIRST_LOOK * 2 ** this.looks))
      return
    }
    const was = this.mode
    this.mode = want
    this.looks = 0
    if (want.client) this.lookAgain(FIRST_LOOK)
    if (was.server || was.client) await swarm.leave(MESH_TOPIC)
    if (want.server || want.client) {
      this.looked = this.deps.clock.now()
      const discovery = swarm.join(MESH_TOPIC, want)
      if (!swarm.suspended) {
        await discovery.flushed()
        await discovery.refresh(want).catch(() => {})
      }
    }
    this.emit('topic', { ...want })
  }

  /** Look at the mesh again in `ms` (one such timer at a time; the interval is the backstop). */
  private lookAgain(ms: number): void {
    if (this.again !== null || this.closing) return
    this.again = this.deps.clock.setTimeout(() => {
      this.again = null
      this.kick()
    }, ms)
  }

  /**
   * Use a verified snapshot (`flux phonebook import`): a node holding that phonebook carries
   * the snapshot's entries newer than its own (apply checks them again); a node holding none
   * dials the snapshot's nodes (bounded like Auto-Connect) and joins the phonebook through the
   * first that holds it, waiting up to `timeout` ms for that.
   */
  async bootstrap(snapshot: PhonebookSnapshot, timeout: number): Promise<BootstrapOutcome> {
    const { phonebook, network, admission } = this.deps
    const here = phonebook.restricted()
    if (here !== null) throw new FluxError('NOT_ALLOWED', `${here}: no phonebook is joined`)
    const held = phonebook.keyHex
    if (held !== null && held !== snapshot.key) {
      throw new FluxError(
        'NOT_ALLOWED',
        'this node holds another phonebook (merging two is not built)'
      )
    }
    if (held !== null)
      return { dialed: 0, joined: true, carried: await phonebook.carry(snapshot.entries) }
    this.wanted = snapshot.key
    const me = toHex(network.publicKey)
    const peers = snapshot.entries
      .filter((e) => !e.removed && e.peer !== me && !admission.refuses(fromHex(e.peer)))
      .sort((a, b) => b.seen - a.seen)
      .slice(0, MAX_AUTO)
    for (const e of peers) {
      this.dialed.add(e.peer)
      network.dial(fromHex(e.peer))
    }
    const joined = await new Promise<boolean>((resolve) => {
      const done = (ok: boolean): void => {
        timer.clear()
        phonebook.off('joined', onJoined)
        resolve(ok)
      }
      const onJoined = (key: string): void => done(key === snapshot.key)
      const timer = this.deps.clock.setTimeout(() => done(false), timeout)
      phonebook.on('joined', onJoined)
      // peers already connected told us their phonebook before we wanted it: ask them again
      for (const p of phonebook.channel.peers()) phonebook.channel.send(p, 'book', { key: null })
    })
    return { dialed: peers.length, joined, carried: 0 }
  }

  /** A peer told us its phonebook: with Auto-Connect on and none of our own, join it. */
  private async learn(peer: ChannelPeer, key: string | null): Promise<void> {
    const { phonebook, admission } = this.deps
    if (key === null || phonebook.book !== null || this.joining) return
    const auto = admission.toggles().autoConnect || key === this.wanted
    if (!auto || phonebook.restricted() !== null) return
    this.joining = true
    try {
      await phonebook.joinVia(peer, key)
    } catch (err) {
      this.emit('warning', err)
    } finally {
      this.joining = false
    }
    this.kick()
  }

  /** Dial nodes of the phonebook: shared projects first, never blocked, up to MAX_AUTO. */
  private async dialFromBook(members: Set<string>): Promise<void> {
    const { network, admission, projects, phonebook } = this.deps
    const book = phonebook.book
    if (book === null || network.paused) return
    const connected = [...network.sessions.values()].filter((s) => s.state !== 'closed').length
    let budget = MAX_AUTO - connected
    if (budget <= 0) return
    const ours = new Set(projects.list().map((p) => saltedHash(p.key, book.key)))
    const entries = (await book.view.entries()).filter(
      (e) =>
        members.has(e.peer) &&
        !network.sessions.has(e.peer) &&
        // already being dialed (Hyperswarm keeps at it until the peer is there)
        network.swarm.peers.get(e.peer)?.explicit !== true &&
        !admission.refuses(fromHex(e.peer))
    )
    const shares = (e: { projects: string[] }): number =>
      e.projects.some((p) => ours.has(p)) ? 1 : 0
    entries.sort((a, b) => shares(b) - shares(a) || b.at - a.at || (a.peer < b.peer ? -1 : 1))
    for (const e of entries) {
      if (budget-- <= 0) break
      this.dialed.add(e.peer)
      network.dial(fromHex(e.peer))
      this.emit('auto-dial', e.peer)
    }
  }
}

function refused(id: string): FluxError {
  return new FluxError(
    'CONNECT_REFUSED',
    `${id} closed the connection: it does not take us (its Isolate is on, or it blocked us)`
  )
}
