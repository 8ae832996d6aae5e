/**
 * The node's phonebook (DESIGN.md "Phonebooks and auto-connect"): at most one per node, kept
 * in node.json and opened at start; its sharing over 'flux/phonebook/v1' on admitted
 * connections; this node's own signed entry; and `connect`, dialing a peer by its id.
 *
 * Sharing, the one rule: when a node asks a peer to share (after `flux connect`), and neither
 * has I Accept, Isolate or Pause on, the phonebook one of them holds becomes theirs: a node
 * without one joins the other's; when neither holds one, the dialer creates it. Joining is
 * being added as a writer by a node already writing (`writer/add`), then writing one's entry.
 * Two nodes that each hold a phonebook keep their own (merging two is not built).
 */
import type Corestore from 'corestore'
import { Service } from '../util/service.js'
import type { Clock } from '../util/clock.js'
import { FluxError } from '../errors.js'
import { isHexKey, isObj } from '../autobase/shapes.js'
import { encodeKey, fromHex, toHex } from '../identity/keys.js'
import { PhonebookBase } from '../phonebook/base.js'
import type { SignedEntry } from '../phonebook/ops.js'
import { FeatureChannel, type ChannelPeer } from '../swarm/channels.js'
import type { Network } from '../swarm/network.js'
import type { NodeState } from '../store/node-state.js'
import type { AdmissionService } from './admission.js'
import type { ProjectRegistry } from './projects.js'
import type { ProfileService } from './profile.js'

type Key = string | null
type Share = { ok: boolean; key: Key; writer: Key; reason: string | null }
type Join = { ok: boolean; reason: string | null }

const optKey = (v: unknown): v is Key => v === null || isHexKey(v)
const reason = (v: unknown): v is string | null =>
  v === null || (typeof v === 'string' && v.length <= 200)

export const phonebookChannelSpec = {
  protocol: 'flux/phonebook/v1',
  events: {
    book: {
      maxBytes: 128,
      parse: (v: unknown): { key: Key } | null =>
        isObj(v) && optKey(v.key) ? { key: v.key } : null
    }
  },
  requests: {
    share: {
      request: {
        maxBytes: 128,
        parse: (v: unknown): { key: Key } | null =>
          isObj(v) && optKey(v.key) ? { key: v.key } : null
      },
      response: {
        maxBytes: 512,
        parse: (v: unknown): Share | null =>
          isObj(v) &&
          typeof v.ok === 'boolean' &&
          optKey(v.key) &&
          optKey(v.writer) &&
          reason(v.reason)
            ? { ok: v.ok, key: v.key, writer: v.writer, reason: v.reason }
            : null
      }
    },
    join: {
      request: {
        maxBytes: 256,
        parse: (v: unknown): { key: string; writer: string } | null =>
          isObj(v) && isHexKey(v.key) && isHexKey(v.writer)
            ? { key: v.key, writer: v.writer }
            : null
      },
      response: {
        maxBytes: 512,
        parse: (v: unknown): Join | null =>
          isObj(v) && typeof v.ok === 'boolean' && reason(v.reason)
            ? { ok: v.ok, reason: v.reason }
            : null
      }
    }
  }
}

type Events = { book: { key: Key } }
type Requests = { share: [{ key: Key }, Share]; join: [{ key: string; writer: string }, Join] }

/** How long a request over the channel, and becoming a writer, may take (ms). */
const ASK_TIMEOUT = 10_000
const WRITABLE_TIMEOUT = 30_000
/** A node refreshes its own entry this often (and on start when it is older). */
export const REFRESH_EVERY = 60 * 60 * 1000

export interface ShareOutcome {
  /** The phonebook both now hold, or null. */
  key: string | null
  shared: boolean
  reason: string | null
}

export interface PhonebookEvents {
  /** This node holds a phonebook now (created or joined). */
  joined: [key: string]
  /** The phonebook's view changed. */
  update: []
  /** A peer told which phonebook it holds (null: none). */
  'peer-book': [peer: ChannelPeer, key: string | null]
  warning: [err: unknown]
}

export interface PhonebookDeps {
  store: Corestore
  network: Network
  state: NodeState
  clock: Clock
  admission: AdmissionService
  projects: ProjectRegistry
  profile: ProfileService
}

export class PhonebookService extends Service<PhonebookEvents> {
  readonly channel = new FeatureChannel<Events, Requests>(phonebookChannelSpec)
  book: PhonebookBase | null = null
  private pendingOpen: Promise<PhonebookBase> | null = null
  private refresh: { clear(): void } | null = null
  private writing: Promise<void> = Promise.resolve()
  /** The Corestore namespace of the phonebook held (one per phonebook key). */
  private namespace = ''

  constructor(private readonly deps: PhonebookDeps) {
    super()
    this.channel.on('open', (peer) => this.channel.send(peer, 'book', { key: this.keyHex }))
    this.channel.onEvent('book', (m, peer) => {
      // a peer with none asks which one we hold (on open, or when it imported a snapshot)
      if (m.key === null && this.book !== null)
        this.channel.send(peer, 'book', { key: this.keyHex })
      this.emit('peer-book', peer, m.key)
    })
    this.channel.handle('share', (m) => this.onShare(m.key))
    this.channel.handle('join', (m) => this.onJoin(m.key, m.writer))
    deps.network.addChannel(this.channel)
  }

  protected override async _open(): Promise<void> {
    const known = this.deps.state.phonebook()
    if (known !== null) await this.open(fromHex(known.key), known.namespace)
    this.refresh = this.deps.clock.setInterval(() => void this.writeEntry(), REFRESH_EVERY)
  }

  protected override async _close(): Promise<void> {
    this.refresh?.clear()
    await this.pendingOpen?.catch(() => {})
    await this.writing
    await this.book?.close()
  }

  get keyHex(): string | null {
    return this.book === null ? null : toHex(this.book.key)
  }

  /** Whether the user's toggles keep this node out of phonebooks (I Accept, Isolate, Pause). */
  restricted(): string | null {
    const t = this.deps.admission.toggles()
    if (t.pause) return 'Pause is on'
    if (t.isolate) return 'Isolate is on'
    if (t.accept) return 'I Accept is on'
    return null
  }

  /** Ask a connected peer to share a phonebook (after `flux connect`): the rule above. */
  async shareWith(peer: ChannelPeer): Promise<ShareOutcome> {
    const here = this.restricted()
    if (here !== null) return { key: this.keyHex, shared: false, reason: `${here} here` }
    let answer = await this.channel.request(peer, 'share', { key: this.keyHex }, ASK_TIMEOUT)
    if (answer !== null && answer.ok && answer.key === null && this.book === null) {
      await this.open(null) // neither holds one: the dialer creates it
      answer = await this.channel.request(peer, 'share', { key: this.keyHex }, ASK_TIMEOUT)
    }
    if (answer === null)
      return { key: this.keyHex, shared: false, reason: 'the peer did not answer' }
    if (!answer.ok || answer.key === null) {
      return { key: this.keyHex, shared: false, reason: `the peer: ${answer.reason ?? 'refused'}` }
    }
    if (answer.key === this.keyHex) {
      if (answer.writer !== null) await this.addWriter(answer.writer)
      return { key: answer.key, shared: true, reason: null }
    }
    if (this.book !== null) {
      return {
        key: this.keyHex,
        shared: false,
        reason: 'both nodes hold a phonebook already (merging two is not built)'
      }
    }
    await this.joinVia(peer, answer.key)
    return { key: answer.key, shared: true, reason: null }
  }

  /** Join the phonebook `key` through a peer that writes to it; resolves once we wrote our entry. */
  async joinVia(peer: ChannelPeer, key: string): Promise<void> {
    const book = await this.open(fromHex(key))
    if (toHex(book.key) !== key)
      throw new FluxError('NOT_ALLOWED', 'this node holds another phonebook')
    if (!book.writable) {
      const writer = toHex(book.writerKey)
      const answer = await this.channel.request(peer, 'join', { key, writer }, ASK_TIMEOUT)
      if (answer === null || !answer.ok) {
        this.book = null
        await book.close().catch(() => {})
        throw new FluxError(
          'NOT_ALLOWED',
          `the peer did not add us: ${answer?.reason ?? 'no answer'}`
        )
      }
      await this.settle(book)
    }
  }

  /** Write (or refresh) this node's own entry, if it writes to a phonebook; one at a time. */
  writeEntry(removed = false): Promise<void> {
    const next = this.writing.then(() => this.write(removed))
    this.writing = next.catch(() => {})
    return next
  }

  private async write(removed: boolean): Promise<void> {
    const book = this.book
    if (book === null || !book.writable || this.closing) return
    await book.update()
    const { network, profile, projects } = this.deps
    const mine = await book.view.entry(toHex(network.publicKey))
    const now = this.deps.clock.now()
    if (!removed && mine !== null && !mine.removed && now - mine.seen < REFRESH_EVERY / 2) return
    const address = network.dht.localAddress()
    const entry = book.describe({
      keyPair: network.swarm.keyPair,
      profile: profile.profileHex === '' ? null : fromHex(profile.profileHex),
      hints: address === null ? [] : [`${address.host}:${address.port}`],
      projects: projects
        .list()
        .map((p) => p.key)
        .slice(0, 32),
      removed
    })
    try {
      await book.append({ type: 'entry/put', entry })
    } catch (err) {
      this.emit('warning', err)
    }
  }

  /** Append the entries (checked snapshot entries) newer than ours; how many were appended. */
  async carry(entries: SignedEntry[]): Promise<number> {
    const book = this.book
    if (book === null) return 0
    if (!book.writable)
      throw new FluxError('NOT_WRITABLE', 'this node does not write to its phonebook yet')
    await book.update()
    let n = 0
    for (const entry of entries) {
      const known = await book.view.entry(entry.peer)
      if (known !== null && known.seen >= entry.seen) continue
      await book.append({ type: 'entry/put', entry })
      n++
    }
    return n
  }

  /**
   * Open a phonebook (key null: create one); one per node. It is kept (node.json, announced
   * to peers) only once this node writes to it: a peer that names a phonebook nobody adds us
   * to cannot hold the node in it, it is closed again after WRITABLE_TIMEOUT (see `settle`).
   */
  private open(key: Buffer | null, namespace?: string): Promise<PhonebookBase> {
    if (this.book !== null) return Promise.resolve(this.book)
    if (this.pendingOpen !== null) return this.pendingOpen
    this.pendingOpen = (async () => {
      const { store, network, clock } = this.deps
      const ns = namespace ?? (key === null ? 'flux/phonebook/own' : `flux/phonebook/${toHex(key)}`)
      const book = new PhonebookBase(store.namespace(ns), { key, clock, wakeup: network.wakeup })
      await book.ready()
      book.on('update', () => this.emit('update'))
      book.on('warning', (err: unknown) => this.emit('warning', err))
      this.book = book
      this.namespace = ns
      if (book.writable) await this.keep(book)
      return book
    })()
    return this.pendingOpen.finally(() => {
      this.pendingOpen = null
    })
  }

  /** Wait until this node writes to the phonebook, then keep it; else close and forget it. */
  private async settle(book: PhonebookBase): Promise<void> {
    try {
      await book.waitWritable(WRITABLE_TIMEOUT)
    } catch (err) {
      if (this.book === book) {
        this.book = null
        await book.close().catch(() => {})
      }
      throw err
    }
    await this.keep(book)
  }

  /** This node writes to the phonebook: remember it, tell peers, write our entry. */
  private async keep(book: PhonebookBase): Promise<void> {
    const { state, clock } = this.deps
    const key = toHex(book.key)
    if (state.phonebook()?.key !== key) {
      await state.putPhonebook({ key, namespace: this.namespace, joinedAt: clock.now() })
    }
    this.channel.broadcast('book', { key })
    this.emit('joined', key)
    await this.writeEntry()
  }

  private async addWriter(writer: string): Promise<void> {
    const book = this.book
    if (book === null) return
    if (writer === toHex(book.key) || (await book.bee.get(`writer/${writer}`)) !== null) return
    await book.append({ type: 'writer/add', key: writer })
  }

  private async onShare(key: Key): Promise<Share> {
    const here = this.restricted()
    if (here !== null) return { ok: false, key: null, writer: null, reason: here }
    if (this.book !== null) return { ok: true, key: this.keyHex, writer: null, reason: null }
    if (key === null) return { ok: true, key: null, writer: null, reason: null }
    const book = await this.open(fromHex(key))
    // once the dialer added us, we keep it and write our entry
    this.settle(book).catch((err: unknown) => this.emit('warning', err))
    return { ok: true, key, writer: toHex(book.writerKey), reason: null }
  }

  private async onJoin(key: string, writer: string): Promise<Join> {
    const here = this.restricted()
    if (here !== null) return { ok: false, reason: here }
    if (this.keyHex !== key) return { ok: false, reason: 'not the phonebook held here' }
    if (!this.book?.writable) return { ok: false, reason: 'not a writer of it yet' }
    await this.addWriter(writer)
    return { ok: true, reason: null }
  }

  /** A peer's id as people see it. */
  static id(hex: string): string {
    return encodeKey(fromHex(hex))
  }
}
