/**
 * The profile side of a node: the profile this node runs as (its device keys, its profile
 * Autobase), device link codes, revocation, delegation expiry, recovery from the mesh, and
 * hosting the profiles of project members. The project side (writer proofs in projects) stays
 * in node.ts; this class reaches it through `ProfileHost`.
 */
import os from 'os'
import path from 'path'
import { EventEmitter } from 'events'
import Autobase from 'autobase'
import BlindPairing from 'blind-pairing'
import b4a from 'b4a'
import z32 from 'z32'
import sodium from 'sodium-universal'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { ProfileBase } from './base.js'
import {
  HOSTS_PER_PROFILE,
  baseStatement,
  chooseCopy,
  closest,
  copyLength,
  profileCores
} from './copies.js'
import { decodeLinkRequest, encodeLinkRequest, linkErrors } from './link-request.js'
import { askToPair } from '../swarm/pairing.js'
import type { DeviceRecord, ProjectEntry as ProfileProject } from './view.js'
import { FluxError } from '../errors.js'
import { decodeKey, encodeKey, fromHex, looksLikeKey, toHex } from '../identity/keys.js'
import {
  createDeviceKeyPair,
  clearDeviceKeys,
  createProfile,
  withIdentity,
  type DeviceKeys
} from '../identity/profile-keys.js'
import {
  attestDevice,
  delegateDevice,
  verifyDelegation,
  verifyDevice
} from '../identity/devices.js'
import { signMessage, verifySignature } from '../identity/sign.js'
import { openFromDevice, openRecovery, sealToDevice, sealToRecovery } from '../identity/seal.js'
import { saveKeyFile, type KdfParams } from '../identity/keyfile.js'
import { decodeLinkCode, encodeLinkCode } from '../project/invite-code.js'
import { profileTopic } from '../swarm/topics.js'
import type { Network } from '../swarm/network.js'
import type { RpcMessage, RpcPeer } from '../swarm/rpc.js'
import type { NodeState, InviteEntry, ProfileEntry, HostedProfile } from '../node-state.js'
import type { Project } from '../project/project.js'
import { Mutex } from '../util/mutex.js'
import type { Progress } from '../api.js'

/** What the profile side needs from the node. */
export interface ProfileHost {
  store: Corestore
  network: Network
  pairing: BlindPairing
  state: NodeState
  home: string
  now: () => number
  /** Projects this node holds. */
  projects(): Project[]
  /** Hold a project of the profile (open it, sync it, ask to be added as a writer). */
  adoptProject(keyHex: string, encryptionKey: Buffer | null): Promise<Project>
  /** This node's profile changed (became active, or its record changed). */
  onProfile(): void
  emit(event: 'warning', err: unknown): void
}

export interface DeviceInfo {
  id: string
  name: string
  you: boolean
  delegated: boolean
  expiresAt: number | null
  revoked: { by: string; at: number } | null
  addedBy: string | null
  addedAt: number
}

export interface WhoAmI {
  profile: string
  name: string
  device: string
  delegated: boolean
  expiresAt: number | null
  /** The profile Autobase key, and whether this device writes to it yet. */
  base: string | null
  profileWritable: boolean
  devices: DeviceInfo[]
  projects: number
}

export interface CreatedLink {
  code: string
  profile: string
  expires: number
  /** For a delegation: how long the device may act for the profile after it joins (ms). */
  delegateFor: number | null
}

export interface RecoveryAnswer {
  peer: string
  base: string
  length: number
  valid: boolean
  chosen: boolean
}

export interface RecoveryReport {
  whoami: WhoAmI
  answered: RecoveryAnswer[]
  projects: Array<{ key: string; name: string; writable: boolean; posts: number }>
}

const PROFILE_NS = 'flux/profile'
const DEFAULT_LINK_TTL = 10 * 60 * 1000
const DEFAULT_TIMEOUT = 120_000
/** How long recovery keeps listening for more holders once one answered. */
const ANSWER_GRACE = 1500

export class ProfileManager extends EventEmitter {
  keys: DeviceKeys | null = null
  base: ProfileBase | null = null
  private member: BlindPairing.Member | null = null
  private readonly lock = new Mutex()
  private readonly hostedCores = new Map<string, Hypercore[]>()
  /** Profile cores offered before we saw the member's card (re-checked on project updates). */
  private readonly pendingCores = new Map<string, Extract<RpcMessage, { t: 'profile-cores' }>>()
  private syncing: Promise<void> | null = null
  private again = false
  private expiryTimer: NodeJS.Timeout | null = null
  private recheckTimer: NodeJS.Timeout | null = null

  constructor(private readonly host: ProfileHost) {
    super()
    host.network.rpc.on('message', (m: RpcMessage, peer: RpcPeer) => {
      this.onMessage(m, peer).catch((err: unknown) => host.emit('warning', err))
    })
    host.network.rpc.on('open', (peer: RpcPeer) => this.greet(peer))
  }

  get entry(): ProfileEntry | null {
    return this.host.state.profile()
  }

  get profileHex(): string {
    return this.keys ? toHex(this.keys.profileId) : ''
  }

  get name(): string {
    return this.entry?.name ?? ''
  }

  /** Throws NO_PROFILE unless this node runs as a profile. */
  requireKeys(): DeviceKeys {
    if (this.keys === null) {
      throw new FluxError(
        'NO_PROFILE',
        'this node has no profile yet: run `flux init` (or `flux device join`, `flux recover`)'
      )
    }
    return this.keys
  }

  requireFullDevice(what: string): DeviceKeys {
    const keys = this.requireKeys()
    if (keys.delegated) {
      throw new FluxError('NOT_ALLOWED', `a delegated (time-limited) device cannot ${what}`)
    }
    return keys
  }

  /** Start running as a profile: open its base, join its topic, answer link requests. */
  async activate(keys: DeviceKeys): Promise<void> {
    this.keys = keys
    const entry = this.entry
    if (entry === null || entry.id !== toHex(keys.profileId)) {
      throw new FluxError(
        'KEYFILE_CORRUPT',
        'the profile key file does not match this node (node.json names another profile)'
      )
    }
    if (keys.secrets !== null) {
      if (entry.base === null) await this.createBase(entry)
      else await this.openBase(fromHex(entry.base))
    }
    await this.host.network.join(profileTopic(fromHex(entry.discovery)))
    if (this.activeLinks().length > 0) this.listenForDevices()
    this.expiryTimer = setInterval(() => {
      this.expireDelegations().catch((err: unknown) => this.host.emit('warning', err))
    }, 30_000)
    this.expiryTimer.unref()
    for (const hosted of this.host.state.hosted()) await this.hostCores(hosted)
    this.host.onProfile()
  }

  async close(): Promise<void> {
    if (this.expiryTimer) clearInterval(this.expiryTimer)
    if (this.recheckTimer) clearTimeout(this.recheckTimer)
    await this.member?.close().catch(() => {})
    await this.base?.close().catch(() => {})
    for (const cores of this.hostedCores.values()) {
      for (const core of cores) await core.close().catch(() => {})
    }
    if (this.keys) clearDeviceKeys(this.keys)
  }

  private async openBase(key: Buffer | null): Promise<ProfileBase> {
    const keys = this.requireKeys()
    if (keys.secrets === null) throw new FluxError('INTERNAL', 'no profile encryption key')
    const base = new ProfileBase(this.host.store.namespace(PROFILE_NS), {
      key,
      encryptionKey: keys.secrets.encryptionKey,
      profileId: keys.profileId,
      now: this.host.now,
      wakeup: this.host.network.wakeup
    })
    await base.ready()
    this.base = base
    base.on('update', () => {
      this.onBaseUpdate().catch((err: unknown) => this.host.emit('warning', err))
    })
    return base
  }

  private async createBase(entry: ProfileEntry): Promise<void> {
    const keys = this.requireFullDevice('create a profile')
    const base = await this.openBase(null)
    await base.append({
      type: 'profile/init',
      profile: entry.id,
      discovery: entry.discovery,
      recovery: entry.recovery,
      name: entry.name,
      device: toHex(keys.device.publicKey),
      proof: b4a.toString(keys.deviceProof, 'base64'),
      deviceName: os.hostname().slice(0, 100)
    })
    await base.update()
    const sig = signMessage(
      baseStatement(base.key, fromHex(entry.discovery)),
      keys.device,
      keys.deviceProof
    )
    await this.host.state.putProfile({ ...entry, base: toHex(base.key), baseSig: sig })
    for (const project of this.host.projects()) {
      if (project.memberId === entry.id) await this.recordProject(project)
    }
  }

  /** The card projects carry so that peers can host this profile (null before the base). */
  card(): { discovery: string; base: string; sig: string } | null {
    const e = this.entry
    if (e === null || e.base === null || e.baseSig === null) return null
    return { discovery: e.discovery, base: e.base, sig: e.baseSig }
  }

  /** Note a project in the profile, its key sealed to every live device and to recovery. */
  async recordProject(project: Project): Promise<void> {
    const base = this.base
    const entry = this.entry
    if (base === null || !base.writable || entry === null) return
    const name = (await project.view.project())?.name.value ?? ''
    const encryptionKey = project.base.encryptionKey
    const keys: Record<string, string> = {}
    let recovery: string | null = null
    if (encryptionKey) {
      for (const d of await this.liveDevices()) {
        keys[d.device] = b4a.toString(sealToDevice(fromHex(d.device), encryptionKey), 'base64')
      }
      recovery = b4a.toString(sealToRecovery(fromHex(entry.recovery), encryptionKey), 'base64')
    }
    const existing = await base.view.project(toHex(project.key))
    if (existing !== null && !existing.removed && existing.name === name) return
    await base.append({
      type: 'project/add',
      key: toHex(project.key),
      name: name.slice(0, 100),
      keys,
      recovery,
      public: encryptionKey === null
    })
  }

  async forgetProject(keyHex: string): Promise<void> {
    const base = this.base
    if (base === null || !base.writable) return
    const existing = await base.view.project(keyHex)
    if (existing === null || existing.removed) return
    await base.append({ type: 'project/remove', key: keyHex })
  }

  private async liveDevices(): Promise<DeviceRecord[]> {
    const base = this.base
    if (base === null) return []
    const out: DeviceRecord[] = []
    for (const d of await base.view.devices()) {
      if (await base.view.isActive(d.device)) out.push(d)
    }
    return out
  }

  /**
   * After the profile changes: seal project keys for devices that lack them (a device linked
   * while we were away), and hold the profile's projects this node does not hold yet.
   */
  private async onBaseUpdate(): Promise<void> {
    // one pass at a time; an update during a pass asks for one more pass
    if (this.syncing !== null) {
      this.again = true
      return this.syncing
    }
    this.syncing = (async () => {
      do {
        this.again = false
        await this.syncPass()
      } while (this.again)
    })()
    try {
      await this.syncing
    } finally {
      this.syncing = null
    }
  }

  private async syncPass(): Promise<void> {
    const base = this.base
    const keys = this.keys
    if (base === null || keys === null) return
    {
      const live = await this.liveDevices()
      for (const p of await base.view.projects()) {
        const encryptionKey = projectKey(p, keys)
        if (encryptionKey === undefined) continue
        const held = this.host.projects().some((h) => toHex(h.key) === p.key)
        if (!held) await this.host.adoptProject(p.key, encryptionKey)
        if (encryptionKey === null || !base.writable) continue
        const missing: Record<string, string> = {}
        for (const d of live) {
          if (p.keys[d.device] === undefined) {
            missing[d.device] = b4a.toString(
              sealToDevice(fromHex(d.device), encryptionKey),
              'base64'
            )
          }
        }
        if (Object.keys(missing).length > 0) {
          await base.append({ type: 'project/keys', key: p.key, keys: missing })
        }
      }
      this.announceCores()
    }
    this.host.onProfile()
  }

  // ---- who am I -------------------------------------------------------------------------

  async whoami(): Promise<WhoAmI | null> {
    const keys = this.keys
    const entry = this.entry
    if (keys === null || entry === null) return null
    const self = toHex(keys.device.publicKey)
    const devices = this.base ? await this.base.view.devices() : []
    const record = this.base ? await this.base.view.profile() : null
    let expiresAt: number | null = null
    if (keys.delegated) {
      const grant = verifyDelegation(keys.deviceProof, { devicePublicKey: keys.device.publicKey })
      expiresAt = grant?.expiresAt ?? null
    }
    return {
      profile: encodeKey(keys.profileId),
      name: record?.name.value ?? entry.name,
      device: encodeKey(keys.device.publicKey),
      delegated: keys.delegated === true,
      expiresAt,
      base: entry.base ? encodeKey(fromHex(entry.base)) : null,
      profileWritable: this.base?.writable ?? false,
      devices: devices.map((d) => deviceInfo(d, self)),
      projects: this.base ? (await this.base.view.projects()).length : 0
    }
  }

  /** Rename the profile: in the profile itself and in every project it writes to. */
  async setName(name: string): Promise<WhoAmI> {
    this.requireFullDevice('rename the profile')
    const text = name.trim()
    if (text.length === 0 || text.length > 100) {
      throw new FluxError('INVALID_INPUT', 'a profile name is 1 to 100 characters')
    }
    const base = this.base
    const entry = this.entry
    if (base === null || entry === null || !base.writable) {
      throw new FluxError('NOT_WRITABLE', 'this device does not write to its profile yet')
    }
    const record = await base.view.profile()
    await base.append({ type: 'profile/name', name: text, prev: record?.name.id ?? null })
    await base.update()
    await this.host.state.putProfile({ ...entry, name: text })
    for (const project of this.host.projects()) {
      if (!project.writable || project.memberId !== entry.id) continue
      const me = await project.view.member(entry.id)
      if (me === null || me.removed || me.name?.value === text) continue
      await project.append({ type: 'member/name', name: text, prev: me.name?.id ?? null })
    }
    const who = await this.whoami()
    if (who === null) throw new FluxError('INTERNAL', 'no profile')
    return who
  }

  async devices(): Promise<DeviceInfo[]> {
    return (await this.whoami())?.devices ?? []
  }

  sign(message: string): string {
    const keys = this.requireFullDevice('sign as the profile')
    return signMessage(message, keys.device, keys.deviceProof)
  }

  /** This device's proof (z-base-32), for `flux verify <profile> <proof>`. */
  deviceProof(): string {
    return z32.encode(this.requireKeys().deviceProof)
  }

  // ---- device links ---------------------------------------------------------------------

  private activeLinks(): InviteEntry[] {
    const base = this.entry?.base
    if (!base) return []
    const now = Date.now()
    return this.host.state
      .invites(base)
      .filter((i) => i.kind === 'link' && i.expires > now && i.used < i.uses)
  }

  /** A one-use link code for a new device (or a delegate, with `delegateFor`). */
  async createLink(opts: { expires?: number; delegateFor?: number } = {}): Promise<CreatedLink> {
    const keys = this.requireFullDevice('link devices')
    const base = this.base
    const entry = this.entry
    if (base === null || entry === null || !base.writable) {
      throw new FluxError(
        'NOT_WRITABLE',
        'this device does not write to its profile yet: link from another device'
      )
    }
    const ttl = opts.expires ?? DEFAULT_LINK_TTL
    if (!Number.isSafeInteger(ttl) || ttl <= 0) {
      throw new FluxError('INVALID_INPUT', 'a link code needs a positive lifetime')
    }
    const delegateFor = opts.delegateFor ?? null
    if (delegateFor !== null && (!Number.isSafeInteger(delegateFor) || delegateFor <= 0)) {
      throw new FluxError('INVALID_INPUT', 'a delegation needs a positive duration')
    }
    const expires = Date.now() + ttl
    const created = BlindPairing.createInvite(base.key, { expires })
    await this.host.state.putInvite({
      id: created.id.toString('hex'),
      project: toHex(base.key),
      publicKey: created.publicKey.toString('hex'),
      role: 'member',
      expires,
      uses: 1,
      used: 0,
      createdAt: Date.now(),
      admitted: [],
      kind: 'link',
      delegateFor
    })
    this.listenForDevices()
    return {
      code: encodeLinkCode(keys.profileId, fromHex(entry.discovery), created.invite),
      profile: encodeKey(keys.profileId),
      expires,
      delegateFor
    }
  }

  private listenForDevices(): void {
    if (this.member !== null || this.base === null) return
    this.member = this.host.pairing.addMember({
      discoveryKey: this.base.discoveryKey,
      onadd: (req) =>
        this.lock.run(async () => {
          try {
            await this.admitDevice(req)
          } catch (err) {
            this.host.emit('warning', err)
          }
        })
    })
  }

  private async admitDevice(req: BlindPairing.MemberRequest): Promise<void> {
    const base = this.base
    const keys = this.keys
    if (base === null || keys === null) return
    const link = this.host.state.invite(req.inviteId.toString('hex'))
    if (link === null || link.kind !== 'link' || link.project !== toHex(base.key)) return
    let userData: Buffer | null
    try {
      userData = req.open(fromHex(link.publicKey))
    } catch {
      req.deny({ status: 1 })
      return
    }
    const ask = decodeLinkRequest(userData)
    if (ask === null) {
      req.deny({ status: 1 })
      return
    }
    const device = toHex(ask.device)
    const confirm = (): void =>
      req.confirm({ key: base.key, encryptionKey: keys.secrets?.encryptionKey ?? null })
    if (link.admitted.includes(device)) {
      confirm() // the same device asking again: answer the same way
      return
    }
    if (link.expires <= Date.now()) {
      req.deny({ status: 3 })
      return
    }
    if (link.used >= link.uses) {
      req.deny({ status: 2 })
      return
    }
    const known = await base.view.device(device)
    if (known !== null) {
      // a revoked device gets nothing new; a live one is already linked
      req.deny({ status: known.revoked ? 1 : 2 })
      return
    }
    link.used++
    link.admitted.push(device)
    await this.host.state.putInvite(link)
    const deviceName = ask.name.slice(0, 100)
    if (link.delegateFor) {
      const grant = delegateDevice(
        ask.device,
        keys.device,
        keys.deviceProof,
        this.host.now() + link.delegateFor
      )
      await base.append({
        type: 'device/add',
        device,
        proof: null,
        grant: b4a.toString(grant, 'base64'),
        writer: null,
        name: deviceName
      })
    } else {
      const proof = attestDevice(ask.device, keys.device, keys.deviceProof)
      await base.append({
        type: 'device/add',
        device,
        proof: b4a.toString(proof, 'base64'),
        grant: null,
        writer: toHex(ask.writer),
        name: deviceName
      })
    }
    await base.update()
    await this.onBaseUpdate() // seal every project key to it before answering
    confirm()
  }

  /**
   * On a new device: use a link code. Asks the profile's devices over the DHT, then reads the
   * profile, takes its device proof (or grant), saves the key file, and holds every project
   * of the profile, asking to be added as a writer.
   */
  async joinDevice(
    code: string,
    opts: {
      passphrase: string | null
      kdf?: KdfParams
      name?: string
      timeout?: number
      onProgress?: (p: Progress) => void
    }
  ): Promise<WhoAmI> {
    if (this.keys !== null) {
      throw new FluxError(
        'PROFILE_EXISTS',
        'this node already has a profile: link from a fresh home (FLUX_HOME)'
      )
    }
    const decoded = decodeLinkCode(code)
    const progress = opts.onProgress ?? (() => {})
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT
    if (decoded.expires !== 0 && decoded.expires <= Date.now()) {
      throw new FluxError(
        'LINK_EXPIRED',
        `this link code expired at ${new Date(decoded.expires).toISOString()}: make a new one`
      )
    }
    const device = createDeviceKeyPair()
    const local = Autobase.getLocalCore(this.host.store.namespace(PROFILE_NS))
    await local.ready()
    const writer = local.key as Buffer
    await local.close()
    const name = (opts.name ?? os.hostname()).slice(0, 100)
    progress({ phase: 'pairing', message: 'asking a device of the profile to link this one' })
    const result = await askToPair(
      this.host.pairing,
      decoded.invite,
      encodeLinkRequest(device, writer, name),
      timeout,
      linkErrors(timeout)
    )
    progress({ phase: 'paired', message: 'accepted: reading the profile' })
    await this.host.network.join(profileTopic(decoded.discovery))
    if (result.encryptionKey === null) {
      throw new FluxError('LINK_REJECTED', 'the profile answered without its keys')
    }
    const { value: record, profile: profileRecord } = await this.readProfile(
      { key: result.key, encryptionKey: result.encryptionKey, profileId: decoded.profileId },
      (probe) => probe.view.device(toHex(device.publicKey)),
      timeout,
      'the profile did not arrive: is a device of the profile online?'
    )
    const delegated = record.grant !== null
    const proof = b4a.from((record.grant ?? record.proof) as string, 'base64') as Buffer
    const keys: DeviceKeys = {
      profileId: decoded.profileId,
      device,
      deviceProof: proof,
      ...(delegated ? { delegated: true } : {}),
      secrets: delegated
        ? null
        : {
            discoveryKeyPair: { publicKey: decoded.discovery, secretKey: null },
            encryptionKey: result.encryptionKey
          }
    }
    await this.keep(keys, opts, {
      name: profileRecord.name,
      discovery: decoded.discovery,
      recovery: profileRecord.recovery,
      base: result.key
    })
    if (delegated) {
      // a delegate keeps no profile key: it holds the profile's projects it was sealed
      this.keys = keys
      this.host.onProfile()
      await this.adoptSealed(result, keys, decoded.profileId, timeout)
    } else {
      await this.activate(keys)
      await this.base?.update()
      await this.onBaseUpdate()
    }
    progress({ phase: 'profile', message: `linked to profile ${profileRecord.name}` })
    await this.waitProjects(timeout, progress)
    const who = await this.whoami()
    if (who === null) throw new FluxError('INTERNAL', 'the profile did not activate')
    return who
  }

  /**
   * Open a profile base (not yet ours), wait until `check` gives a value (on every update,
   * bounded by `timeout`), and read its profile record. The base is closed again.
   */
  private async readProfile<T>(
    at: { key: Buffer; encryptionKey: Buffer; profileId: Buffer },
    check: (probe: ProfileBase) => Promise<T | null>,
    timeout: number,
    message: string
  ): Promise<{ value: T; profile: { name: string; recovery: string } }> {
    const probe = new ProfileBase(this.host.store.namespace(PROFILE_NS), {
      ...at,
      now: this.host.now,
      wakeup: this.host.network.wakeup
    })
    await probe.ready()
    try {
      const found = await waitFor(
        async () => {
          await probe.update()
          const record = await probe.view.profile()
          if (record === null) return null
          const value = await check(probe)
          return value === null ? null : { value, record }
        },
        probe,
        timeout,
        message
      )
      return {
        value: found.value,
        profile: { name: found.record.name.value, recovery: found.record.recovery }
      }
    } finally {
      await probe.close()
    }
  }

  /** A delegate reads the profile once, for its projects and their sealed keys. */
  private async adoptSealed(
    result: { key: Buffer; encryptionKey: Buffer | null },
    keys: DeviceKeys,
    profileId: Buffer,
    timeout: number
  ): Promise<void> {
    if (result.encryptionKey === null) return
    const { value: projects } = await this.readProfile(
      { key: result.key, encryptionKey: result.encryptionKey, profileId },
      (probe) => probe.view.projects(),
      timeout,
      'the profile did not arrive: is a device of the profile online?'
    )
    for (const p of projects) {
      const key = projectKey(p, keys)
      if (key !== undefined) await this.host.adoptProject(p.key, key)
    }
  }

  /**
   * Keep a profile this device now belongs to (linked or recovered): its key file, sealed
   * under the passphrase (none: keys in memory only), and its public facts in node.json, with
   * this device's signature over the base unless it is a delegate (which cannot sign).
   */
  private async keep(
    keys: DeviceKeys,
    opts: { passphrase: string | null; kdf?: KdfParams | undefined },
    at: { name: string; discovery: Buffer; recovery: string; base: Buffer }
  ): Promise<void> {
    if (opts.passphrase !== null) {
      await saveKeyFile(keyFilePath(this.host.home), { name: at.name, keys }, opts.passphrase, {
        kdf: opts.kdf
      })
    }
    await this.host.state.putProfile({
      id: toHex(keys.profileId),
      name: at.name,
      discovery: toHex(at.discovery),
      recovery: at.recovery,
      base: toHex(at.base),
      baseSig: keys.delegated
        ? null
        : signMessage(baseStatement(at.base, at.discovery), keys.device, keys.deviceProof)
    })
  }

  /** Wait (bounded) until every project of the profile is writable here, with progress. */
  private async waitProjects(timeout: number, progress: (p: Progress) => void): Promise<void> {
    const deadline = Date.now() + timeout
    for (const project of this.host.projects()) {
      const listed = await this.base?.view.project(toHex(project.key))
      const name =
        (await project.view.project())?.name.value || listed?.name || encodeKey(project.key)
      progress({ phase: 'project', message: `syncing ${name}` })
      try {
        await project.waitWritable(Math.max(1, deadline - Date.now()))
        await project.update()
        const sys = await project.view.system()
        progress({ phase: 'writable', message: `${name}: writable`, applied: sys.applied })
      } catch (err) {
        if (!(err instanceof FluxError && err.code === 'TIMEOUT')) throw err
        progress({
          phase: 'syncing',
          message: `${name}: no member online to add this device yet; it will be added later`
        })
      }
    }
  }

  // ---- revocation and delegation ---------------------------------------------------------

  /** Find a device of the profile by key, unique prefix or name. */
  async resolveDevice(ref: string): Promise<DeviceRecord> {
    const base = this.base
    if (base === null) throw new FluxError('NO_PROFILE', 'this device cannot read its profile')
    const text = ref.trim()
    const all = await base.view.devices()
    if (looksLikeKey(text)) {
      const hex = toHex(decodeKey(text, 'device key'))
      const d = all.find((x) => x.device === hex)
      if (d === undefined) throw new FluxError('DEVICE_NOT_FOUND', `${text} is not a device here`)
      return d
    }
    const matches = all.filter(
      (d) =>
        (text.length >= 4 && encodeKey(fromHex(d.device)).startsWith(text)) ||
        (d.name !== '' && d.name.toLowerCase() === text.toLowerCase())
    )
    if (matches.length === 1) return matches[0] as DeviceRecord
    if (matches.length > 1) {
      throw new FluxError('INVALID_INPUT', `"${text}" matches several devices: use the full key`)
    }
    throw new FluxError('DEVICE_NOT_FOUND', `no device "${text}" (see \`flux device list\`)`)
  }

  /**
   * Revoke a device: in the profile (it gets no new keys) and in every project of the profile
   * this device writes to (its later ops are skipped by every peer).
   */
  async revokeDevice(ref: string): Promise<{ device: DeviceInfo; projects: number }> {
    const keys = this.requireFullDevice('revoke devices')
    const base = this.base
    if (base === null || !base.writable) {
      throw new FluxError('NOT_WRITABLE', 'this device does not write to its profile yet')
    }
    const target = await this.resolveDevice(ref)
    const self = toHex(keys.device.publicKey)
    if (target.device === self) {
      throw new FluxError(
        'NOT_ALLOWED',
        'a device cannot revoke itself: revoke it from another device of the profile'
      )
    }
    const mine = verifyDevice(keys.deviceProof, { devicePublicKey: keys.device.publicKey })
    if (mine?.chain.some((k) => toHex(k) === target.device)) {
      throw new FluxError(
        'NOT_ALLOWED',
        'this device was linked through that one: revoking it would revoke this device too'
      )
    }
    if (target.revoked === null) {
      await base.append({ type: 'device/revoke', device: target.device })
    }
    let projects = 0
    for (const project of this.host.projects()) {
      if (!project.writable || project.memberId !== this.profileHex) continue
      if (await project.view.revoked(this.profileHex, target.device)) continue
      await project.append({ type: 'device/revoke', device: target.device })
      projects++
    }
    await base.update()
    const updated = (await base.view.device(target.device)) ?? target
    return { device: deviceInfo(updated, self), projects }
  }

  /**
   * Once this node's clock passes a delegate's expiry, say so in every project (DESIGN.md):
   * from then on no op of the delegate counts, however it is dated.
   */
  async expireDelegations(): Promise<number> {
    const base = this.base
    const keys = this.keys
    if (base === null || keys === null || keys.delegated) return 0
    const now = this.host.now()
    let written = 0
    for (const d of await base.view.devices()) {
      if (!d.delegated || d.expiresAt === null || d.expiresAt > now) continue
      for (const project of this.host.projects()) {
        if (!project.writable || project.memberId !== this.profileHex) continue
        const member = await project.view.member(this.profileHex)
        if (member === null) continue
        for (const w of member.writers) {
          const rec = await project.view.writer(w)
          if (rec === null || rec.removed || rec.device !== d.device) continue
          await project.append({ type: 'device/expire', device: d.device })
          written++
          break
        }
      }
    }
    return written
  }

  // ---- recovery --------------------------------------------------------------------------

  /**
   * On a fresh node: rebuild the identity from the phrase, find the profile on the mesh by
   * its discovery topic, take the longest validly signed copy, and hold its projects again.
   */
  async recover(
    phrase: string,
    opts: {
      passphrase: string | null
      kdf?: KdfParams
      timeout?: number
      onProgress?: (p: Progress) => void
    }
  ): Promise<RecoveryReport> {
    if (this.keys !== null) {
      throw new FluxError(
        'PROFILE_EXISTS',
        'this node already has a profile: recover into a fresh home (FLUX_HOME)'
      )
    }
    const progress = opts.onProgress ?? (() => {})
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT
    const derived = await withIdentity(phrase, async (identity) => {
      const device = createDeviceKeyPair()
      return {
        keys: {
          profileId: identity.profileId,
          device,
          deviceProof: await identity.attestDevice(device.publicKey),
          secrets: identity.profileSecrets()
        } as DeviceKeys,
        box: identity.recoveryBoxKeyPair()
      }
    })
    const { keys, box } = derived
    try {
      const secrets = keys.secrets
      if (secrets === null) throw new FluxError('INTERNAL', 'no profile secrets')
      const discovery = secrets.discoveryKeyPair.publicKey
      progress({ phase: 'searching', message: 'looking for the profile on the mesh' })
      const answers = await this.askForProfile(keys.profileId, discovery, timeout)
      const valid = answers.filter((a) => a.valid)
      if (valid.length === 0) {
        await this.host.network.leave(profileTopic(discovery))
        const which =
          answers.length === 0
            ? 'no peer holding this profile answered'
            : `${answers.length} peer(s) answered, none with a validly signed copy`
        throw new FluxError(
          'RECOVERY_NO_PEERS',
          `${which} within ${Math.round(timeout / 1000)}s: bring a device or a host of the profile online and try again (nothing was changed)`
        )
      }
      const chosen = chooseCopy(valid)
      for (const a of answers) a.chosen = a === chosen
      progress({
        phase: 'found',
        message: `${valid.length} peer(s) hold the profile; reading the longest copy (${chosen.length} blocks)`
      })
      const base = fromHex(chosen.base)
      const { profile: profileRecord } = await this.readProfile(
        { key: base, encryptionKey: secrets.encryptionKey, profileId: keys.profileId },
        async (probe) => {
          const have = await copyLength(this.host.store, probe)
          progress({ phase: 'profile', message: `profile: ${have}/${chosen.length} blocks` })
          return have >= chosen.length ? true : null
        },
        timeout,
        'the profile did not finish syncing'
      )
      await this.keep(keys, opts, {
        name: profileRecord.name,
        discovery,
        recovery: profileRecord.recovery,
        base
      })
      await this.activate(keys)
      // the projects: their keys come from the recovery box, which only the phrase opens
      const restored: RecoveryReport['projects'] = []
      for (const p of await this.requireBase().view.projects()) {
        const key = p.public
          ? null
          : p.recovery
            ? openRecovery(box, b4a.from(p.recovery, 'base64') as Buffer)
            : null
        if (!p.public && key === null) continue
        await this.host.adoptProject(p.key, key)
      }
      // no other device may be left to add us: add ourselves (identity-attested, optimistic)
      progress({ phase: 'profile', message: 'adding this device to the profile' })
      await this.requireBase().recover(keys.device, keys.deviceProof, timeout)
      await this.waitProjects(timeout, progress)
      for (const project of this.host.projects()) {
        const info = await project.view.project()
        const sys = await project.view.system()
        restored.push({
          key: encodeKey(project.key),
          name: info?.name.value ?? '',
          writable: project.writable,
          posts: sys.posts
        })
      }
      const who = await this.whoami()
      if (who === null) throw new FluxError('INTERNAL', 'the profile did not activate')
      return { whoami: who, answered: answers, projects: restored }
    } finally {
      sodium.sodium_memzero(box.secretKey)
    }
  }

  private requireBase(): ProfileBase {
    if (this.base === null) throw new FluxError('INTERNAL', 'the profile base is not open')
    return this.base
  }

  /** Ask every peer on the profile topic for the profile; collect answers (bounded). */
  private async askForProfile(
    profileId: Buffer,
    discovery: Buffer,
    timeout: number
  ): Promise<Array<RecoveryAnswer & { sig: string }>> {
    const rpc = this.host.network.rpc
    const discoveryHex = toHex(discovery)
    const answers: Array<RecoveryAnswer & { sig: string }> = []
    const seen = new Set<string>()
    return new Promise((resolve) => {
      let grace: NodeJS.Timeout | null = null
      const finish = (): void => {
        clearTimeout(overall)
        if (grace) clearTimeout(grace)
        clearInterval(retry)
        rpc.off('message', onMessage)
        rpc.off('open', ask)
        resolve(answers)
      }
      const ask = (peer: RpcPeer): void => {
        peer.send({ t: 'profile-query', discovery: discoveryHex })
      }
      const onMessage = (m: RpcMessage, peer: RpcPeer): void => {
        if (m.t !== 'profile-answer' || m.discovery !== discoveryHex) return
        if (typeof m.base !== 'string' || !/^[0-9a-f]{64}$/.test(m.base)) return
        if (!Number.isSafeInteger(m.length) || m.length < 0 || typeof m.sig !== 'string') return
        if (seen.has(peer.id)) return
        seen.add(peer.id)
        let valid = false
        try {
          valid = verifySignature(profileId, m.sig, baseStatement(fromHex(m.base), discovery)).valid
        } catch {
          valid = false
        }
        answers.push({
          peer: encodeKey(fromHex(peer.id)),
          base: m.base,
          length: m.length,
          valid,
          chosen: false,
          sig: m.sig
        })
        if (valid && grace === null) grace = setTimeout(finish, ANSWER_GRACE)
      }
      const overall = setTimeout(finish, timeout)
      // peers that connected before we asked get asked again now and then (bounded)
      const retry = setInterval(
        () => rpc.broadcast({ t: 'profile-query', discovery: discoveryHex }),
        1000
      )
      rpc.on('message', onMessage)
      rpc.on('open', ask)
      this.host.network
        .join(profileTopic(discovery))
        .then(() => rpc.broadcast({ t: 'profile-query', discovery: discoveryHex }))
        .catch(() => {})
    })
  }

  // ---- the side channel ------------------------------------------------------------------

  /** A peer's channel opened: tell it what it may need from us. */
  private greet(peer: RpcPeer): void {
    this.coresMessage()
      .then((cores) => {
        if (cores !== null) peer.send(cores)
      })
      .catch((err: unknown) => this.host.emit('warning', err))
  }

  private async coresMessage(): Promise<RpcMessage | null> {
    const base = this.base
    const entry = this.entry
    if (base === null || entry === null || entry.base === null || entry.baseSig === null) {
      return null
    }
    const cores = await profileCores(base)
    return {
      t: 'profile-cores',
      profile: entry.id,
      discovery: entry.discovery,
      base: entry.base,
      sig: entry.baseSig,
      cores
    }
  }

  private announceCores(): void {
    this.coresMessage()
      .then((msg) => {
        if (msg !== null) this.host.network.rpc.broadcast(msg)
      })
      .catch((err: unknown) => this.host.emit('warning', err))
  }

  private async onMessage(m: RpcMessage, peer: RpcPeer): Promise<void> {
    switch (m.t) {
      case 'profile-query':
        return this.answerQuery(m.discovery, peer)
      case 'profile-cores':
        return this.lock.run(() => this.maybeHost(m))
      default:
        return
    }
  }

  private async answerQuery(discovery: unknown, peer: RpcPeer): Promise<void> {
    if (typeof discovery !== 'string') return
    const entry = this.entry
    if (entry !== null && entry.discovery === discovery && entry.base && entry.baseSig) {
      const length = this.base ? await copyLength(this.host.store, this.base) : 0
      peer.send({
        t: 'profile-answer',
        discovery,
        base: entry.base,
        sig: entry.baseSig,
        length
      })
      return
    }
    const hosted = this.host.state.hosted().find((h) => h.discovery === discovery)
    if (hosted === undefined) return
    const cores = this.hostedCores.get(hosted.discovery) ?? []
    peer.send({
      t: 'profile-answer',
      discovery,
      base: hosted.base,
      sig: hosted.sig,
      length: cores.reduce((n, c) => n + c.contiguousLength, 0)
    })
  }

  /**
   * Keep another member's profile available: only for profiles that are members of a
   * project we hold, with a card whose signature checks out, and only if we are one of the
   * HOSTS_PER_PROFILE members closest to it (XOR of profile ids): every member computes the
   * same hosts from the member list, so each profile gets a few hosts and each node hosts a
   * few profiles, however large the project. We store its cores; we cannot read them.
   */
  private async maybeHost(m: Extract<RpcMessage, { t: 'profile-cores' }>): Promise<void> {
    if (typeof m.profile !== 'string' || m.profile === this.profileHex) return
    if (!/^[0-9a-f]{64}$/.test(m.profile) || this.profileHex === '') return
    if (!Array.isArray(m.cores) || m.cores.length > 64) return
    if (!m.cores.every((c) => typeof c === 'string' && /^[0-9a-f]{64}$/.test(c))) return
    let chosen = false
    for (const project of this.host.projects()) {
      const rec = await project.view.member(m.profile)
      if (!rec?.card || rec.card.discovery !== m.discovery || rec.card.base !== m.base) continue
      const others = (await project.view.members())
        .filter((x) => !x.removed && x.profile !== m.profile)
        .map((x) => x.profile)
      if (closest(m.profile, others, HOSTS_PER_PROFILE).includes(this.profileHex)) {
        chosen = true
        break
      }
    }
    if (!chosen) {
      if (this.pendingCores.size < 64 || this.pendingCores.has(m.discovery)) {
        this.pendingCores.set(m.discovery, m)
      }
      return
    }
    this.pendingCores.delete(m.discovery)
    let valid = false
    try {
      valid = verifySignature(
        fromHex(m.profile),
        m.sig,
        baseStatement(fromHex(m.base), fromHex(m.discovery))
      ).valid
    } catch {
      valid = false
    }
    if (!valid) return
    const known = this.host.state.hosted().find((h) => h.discovery === m.discovery)
    const cores = [...new Set([...(known?.cores ?? []), m.base, ...m.cores])]
    if (known && known.base === m.base && cores.length === known.cores.length) return
    const entry: HostedProfile = {
      profile: m.profile,
      discovery: m.discovery,
      base: m.base,
      sig: m.sig,
      cores
    }
    await this.host.state.putHosted(entry)
    await this.hostCores(entry)
  }

  /** Profiles of other members this node keeps available. */
  hosted(): HostedProfile[] {
    return this.host.state.hosted()
  }

  /**
   * A project changed: profiles offered to us earlier may now be of members we know (or we
   * may now be among their closest). At most one pass every 2 s.
   */
  recheckHosting(): void {
    if (this.pendingCores.size === 0 || this.recheckTimer !== null) return
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = null
      void (async () => {
        for (const m of [...this.pendingCores.values()]) {
          await this.lock.run(() => this.maybeHost(m))
        }
      })().catch((err: unknown) => this.host.emit('warning', err))
    }, 2000)
    this.recheckTimer.unref()
  }

  private async hostCores(entry: HostedProfile): Promise<void> {
    const open = this.hostedCores.get(entry.discovery) ?? []
    const have = new Set(open.map((c) => toHex(c.key as Buffer)))
    for (const key of entry.cores) {
      if (have.has(key)) continue
      const core = this.host.store.get({ key: fromHex(key) })
      await core.ready()
      core.download({ start: 0, end: -1 })
      open.push(core)
    }
    this.hostedCores.set(entry.discovery, open)
    await this.host.network.join(profileTopic(fromHex(entry.discovery)))
  }
}

// ---- helpers ---------------------------------------------------------------------------

/**
 * A project's encryption key as this device can open it: null for a public project,
 * undefined when none is sealed to this device (or the box does not open).
 */
function projectKey(p: ProfileProject, keys: DeviceKeys): Buffer | null | undefined {
  if (p.public) return null
  const sealed = p.keys[toHex(keys.device.publicKey)]
  if (sealed === undefined) return undefined
  return openFromDevice(keys.device, b4a.from(sealed, 'base64') as Buffer) ?? undefined
}

export function keyFilePath(home: string): string {
  return path.join(home, 'profile.key')
}

function deviceInfo(d: DeviceRecord, self: string): DeviceInfo {
  return {
    id: encodeKey(fromHex(d.device)),
    name: d.name,
    you: d.device === self,
    delegated: d.delegated,
    expiresAt: d.expiresAt,
    revoked: d.revoked ? { by: encodeKey(fromHex(d.revoked.by)), at: d.revoked.at } : null,
    addedBy: d.addedBy ? encodeKey(fromHex(d.addedBy)) : null,
    addedAt: d.addedAt
  }
}

/** Poll `check` on every update of `base` (and every second), until it gives a value. */
async function waitFor<T>(
  check: () => Promise<T | null>,
  base: ProfileBase,
  timeout: number,
  message: string
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false
    let running = false
    const finish = (err: unknown, value?: T): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      clearInterval(poll)
      base.off('update', run)
      if (err) reject(err)
      else resolve(value as T)
    }
    const run = (): void => {
      if (running || done) return
      running = true
      check()
        .then((v) => {
          running = false
          if (v !== null) finish(null, v)
        })
        .catch((err: unknown) => {
          running = false
          finish(err)
        })
    }
    const timer = setTimeout(
      () => finish(new FluxError('TIMEOUT', `${message} (after ${Math.round(timeout / 1000)}s)`)),
      timeout
    )
    const poll = setInterval(run, 1000)
    base.on('update', run)
    run()
  })
}

/** Create a profile for a node (no key file): the phrase, keys and the public entry. */
export async function newProfile(name: string): Promise<{
  phrase: string
  keys: DeviceKeys
  entry: ProfileEntry
}> {
  const { phrase, keys } = await createProfile()
  const recovery = await withIdentity(phrase, (identity) => {
    const box = identity.recoveryBoxKeyPair()
    sodium.sodium_memzero(box.secretKey)
    return box.publicKey
  })
  if (keys.secrets === null) throw new FluxError('INTERNAL', 'a new profile has its secrets')
  return {
    phrase,
    keys,
    entry: {
      id: toHex(keys.profileId),
      name,
      discovery: toHex(keys.secrets.discoveryKeyPair.publicKey),
      recovery: toHex(recovery),
      base: null,
      baseSig: null
    }
  }
}
