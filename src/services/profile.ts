/**
 * The profile this node runs as: its device keys, its profile Autobase (devices, projects and
 * their sealed keys), its card, and keeping the profile's projects and keys in step: a device
 * linked while we were away gets the project keys sealed to it, and a project of the profile
 * this node does not hold yet is adopted.
 */
import os from 'os'
import b4a from 'b4a'
import type Corestore from 'corestore'
import { Service } from '../util/service.js'
import type { Clock } from '../util/clock.js'
import { waitFor } from '../util/until.js'
import { newProfileMaterial, type ProfileMaterial } from '../identity/handover.js'
import { FluxError } from '../errors.js'
import { encodeKey, fromHex, toHex } from '../identity/keys.js'
import { clearDeviceKeys, type DeviceKeys } from '../identity/profile-keys.js'
import { verifyDelegation } from '../identity/devices.js'
import { signMessage } from '../identity/sign.js'
import { openFromDevice } from '../identity/seal.js'
import { saveKeyFile, type KdfParams } from '../identity/keyfile.js'
import { ProfileBase } from '../profile/base.js'
import { baseStatement } from '../profile/copies.js'
import type { DeviceRecord, ProjectEntry as ProfileProject } from '../views/profile.js'
import { profileTopic } from '../swarm/topics.js'
import type { Network } from '../swarm/network.js'
import type { NodeState, ProfileEntry } from '../store/node-state.js'
import { homePaths, keyFilePath } from '../store/home.js'
import type { ProjectRegistry } from './projects.js'
import type { DeviceInfo, WhoAmI } from '../api.js'

export interface ProfileEvents {
  /** This node now runs as a profile (created, unlocked, linked or recovered). */
  active: [profileHex: string]
  /** The profile base was just created (this device is its first). */
  'base-created': []
  /** The profile base changed (its devices, projects or keys). */
  'base-update': []
  warning: [err: unknown]
}

export interface ProfileDeps {
  store: Corestore
  network: Network
  state: NodeState
  home: string
  clock: Clock
  projects: ProjectRegistry
  /** Key derivation cost for key files this node writes. */
  kdf?: KdfParams | undefined
}

/** The Corestore namespace of the profile Autobase. */
export const PROFILE_NS = 'flux/profile'
const TOPIC_OWNER = 'profile'

/** Whether this node runs as a profile: none, its key file still unlocking, or active. */
export type ProfileState = 'none' | 'unlocking' | 'active'

export class ProfileService extends Service<ProfileEvents> {
  keys: DeviceKeys | null = null
  base: ProfileBase | null = null
  /** The key file's unlock and activation (see `unlock`), kept once settled; null: none. */
  private unlocking: Promise<void> | null = null
  private pending = false

  constructor(private readonly deps: ProfileDeps) {
    super()
  }

  protected override async _close(): Promise<void> {
    await this.unlocking?.catch(() => {})
    await this.base?.close().catch(() => {})
    if (this.keys) clearDeviceKeys(this.keys)
  }

  /** Whether this node runs as a profile yet (it may still be unlocking the key file). */
  get state(): ProfileState {
    if (this.keys !== null) return 'active'
    return this.pending ? 'unlocking' : 'none'
  }

  /**
   * Run as the profile whose keys `keys` will give: activated once they arrive (the key
   * file's Argon2id derivation runs while the node starts; see DESIGN.md "Startup"). Rejects
   * as `keys` does (a wrong passphrase) or as `activate` does; nothing is activated then.
   */
  unlock(keys: Promise<DeviceKeys>): Promise<void> {
    this.pending = true
    const run = (async () => {
      try {
        const unlocked = await keys
        if (this.closing) {
          clearDeviceKeys(unlocked)
          throw new FluxError('NODE_CLOSED', 'the node stopped while its profile was unlocking')
        }
        try {
          await this.activate(unlocked)
        } catch (err) {
          // half-activated (node.json does not match the key file): not running as it
          if (this.keys === unlocked) this.keys = null
          clearDeviceKeys(unlocked)
          throw err
        }
      } finally {
        this.pending = false
      }
    })()
    run.catch(() => {}) // the caller and `unlocked()` hear of a failure
    this.unlocking = run
    return run
  }

  /**
   * Resolves once the profile is unlocked (at once when there is none to unlock); rejects
   * with the unlock's error if it failed. What needs the profile's keys waits for this.
   */
  async unlocked(): Promise<void> {
    await this.unlocking
  }

  /** The public facts of the profile kept in node.json (null: none). */
  get entry(): ProfileEntry | null {
    return this.deps.state.profile()
  }

  /** The profile id (hex); '' on a node without a profile. */
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

  requireBase(): ProfileBase {
    if (this.base === null) throw new FluxError('INTERNAL', 'the profile base is not open')
    return this.base
  }

  /**
   * Create a profile for this node (it has none): a fresh 24-word phrase, returned once to be
   * shown. With a passphrase, the device keys are sealed in HOME/profile.key; without one they
   * stay in memory (tests, embedding).
   */
  /**
   * Make a profile. With `material` (what `flux init` derived in the client, see
   * identity/handover.ts) the phrase never reaches this node and `phrase` is ''.
   */
  async init(opts: {
    name: string
    passphrase?: string | null
    material?: ProfileMaterial
  }): Promise<{ phrase: string }> {
    if (this.keys !== null || this.entry !== null) {
      throw new FluxError('PROFILE_EXISTS', 'this node already has a profile (see `flux whoami`)')
    }
    const name = opts.name.trim()
    if (name.length === 0 || name.length > 100) {
      throw new FluxError('INVALID_INPUT', 'a profile name is 1 to 100 characters')
    }
    const { phrase, keys, entry } =
      opts.material === undefined
        ? await newProfile(name)
        : { phrase: '', ...profileFromMaterial(name, opts.material) }
    if (opts.passphrase) {
      await saveKeyFile(keyFilePath(this.deps.home), { name, keys }, opts.passphrase, {
        kdf: this.deps.kdf
      })
    }
    await this.deps.state.putProfile(entry)
    await this.activate(keys)
    return { phrase }
  }

  /** The profile's public facts from node.json; STATE_MISSING when a profile runs without. */
  requireEntry(): ProfileEntry {
    const entry = this.entry
    if (entry === null) {
      const file = homePaths(this.deps.home).state
      throw new FluxError(
        'STATE_MISSING',
        `${file} is missing, though this home has a profile key file: node.json lists the ` +
          'profile and the projects this node holds. Put it back from a backup of the whole ' +
          'home, or start on a fresh home with `flux recover` (your 24 words): the profile ' +
          'and its projects come back from your peers.'
      )
    }
    return entry
  }

  /** Start running as a profile: open (or create) its base and join its topic. */
  async activate(keys: DeviceKeys): Promise<void> {
    this.keys = keys
    const entry = this.requireEntry()
    if (entry.id !== toHex(keys.profileId)) {
      throw new FluxError(
        'KEYFILE_CORRUPT',
        'the profile key file does not match this node (node.json names another profile)'
      )
    }
    if (keys.secrets !== null) {
      if (entry.base === null) await this.createBase(entry)
      else await this.openBase(fromHex(entry.base))
    }
    await this.deps.network.topics.join(profileTopic(fromHex(entry.discovery)), TOPIC_OWNER)
    this.emit('active', this.profileHex)
  }

  /**
   * Keep a profile this device now belongs to (linked or recovered): its key file, sealed
   * under the passphrase (none: keys in memory only), and its public facts in node.json, with
   * this device's signature over the base unless it is a delegate (which cannot sign).
   */
  async keep(
    keys: DeviceKeys,
    passphrase: string | null,
    at: { name: string; discovery: Buffer; recovery: string; base: Buffer }
  ): Promise<void> {
    if (passphrase !== null) {
      await saveKeyFile(keyFilePath(this.deps.home), { name: at.name, keys }, passphrase, {
        kdf: this.deps.kdf
      })
    }
    await this.deps.state.putProfile({
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

  /** A delegate runs as the profile without its base (it keeps no profile key). */
  activateDelegate(keys: DeviceKeys): void {
    this.keys = keys
    this.emit('active', this.profileHex)
  }

  /** Open a profile base in the profile namespace (ours, or one being read). */
  openProfileBase(at: {
    key: Buffer | null
    encryptionKey: Buffer
    profileId: Buffer
  }): ProfileBase {
    return new ProfileBase(this.deps.store.namespace(PROFILE_NS), {
      ...at,
      clock: this.deps.clock,
      wakeup: this.deps.network.wakeup
    })
  }

  /**
   * Open a profile base (not yet ours), wait until `check` gives a value (on every update,
   * bounded by `timeout`), and read its profile record. The base is closed again.
   */
  async readProfile<T>(
    at: { key: Buffer; encryptionKey: Buffer; profileId: Buffer },
    check: (probe: ProfileBase) => Promise<T | null>,
    timeout: number,
    message: string
  ): Promise<{ value: T; profile: { name: string; recovery: string } }> {
    const probe = this.openProfileBase(at)
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
        { emitter: probe, event: 'update' },
        timeout,
        message,
        this.deps.clock
      )
      return {
        value: found.value,
        profile: { name: found.record.name.value, recovery: found.record.recovery }
      }
    } finally {
      await probe.close()
    }
  }

  private async openBase(key: Buffer | null): Promise<ProfileBase> {
    const keys = this.requireKeys()
    if (keys.secrets === null) throw new FluxError('INTERNAL', 'no profile encryption key')
    const base = this.openProfileBase({
      key,
      encryptionKey: keys.secrets.encryptionKey,
      profileId: keys.profileId
    })
    await base.ready()
    this.base = base
    base.on('update', () => this.emit('base-update'))
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
    await this.deps.state.putProfile({ ...entry, base: toHex(base.key), baseSig: sig })
    this.emit('base-created')
  }

  /** The card projects carry so that peers can host this profile (null before the base). */
  card(): { discovery: string; base: string; sig: string } | null {
    const e = this.entry
    if (e === null || e.base === null || e.baseSig === null) return null
    return { discovery: e.discovery, base: e.base, sig: e.baseSig }
  }

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

  /**
   * Rename the profile: in the profile itself and in every project it writes to where the
   * member goes by the profile's name (a name chosen in a project stays).
   */
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
    const before = record?.name.value ?? entry.name
    await base.append({ type: 'profile/name', name: text, prev: record?.name.id ?? null })
    await base.update()
    await this.deps.state.putProfile({ ...entry, name: text })
    for (const project of this.deps.projects.list()) {
      if (!project.writable || project.memberId !== entry.id) continue
      const me = await project.view.member(entry.id)
      if (me === null || me.removed || me.name?.value === text) continue
      // a name chosen in this project (`flux name`) stays: only the profile's name follows
      if (me.name !== null && me.name.value !== before) continue
      await project.append({ type: 'member/name', name: text, prev: me.name?.id ?? null })
    }
    const who = await this.whoami()
    if (who === null) throw new FluxError('INTERNAL', 'no profile')
    return who
  }

  sign(message: string): string {
    const keys = this.requireFullDevice('sign as the profile')
    return signMessage(message, keys.device, keys.deviceProof)
  }
}

/** Create a profile (no key file, no node): the phrase, keys and the public entry. */
/** The keys and node.json entry of a profile made from what a client derived (handover.ts). */
function profileFromMaterial(
  name: string,
  m: ProfileMaterial
): { keys: DeviceKeys; entry: ProfileEntry } {
  const secrets = m.keys.secrets
  if (secrets === null) throw new FluxError('INVALID_INPUT', 'a new profile has its secrets')
  return {
    keys: m.keys,
    entry: {
      id: toHex(m.keys.profileId),
      name,
      discovery: toHex(secrets.discoveryKeyPair.publicKey),
      recovery: toHex(m.box.publicKey),
      base: null,
      baseSig: null
    }
  }
}

/** A new profile made here (in-process, or `flux init` without a running node). */
export async function newProfile(name: string): Promise<{
  phrase: string
  keys: DeviceKeys
  entry: ProfileEntry
}> {
  const { phrase, material } = await newProfileMaterial()
  return { phrase, ...profileFromMaterial(name, material) }
}

/**
 * A project's encryption key as this device can open it: null for a public project,
 * undefined when none is sealed to this device (or the box does not open).
 */
export function projectKey(p: ProfileProject, keys: DeviceKeys): Buffer | null | undefined {
  if (p.public) return null
  const sealed = p.keys[toHex(keys.device.publicKey)]
  if (sealed === undefined) return undefined
  return openFromDevice(keys.device, b4a.from(sealed, 'base64') as Buffer) ?? undefined
}

export function deviceInfo(d: DeviceRecord, self: string): DeviceInfo {
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
