/**
 * FluxNode: the composition root. One node owns one home folder: its Corestore, its
 * network, the projects it holds and the invites it has issued.
 */
import fs from 'fs/promises'
import path from 'path'
import Corestore from 'corestore'
import Autobase from 'autobase'
import BlindPairing from 'blind-pairing'
import ReadyResource from 'ready-resource'
import crypto from 'hypercore-crypto'
import { Network } from './swarm/network.js'
import { projectTopic } from './swarm/topics.js'
import { Project } from './project/project.js'
import { decodeInviteCode, encodeInviteCode } from './project/invite-code.js'
import { NodeState, type InviteEntry, type ProjectEntry } from './node-state.js'
import { FluxError } from './errors.js'
import { decodeKey, encodeKey, fromHex, toHex, looksLikeKey } from './identity/keys.js'
import { Mutex } from './util/mutex.js'
import { describeProject, summarizeProject } from './project/describe.js'
import type { Role } from './autobase/ops.js'
import {
  createWriterProof,
  decodeWriterProof,
  encodeWriterProof,
  verifyWriterProof
} from './identity/writer-proof.js'
import type { DeviceKeys } from './identity/profile-keys.js'
import { saveKeyFile, type KdfParams } from './identity/keyfile.js'
import { ProfileManager, keyFilePath, newProfile, type WhoAmI } from './profile/manager.js'
import type { RpcMessage, RpcPeer } from './swarm/rpc.js'
import { askToPair } from './swarm/pairing.js'
import type {
  CreatedInvite,
  NodeStatus,
  PeerInfo,
  ProjectDetail,
  ProjectSummary,
  Progress
} from './api.js'

export interface FluxNodeOptions {
  home: string
  /** DHT bootstrap nodes ('host:port'); undefined for the public HyperDHT. */
  bootstrap?: string[] | undefined
  /** Address to bind; 127.0.0.1 for a loopback mesh. */
  host?: string | undefined
  firewalled?: boolean | undefined
  /** How often (ms) a pairing candidate or member polls the DHT. */
  pairingPoll?: number
  /** Clock for op timestamps (tests inject skewed clocks). */
  now?: () => number
  /** The unlocked profile to run as (from the key file); none: a hosting-only node. */
  profile?: { keys: DeviceKeys } | null | undefined
  /** Key derivation cost for key files this node writes (init, device join, recover). */
  kdf?: KdfParams | undefined
  /** Peers (public keys) never admitted, from the start (the admission blocklist). */
  blocked?: Buffer[] | undefined
}

export interface JoinOptions {
  /** Expected project (key); a code for another project is refused before any network. */
  project?: string | undefined
  /** Give up after this many ms. */
  timeout?: number
  onProgress?: (p: Progress) => void
}

export interface InviteOptions {
  role?: Role
  /** Lifetime in ms. */
  expires?: number
  uses?: number
}

/** Events a FluxNode emits (state changes; operations are promises). */
export interface FluxNodeEvents {
  /** A project's view changed (project key, hex). */
  'project-update': [projectKey: string]
  /** Something went wrong that did not stop the node (a peer's bad request, a failed open). */
  warning: [err: unknown]
  'invite-admitted': [info: { project: string; writer: string }]
  'invite-denied': [info: { project: string; reason: string }]
  'invite-ignored': [info: { project: string }]
}

interface Held {
  entry: ProjectEntry
  project: Project
  member: BlindPairing.Member | null
}

export const DEFAULT_INVITE_TTL = 24 * 3600 * 1000
const DEFAULT_JOIN_TIMEOUT = 120_000
/** How many times a device must ask before a member that is not the indexer carries it in. */
const CARRY_AFTER = 3
/** A carried request is not carried again for this long (ms): the first one is on its way. */
const CARRY_AGAIN = 30_000
/** Longest a new member waits for the whole view before giving its name and card anyway. */
const INTRODUCE_WAIT = 10 * 60_000

export class FluxNode extends ReadyResource {
  readonly home: string
  readonly opts: FluxNodeOptions
  readonly startedAt = Date.now()
  store!: Corestore
  network!: Network
  /** The profile this node runs as (keys, profile Autobase, links, recovery). */
  profile!: ProfileManager
  private pairing!: BlindPairing
  private state!: NodeState
  /** Projects where this node waits to be added as a writer (a linked or recovered device). */
  private readonly wantWriter = new Set<string>()
  /** Writer requests seen (writer hex → times asked) and carried (→ when), to carry each once. */
  private readonly asked = new Map<string, number>()
  private readonly carried = new Map<string, number>()
  private writerTimer: NodeJS.Timeout | null = null
  private readonly held = new Map<string, Held>()
  private readonly admitLock = new Mutex()
  private readonly now: () => number

  constructor(opts: FluxNodeOptions) {
    super()
    this.opts = opts
    this.home = path.resolve(opts.home)
    this.now = opts.now ?? Date.now
  }

  protected override async _open(): Promise<void> {
    try {
      await this.openAll()
    } catch (err) {
      // ready-resource does not run _close after a failed open: release what was opened
      await this.releaseAll().catch(() => {})
      throw err
    }
  }

  private async openAll(): Promise<void> {
    await fs.mkdir(this.home, { recursive: true, mode: 0o700 })
    this.store = new Corestore(path.join(this.home, 'store'))
    try {
      await this.store.ready()
    } catch (err) {
      await this.store.close().catch(() => {})
      if (/lock/i.test(String((err as Error)?.message))) {
        throw new FluxError('NODE_RUNNING', `another Flux node is already running for ${this.home}`)
      }
      throw err
    }
    this.state = NodeState.at(this.home)
    await this.state.load()
    const keyPair = await this.store.createKeyPair('flux/swarm')
    this.network = new Network({
      store: this.store,
      keyPair,
      bootstrap: this.opts.bootstrap,
      host: this.opts.host,
      firewalled: this.opts.firewalled
    })
    for (const peer of this.opts.blocked ?? []) this.network.policy.block(peer)
    await this.network.ready()
    this.pairing = new BlindPairing(this.network.swarm, { poll: this.opts.pairingPoll ?? 2000 })
    const node = this
    this.profile = new ProfileManager({
      store: this.store,
      network: this.network,
      pairing: this.pairing,
      state: this.state,
      home: this.home,
      now: this.now,
      projects: () => this.list(),
      adoptProject: (key, encryptionKey) => this.adoptProject(key, encryptionKey),
      onProfile: () => this.onProfile(),
      emit: (event, err) => node.emit(event, err)
    })
    this.network.rpc.on('message', (m: RpcMessage) => {
      if (m.t !== 'writer-request') return
      this.carryWriter(m).catch((err: unknown) => this.emit('warning', err))
    })
    this.network.rpc.on('open', (peer: RpcPeer) => {
      for (const key of this.wantWriter) {
        const ask = this.writerRequest(key)
        if (ask !== null) peer.send(ask)
      }
    })
    for (const entry of this.state.projects()) {
      try {
        await this.openProject(entry)
      } catch (err) {
        this.emit('warning', err)
      }
    }
    if (this.opts.profile) await this.profile.activate(this.opts.profile.keys)
  }

  protected override async _close(): Promise<void> {
    await this.releaseAll()
  }

  private async releaseAll(): Promise<void> {
    if (this.writerTimer) clearInterval(this.writerTimer)
    // after a failed open, some of these were never made
    const self = this as unknown as Partial<Pick<FluxNode, 'profile' | 'network' | 'store'>> & {
      pairing?: BlindPairing
    }
    await self.profile?.close().catch(() => {})
    await self.pairing?.close().catch(() => {})
    for (const held of this.held.values()) {
      await held.member?.close().catch(() => {})
      await held.project.close().catch(() => {})
    }
    this.held.clear()
    await self.network?.close()
    await self.store?.close()
  }

  get peerId(): string {
    return encodeKey(this.network.publicKey)
  }

  private async openProject(entry: ProjectEntry): Promise<Held> {
    const project = new Project(this.store.namespace(entry.ns), {
      key: fromHex(entry.key),
      encryptionKey: entry.encryptionKey === null ? null : fromHex(entry.encryptionKey),
      now: this.now,
      wakeup: this.network.wakeup
    })
    await project.ready()
    return this.track(entry, project)
  }

  private async track(entry: ProjectEntry, project: Project): Promise<Held> {
    const held: Held = { entry, project, member: null }
    project.memberId = this.profile.profileHex
    this.held.set(entry.key, held)
    project.on('update', () => {
      this.emit('project-update', entry.key)
      this.profile.recheckHosting()
    })
    project.on('warning', (err: unknown) => this.emit('warning', err))
    await this.network.join(projectTopic(project.discoveryKey))
    if (this.activeInvites(entry.key).length > 0) this.listenForJoiners(held)
    return held
  }

  /** Every project this node holds. */
  list(): Project[] {
    return [...this.held.values()].map((h) => h.project)
  }

  /**
   * Find a held project by key (z32 or hex), unique key prefix, or exact name.
   * Throws PROJECT_NOT_FOUND, PROJECT_AMBIGUOUS or KEY_MALFORMED.
   */
  async resolve(ref: string): Promise<Project> {
    const text = ref.trim()
    if (looksLikeKey(text)) {
      const held = this.held.get(toHex(decodeKey(text, 'project key')))
      if (!held) throw new FluxError('PROJECT_NOT_FOUND', `this node does not hold project ${text}`)
      return held.project
    }
    const matches: Project[] = []
    for (const held of this.held.values()) {
      const z = encodeKey(held.project.key)
      const name = (await held.project.view.project())?.name.value
      if (
        (text.length >= 4 && z.startsWith(text)) ||
        (name !== undefined && name.toLowerCase() === text.toLowerCase())
      ) {
        matches.push(held.project)
      }
    }
    if (matches.length === 1) return matches[0] as Project
    if (matches.length > 1) {
      throw new FluxError(
        'PROJECT_AMBIGUOUS',
        `"${text}" matches ${matches.length} projects: use the full key`
      )
    }
    throw new FluxError(
      'PROJECT_NOT_FOUND',
      `no project here matches "${text}" (see \`flux project list\`)`
    )
  }

  /** Create a project; this node becomes its first admin. */
  async createProject(opts: {
    name: string
    description?: string
    public?: boolean
  }): Promise<ProjectDetail> {
    const keys = this.profile.requireFullDevice('create projects')
    const encryptionKey = opts.public ? null : crypto.randomBytes(32)
    const ns = crypto.randomBytes(16).toString('hex')
    const project = new Project(this.store.namespace(ns), {
      key: null,
      encryptionKey,
      now: this.now,
      wakeup: this.network.wakeup
    })
    await project.ready()
    await project.append({
      type: 'project/init',
      name: opts.name,
      description: opts.description ?? '',
      public: !!opts.public,
      as: createWriterProof(keys, project.discoveryKey, project.base.local.key as Buffer)
    })
    await project.update()
    if ((await project.view.project()) === null) {
      await project.close()
      throw new FluxError(
        'INVALID_INPUT',
        'the project could not be created: its name or description is invalid'
      )
    }
    const entry: ProjectEntry = {
      key: toHex(project.key),
      ns,
      encryptionKey: encryptionKey === null ? null : toHex(encryptionKey),
      via: 'created',
      addedAt: Date.now()
    }
    await this.state.putProject(entry)
    await this.track(entry, project)
    await this.introduce(project)
    return this.describe(project, { hash: false })
  }

  /**
   * Once writable in a project: give our profile's name and card (so that peers host our
   * profile), and note the project in the profile.
   */
  private async introduce(project: Project): Promise<void> {
    const me = await project.view.member(project.memberId)
    if (me === null || me.removed || !project.writable) return
    const name = this.profile.name
    if (name !== '' && me.name?.value !== name) {
      await project.append({ type: 'member/name', name, prev: me.name?.id ?? null })
    }
    const card = this.profile.card()
    if (card !== null && (me.card === null || me.card.base !== card.base)) {
      await project.append({ type: 'member/card', card })
    }
    await project.update()
    await this.profile.recordProject(project)
  }

  /**
   * Introduce ourselves once the project's view is all here. Writing while a fast-forwarded
   * view is still mostly remote makes Autobase rework it: a late joiner of a 10k-op project
   * took 10 s instead of 0.3 s to hold the same view core as its peers.
   */
  private introduceWhenSynced(project: Project): void {
    const started = Date.now()
    let fetching = -1
    let timer: NodeJS.Timeout | null = null
    const done = (): void => {
      project.off('update', check)
      if (timer) clearInterval(timer)
    }
    const check = (): void => {
      if (project.closing) return done()
      const core = project.base.view.core
      if (!project.writable || project.syncState().behind > 0) return
      if (core.contiguousLength < core.length && Date.now() - started < INTRODUCE_WAIT) {
        // offline-first: a member keeps the whole view, so fetch what is still remote
        if (fetching !== core.length) {
          fetching = core.length
          core.download({ start: 0, end: core.length })
        }
        return
      }
      done()
      this.introduce(project).catch((err: unknown) => this.emit('warning', err))
    }
    project.on('update', check)
    timer = setInterval(check, 1000)
    timer.unref()
    check()
  }

  /** Issue an invite code for a project. Expiry and uses are enforced by this node when it admits. */
  async invite(ref: string, opts: InviteOptions = {}): Promise<CreatedInvite> {
    const project = await this.resolve(ref)
    const held = this.heldOf(project)
    const role = opts.role ?? 'member'
    await this.requireWritable(project)
    const me = await project.view.member(project.memberId)
    if (me === null || me.removed) throw new FluxError('NOT_ALLOWED', 'only members can invite')
    if (role === 'admin' && me.role !== 'admin')
      throw new FluxError('NOT_ALLOWED', 'only admins can invite admins')
    const uses = opts.uses ?? 1
    if (!Number.isInteger(uses) || uses < 1 || uses > 1000) {
      throw new FluxError('INVALID_INPUT', 'uses must be a whole number from 1 to 1000')
    }
    const ttl = opts.expires ?? DEFAULT_INVITE_TTL
    const expires = Date.now() + ttl
    const created = BlindPairing.createInvite(project.key, { expires })
    const entry: InviteEntry = {
      id: created.id.toString('hex'),
      project: held.entry.key,
      publicKey: created.publicKey.toString('hex'),
      role,
      expires,
      uses,
      used: 0,
      createdAt: Date.now(),
      admitted: []
    }
    await this.state.putInvite(entry)
    this.listenForJoiners(held)
    return {
      code: encodeInviteCode(created.invite),
      project: encodeKey(project.key),
      id: entry.id,
      role,
      expires,
      uses,
      used: 0
    }
  }

  private activeInvites(projectHex: string): InviteEntry[] {
    const now = Date.now()
    return this.state.invites(projectHex).filter((i) => i.expires > now && i.used < i.uses)
  }

  private listenForJoiners(held: Held): void {
    if (held.member !== null) return
    held.member = this.pairing.addMember({
      discoveryKey: held.project.discoveryKey,
      onadd: (req) =>
        this.admitLock.run(async () => {
          try {
            await this.admit(held, req)
          } catch (err) {
            // a request from the network must never take the node down
            this.emit('warning', err)
          }
        })
    })
  }

  /** Answer one pairing request: the checks the library leaves to us, then the member/add op. */
  private async admit(held: Held, req: BlindPairing.MemberRequest): Promise<void> {
    const invite = this.state.invite(req.inviteId.toString('hex'))
    if (invite === null || invite.project !== held.entry.key) {
      // Not ours: another member may have issued it, so stay silent (a request cannot be
      // denied without the invite's key anyway).
      this.emit('invite-ignored', { project: held.entry.key })
      return
    }
    let userData: Buffer
    try {
      userData = req.open(fromHex(invite.publicKey))
    } catch {
      req.deny({ status: 1 })
      return
    }
    const proof = verifyWriterProof(decodeWriterProof(userData), held.project.discoveryKey)
    const writer = proof?.writer ?? ''
    if (proof !== null && invite.admitted.includes(writer)) {
      // the same candidate asking again (it missed our first answer): answer the same way
      req.confirm({ key: held.project.key, encryptionKey: held.project.base.encryptionKey })
      return
    }
    if (invite.expires <= Date.now()) {
      req.deny({ status: 3 })
      this.emit('invite-denied', { project: held.entry.key, reason: 'expired' })
      return
    }
    if (invite.used >= invite.uses) {
      req.deny({ status: 2 })
      this.emit('invite-denied', { project: held.entry.key, reason: 'used' })
      return
    }
    const as = decodeWriterProof(userData)
    if (proof === null || as === null || held.project.closing) {
      req.deny({ status: 1 })
      return
    }
    invite.used++
    invite.admitted.push(writer)
    await this.state.putInvite(invite)
    const existing = await held.project.view.member(proof.profile)
    if (existing === null || existing.removed) {
      await held.project.append({ type: 'member/add', role: invite.role, invite: invite.id, as })
    } else if ((await held.project.view.writer(writer)) === null) {
      // another device of a profile that is already a member
      await held.project.append({ type: 'writer/add', as })
    }
    req.confirm({ key: held.project.key, encryptionKey: held.project.base.encryptionKey })
    this.emit('invite-admitted', { project: held.entry.key, writer })
  }

  /**
   * Join a project by invite code (becoming a writer) or by bare key (hosting it: a private
   * project's data stays unreadable; a public one can be read).
   */
  async join(codeOrKey: string, opts: JoinOptions = {}): Promise<ProjectDetail> {
    const text = codeOrKey.trim()
    if (looksLikeKey(text)) return this.joinByKey(decodeKey(text, 'project key'))
    return this.joinByInvite(text, opts)
  }

  private async joinByKey(key: Buffer): Promise<ProjectDetail> {
    const hex = toHex(key)
    const existing = this.held.get(hex)
    if (existing) return this.describe(existing.project, { hash: false })
    const entry: ProjectEntry = {
      key: hex,
      ns: crypto.randomBytes(16).toString('hex'),
      encryptionKey: null,
      via: 'key',
      addedAt: Date.now()
    }
    await this.state.putProject(entry)
    const held = await this.openProject(entry)
    return this.describe(held.project, { hash: false })
  }

  private async joinByInvite(code: string, opts: JoinOptions): Promise<ProjectDetail> {
    const keys = this.profile.requireKeys()
    const decoded = decodeInviteCode(code)
    const progress = opts.onProgress ?? (() => {})
    if (opts.project !== undefined) {
      const expected = decodeKey(opts.project, 'project key')
      if (!crypto.discoveryKey(expected).equals(decoded.discoveryKey)) {
        throw new FluxError(
          'INVITE_WRONG_PROJECT',
          `this invite is for another project, not ${encodeKey(expected)}`
        )
      }
    }
    if (decoded.expires !== 0 && decoded.expires <= Date.now()) {
      throw new FluxError(
        'INVITE_EXPIRED',
        `this invite expired at ${new Date(decoded.expires).toISOString()}: ask for a new one`
      )
    }
    let previous: Held | null = null
    for (const held of this.held.values()) {
      if (!held.project.discoveryKey.equals(decoded.discoveryKey)) continue
      if (held.project.writable) {
        throw new FluxError(
          'PROJECT_EXISTS',
          `you are already a member of ${encodeKey(held.project.key)}`
        )
      }
      previous = held
    }
    const ns = previous?.entry.ns ?? crypto.randomBytes(16).toString('hex')
    const local = Autobase.getLocalCore(this.store.namespace(ns))
    await local.ready()
    const writerKey = local.key as Buffer
    await local.close()

    progress({ phase: 'pairing', message: 'asking the project members to let us in' })
    const userData = encodeWriterProof(createWriterProof(keys, decoded.discoveryKey, writerKey))
    const timeout = opts.timeout ?? DEFAULT_JOIN_TIMEOUT
    const result = await askToPair(this.pairing, decoded.invite, userData, timeout, {
      used: ['INVITE_USED', 'this invite has already been used: ask for a new one'],
      expired: ['INVITE_EXPIRED', 'this invite has expired: ask for a new one'],
      rejected: [
        'INVITE_REJECTED',
        'the project refused this invite: it is unknown there (revoked, or for another project)'
      ],
      failed: 'pairing failed',
      timeout: `no member of the project answered within ${Math.round(timeout / 1000)}s: none is online, or none knows this invite`
    })
    progress({ phase: 'paired', message: 'accepted: opening the project' })

    if (previous) {
      this.held.delete(previous.entry.key)
      await previous.member?.close().catch(() => {})
      await previous.project.close()
    }
    const entry: ProjectEntry = {
      key: toHex(result.key),
      ns,
      encryptionKey: result.encryptionKey ? toHex(result.encryptionKey) : null,
      via: 'invite',
      addedAt: Date.now()
    }
    await this.state.putProject(entry)
    const held = await this.openProject(entry)
    let syncing = true
    const onUpdate = (): void => {
      void held.project.view.system().then((s) => {
        // a count read before we finished must not arrive after 'writable'
        if (syncing) progress({ phase: 'syncing', message: 'syncing', applied: s.applied })
      })
    }
    held.project.on('update', onUpdate)
    try {
      progress({ phase: 'syncing', message: 'waiting to be added as a writer' })
      await held.project.waitWritable(timeout)
      await held.project.update()
    } finally {
      syncing = false
      held.project.off('update', onUpdate)
    }
    this.introduceWhenSynced(held.project)
    progress({ phase: 'writable', message: 'joined: this node is now a writer' })
    return this.describe(held.project, { hash: false })
  }

  // ---- profiles ----------------------------------------------------------------------

  /**
   * Create a profile for this node (it has none): a fresh 24-word phrase, returned once to be
   * shown. With a passphrase, the device keys are sealed in HOME/profile.key; without one they
   * stay in memory (tests, embedding).
   */
  async initProfile(opts: {
    name: string
    passphrase?: string | null
  }): Promise<{ phrase: string; whoami: WhoAmI }> {
    if (this.profile.keys !== null || this.state.profile() !== null) {
      throw new FluxError('PROFILE_EXISTS', 'this node already has a profile (see `flux whoami`)')
    }
    const name = opts.name.trim()
    if (name.length === 0 || name.length > 100) {
      throw new FluxError('INVALID_INPUT', 'a profile name is 1 to 100 characters')
    }
    const { phrase, keys, entry } = await newProfile(name)
    if (opts.passphrase) {
      await saveKeyFile(keyFilePath(this.home), { name, keys }, opts.passphrase, {
        kdf: this.opts.kdf
      })
    }
    await this.state.putProfile(entry)
    await this.profile.activate(keys)
    const whoami = await this.profile.whoami()
    if (whoami === null) throw new FluxError('INTERNAL', 'the profile did not activate')
    return { phrase, whoami }
  }

  whoami(): Promise<WhoAmI | null> {
    return this.profile.whoami()
  }

  /** The profile became active or changed: projects learn who we are; ask to write where due. */
  private onProfile(): void {
    const me = this.profile.profileHex
    for (const held of this.held.values()) {
      held.project.memberId = me
      if (me !== '' && !held.project.writable) void this.wantToWrite(held)
    }
  }

  /**
   * Hold a project of our profile (a linked or recovered device): open it with its key, sync
   * it from any peer, and ask its writers to add this device.
   */
  async adoptProject(keyHex: string, encryptionKey: Buffer | null): Promise<Project> {
    const existing = this.held.get(keyHex)
    if (existing) {
      if (!existing.project.writable) void this.wantToWrite(existing)
      return existing.project
    }
    const entry: ProjectEntry = {
      key: keyHex,
      ns: crypto.randomBytes(16).toString('hex'),
      encryptionKey: encryptionKey === null ? null : toHex(encryptionKey),
      via: 'profile',
      addedAt: Date.now()
    }
    await this.state.putProject(entry)
    const held = await this.openProject(entry)
    void this.wantToWrite(held)
    return held.project
  }

  /** Keep asking (every peer, every 2 s and on every new peer) until a writer adds us. */
  private async wantToWrite(held: Held): Promise<void> {
    const key = held.entry.key
    if (this.profile.keys === null || held.project.writable || this.wantWriter.has(key)) return
    const member = await held.project.view.member(this.profile.profileHex)
    // a project we hold by key, of which our profile is not a member, is just hosted
    if (held.entry.via !== 'profile' && (member === null || member.removed)) return
    this.wantWriter.add(key)
    const ask = this.writerRequest(key)
    if (ask !== null) this.network.rpc.broadcast(ask)
    held.project.once('writable', () => {
      this.wantWriter.delete(key)
      this.introduce(held.project).catch((err: unknown) => this.emit('warning', err))
    })
    if (this.writerTimer === null) {
      this.writerTimer = setInterval(() => {
        for (const k of this.wantWriter) {
          const h = this.held.get(k)
          if (!h || h.project.writable) {
            this.wantWriter.delete(k)
            continue
          }
          const m = this.writerRequest(k)
          if (m !== null) this.network.rpc.broadcast(m)
        }
      }, 2000)
      this.writerTimer.unref()
    }
  }

  private writerRequest(keyHex: string): RpcMessage | null {
    const held = this.held.get(keyHex)
    const keys = this.profile.keys
    if (!held || keys === null) return null
    return {
      t: 'writer-request',
      project: toHex(held.project.discoveryKey),
      proof: createWriterProof(
        keys,
        held.project.discoveryKey,
        held.project.base.local.key as Buffer
      )
    }
  }

  /**
   * A peer asks to be added as a writer of a project we write to. Its proof is the authority
   * (apply checks it again on every peer); we only carry it in, once.
   */
  private async carryWriter(m: Extract<RpcMessage, { t: 'writer-request' }>): Promise<void> {
    if (typeof m.project !== 'string') return
    let held: Held | null = null
    for (const h of this.held.values()) {
      if (toHex(h.project.discoveryKey) === m.project) held = h
    }
    if (held === null || !held.project.writable || held.project.closing) return
    const project = held.project
    const v = verifyWriterProof(m.proof, project.discoveryKey)
    if (v === null) return
    // One carrier is enough. The project's indexer (its creator) carries at once; any other
    // member only once the device has kept asking (about 4 s: the indexer is likely away).
    // Several members carrying the same writer at the same moment is correct (the first
    // counts) but was seen to leave views ordered differently for a long time.
    const times = (this.asked.get(v.writer) ?? 0) + 1
    this.asked.set(v.writer, times)
    if (this.asked.size > 1000) this.asked.clear()
    if (!project.base.isIndexer && times < CARRY_AFTER) return
    const last = this.carried.get(v.writer)
    if (last !== undefined && Date.now() - last < CARRY_AGAIN) return
    this.carried.set(v.writer, Date.now()) // before any await: the next request waits
    if (this.carried.size > 1000) this.carried.clear()
    const member = await project.view.member(v.profile)
    const refuse =
      member === null ||
      member.removed ||
      (await project.view.writer(v.writer)) !== null ||
      (await project.view.project())?.archived.value === true
    if (refuse) {
      this.carried.delete(v.writer)
      return
    }
    await project.append({ type: 'writer/add', as: m.proof })
    await project.update()
  }

  /** Stop holding a project. A member also removes itself (the creator cannot). */
  async leave(ref: string): Promise<{ key: string }> {
    const project = await this.resolve(ref)
    const held = this.heldOf(project)
    const profile = project.memberId
    if (project.writable && (await project.view.project())?.creator !== profile) {
      const me = await project.view.member(profile)
      if (me !== null && !me.removed) {
        await project.append({ type: 'member/remove', profile }).catch(() => {})
      }
    }
    await this.profile.forgetProject(held.entry.key).catch(() => {})
    this.wantWriter.delete(held.entry.key)
    this.held.delete(held.entry.key)
    await held.member?.close().catch(() => {})
    await this.network.leave(projectTopic(project.discoveryKey))
    await project.close()
    await this.state.deleteProject(held.entry.key)
    return { key: encodeKey(project.key) }
  }

  /** Require that this node may write to the project now; throws a clear error if not. */
  async requireWritable(project: Project): Promise<void> {
    if (!(await project.readable())) {
      throw new FluxError(
        'PROJECT_UNREADABLE',
        'this node holds the project by key only: join with an invite to read and write'
      )
    }
    if (!project.writable)
      throw new FluxError('NOT_WRITABLE', 'this node is not (or no longer) a writer of the project')
    const self = await project.view.writer(project.writerId)
    if (self?.delegated && self.expiresAt !== null && this.now() >= self.expiresAt) {
      throw new FluxError(
        'DELEGATION_EXPIRED',
        `this device's delegation ended at ${new Date(self.expiresAt).toISOString()}`
      )
    }
    if (self?.removed) {
      const revoked = this.profile.keys
        ? await project.view.revoked(project.memberId, toHex(this.profile.keys.device.publicKey))
        : null
      throw revoked
        ? new FluxError('DEVICE_REVOKED', 'this device was revoked: its ops are not accepted')
        : new FluxError('NOT_WRITABLE', 'this device no longer writes to the project')
    }
    const info = await project.view.project()
    if (info?.archived.value)
      throw new FluxError('PROJECT_ARCHIVED', 'the project is archived: it is read-only')
  }

  async requireReadable(project: Project): Promise<void> {
    if (!(await project.readable())) {
      throw new FluxError(
        'PROJECT_UNREADABLE',
        'this node holds the project by key only: its data is encrypted'
      )
    }
  }

  heldOf(project: Project): Held {
    const held = this.held.get(toHex(project.key))
    if (!held) throw new FluxError('PROJECT_NOT_FOUND', 'project is not held by this node')
    return held
  }

  /** A project's details; `hash: false` skips the state hash (it reads the whole view). */
  describe(project: Project, opts: { hash?: boolean } = {}): Promise<ProjectDetail> {
    const held = this.heldOf(project)
    const invites = this.state.invites(held.entry.key).map((i) => ({
      id: i.id,
      role: i.role,
      expires: i.expires,
      uses: i.uses,
      used: i.used
    }))
    return describeProject(project, invites, opts)
  }

  summaries(): Promise<ProjectSummary[]> {
    return Promise.all(this.list().map((p) => summarizeProject(p)))
  }

  peers(): PeerInfo[] {
    return [...this.network.peers.values()].map((p) => ({
      id: p.id,
      address: p.address,
      connectedAt: p.connectedAt,
      initiator: p.client
    }))
  }

  async status(): Promise<NodeStatus> {
    return {
      home: this.home,
      peerId: this.peerId,
      pid: process.pid,
      startedAt: this.startedAt,
      bootstrap: this.opts.bootstrap ?? null,
      host: this.opts.host ?? null,
      peers: this.network.peers.size,
      projects: await this.summaries()
    }
  }
}
