/**
 * Device linking: a device of the profile issues one-use link codes (blind-pairing invites for
 * the profile base, recorded in node.json) and admits the new device that uses one; a fresh
 * node uses a code to become a device of the profile, with its projects.
 */
import os from 'os'
import Autobase from 'autobase'
import BlindPairing from 'blind-pairing'
import b4a from 'b4a'
import type Corestore from 'corestore'
import { Service } from '../util/service.js'
import type { Clock } from '../util/clock.js'
import { Mutex } from '../util/mutex.js'
import { FluxError } from '../errors.js'
import { encodeKey, fromHex, toHex } from '../identity/keys.js'
import { createDeviceKeyPair, type DeviceKeys } from '../identity/profile-keys.js'
import { attestDevice, delegateDevice } from '../identity/devices.js'
import { decodeLinkRequest, encodeLinkRequest } from '../identity/link-request.js'
import { decodeLinkCode, encodeLinkCode, expiredMessage } from '../swarm/codes.js'
import { askToPair, openRequest, spent, type PairingErrors } from '../swarm/pairing.js'
import { profileTopic } from '../swarm/topics.js'
import type { Network } from '../swarm/network.js'
import type { InviteEntry, NodeState } from '../store/node-state.js'
import { PROFILE_NS, projectKey, type ProfileService } from './profile.js'
import type { ProjectRegistry } from './projects.js'
import type { ProfileProjects } from './profile-projects.js'
import type { WriterService } from './writers.js'
import type { CreatedLink, Progress, WhoAmI } from '../api.js'

export interface LinksEvents {
  /** A new device was added to the profile with one of our link codes. */
  'device-linked': [info: { device: string; delegated: boolean }]
  /** A device was refused (expired or used code, a known or revoked device). */
  'link-denied': [info: { reason: string }]
  warning: [err: unknown]
}

export interface LinksDeps {
  store: Corestore
  network: Network
  pairing: BlindPairing
  state: NodeState
  clock: Clock
  profile: ProfileService
  profileProjects: ProfileProjects
  projects: ProjectRegistry
  writers: WriterService
}

const DEFAULT_LINK_TTL = 10 * 60 * 1000
const DEFAULT_TIMEOUT = 120_000
const TOPIC_OWNER = 'link'

/** How a failed device link is reported. */
export function linkErrors(timeout: number): PairingErrors {
  return {
    used: ['LINK_USED', 'this link code has already been used: make a new one'],
    expired: ['LINK_EXPIRED', 'this link code has expired: make a new one'],
    rejected: [
      'LINK_REJECTED',
      'the profile refused this device (the code is unknown there, or the device was revoked)'
    ],
    failed: 'linking failed',
    timeout: `no device of the profile answered within ${Math.round(timeout / 1000)}s: is the device that made the code online?`
  }
}

export class LinkService extends Service<LinksEvents> {
  private member: BlindPairing.Member | null = null
  private readonly lock = new Mutex()

  constructor(private readonly deps: LinksDeps) {
    super()
    deps.profile.on('active', () => {
      if (this.activeLinks().length > 0) this.listen()
    })
  }

  protected override async _close(): Promise<void> {
    await this.member?.close().catch(() => {})
  }

  private activeLinks(): InviteEntry[] {
    const base = this.deps.profile.entry?.base
    if (!base) return []
    const now = this.deps.clock.now()
    return this.deps.state
      .invites(base)
      .filter((i) => i.kind === 'link' && i.expires > now && i.used < i.uses)
  }

  /** A one-use link code for a new device (or a delegate, with `delegateFor`). */
  async create(opts: { expires?: number; delegateFor?: number } = {}): Promise<CreatedLink> {
    const { profile, clock } = this.deps
    const keys = profile.requireFullDevice('link devices')
    const base = profile.base
    const entry = profile.entry
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
    const expires = clock.now() + ttl
    const created = BlindPairing.createInvite(base.key, { expires })
    await this.deps.state.putInvite({
      id: created.id.toString('hex'),
      project: toHex(base.key),
      publicKey: created.publicKey.toString('hex'),
      role: 'member',
      expires,
      uses: 1,
      used: 0,
      createdAt: clock.now(),
      admitted: [],
      kind: 'link',
      delegateFor
    })
    this.listen()
    return {
      code: encodeLinkCode(keys.profileId, fromHex(entry.discovery), created.invite),
      profile: encodeKey(keys.profileId),
      expires,
      delegateFor
    }
  }

  private listen(): void {
    const base = this.deps.profile.base
    if (this.member !== null || base === null || this.deps.pairing.closing) return
    this.member = this.deps.pairing.addMember({
      discoveryKey: base.discoveryKey,
      onadd: (req) =>
        this.lock.run(async () => {
          try {
            await this.admit(req)
          } catch (err) {
            this.emit('warning', err)
          }
        })
    })
  }

  private async admit(req: BlindPairing.MemberRequest): Promise<void> {
    const { profile, state, clock } = this.deps
    const base = profile.base
    const keys = profile.keys
    if (base === null || keys === null) return
    const link = state.invite(req.inviteId.toString('hex'))
    if (link === null || link.kind !== 'link' || link.project !== toHex(base.key)) return
    const userData = openRequest(req, link.publicKey)
    if (userData === null) return
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
    const deny = (status: number, reason: string): void => {
      req.deny({ status })
      this.emit('link-denied', { reason })
    }
    const over = spent(link, clock.now())
    if (over !== null) return deny(over.status, over.reason)
    const known = await base.view.device(device)
    // a revoked device gets nothing new; a live one is already linked
    if (known !== null) return deny(known.revoked ? 1 : 2, known.revoked ? 'revoked' : 'known')
    link.used++
    link.admitted.push(device)
    await state.putInvite(link)
    const deviceName = ask.name.slice(0, 100)
    if (link.delegateFor) {
      const grant = delegateDevice(
        ask.device,
        keys.device,
        keys.deviceProof,
        clock.now() + link.delegateFor
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
    await this.deps.profileProjects.sync() // seal every project key to it before answering
    confirm()
    this.emit('device-linked', { device, delegated: !!link.delegateFor })
  }

  /**
   * On a new device: use a link code. Asks the profile's devices over the DHT, then reads the
   * profile, takes its device proof (or grant), saves the key file, and holds every project
   * of the profile, asking to be added as a writer.
   */
  async join(
    code: string,
    opts: {
      passphrase: string | null
      name?: string
      timeout?: number
      onProgress?: (p: Progress) => void
    }
  ): Promise<WhoAmI> {
    const { profile, clock, network } = this.deps
    if (profile.keys !== null) {
      throw new FluxError(
        'PROFILE_EXISTS',
        'this node already has a profile: link from a fresh home (FLUX_HOME)'
      )
    }
    const decoded = decodeLinkCode(code)
    const progress = opts.onProgress ?? (() => {})
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT
    if (decoded.expires !== 0 && decoded.expires <= clock.now()) {
      throw new FluxError(
        'LINK_EXPIRED',
        expiredMessage('link code', decoded.expires, clock.now(), 'make a new one')
      )
    }
    const device = createDeviceKeyPair()
    const local = Autobase.getLocalCore(this.deps.store.namespace(PROFILE_NS))
    await local.ready()
    const writer = local.key as Buffer
    await local.close()
    const name = (opts.name ?? os.hostname()).slice(0, 100)
    progress({ phase: 'pairing', message: 'asking a device of the profile to link this one' })
    const result = await askToPair(
      this.deps.pairing,
      decoded.invite,
      encodeLinkRequest(device, writer, name),
      timeout,
      linkErrors(timeout)
    )
    progress({ phase: 'paired', message: 'accepted: reading the profile' })
    await network.topics.join(profileTopic(decoded.discovery), TOPIC_OWNER)
    if (result.encryptionKey === null) {
      throw new FluxError('LINK_REJECTED', 'the profile answered without its keys')
    }
    const at = {
      key: result.key,
      encryptionKey: result.encryptionKey,
      profileId: decoded.profileId
    }
    const { value: record, profile: profileRecord } = await profile.readProfile(
      at,
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
    await profile.keep(keys, opts.passphrase, {
      name: profileRecord.name,
      discovery: decoded.discovery,
      recovery: profileRecord.recovery,
      base: result.key
    })
    if (delegated) {
      // a delegate keeps no profile key: it holds the profile's projects it was sealed
      profile.activateDelegate(keys)
      const { value: projects } = await profile.readProfile(
        at,
        (probe) => probe.view.projects(),
        timeout,
        'the profile did not arrive: is a device of the profile online?'
      )
      for (const p of projects) {
        const key = projectKey(p, keys)
        if (key !== undefined) await this.deps.projects.adopt(p.key, key, 'profile')
      }
    } else {
      await profile.activate(keys)
      await profile.base?.update()
      await this.deps.profileProjects.sync()
    }
    progress({ phase: 'profile', message: `linked to profile ${profileRecord.name}` })
    await this.deps.writers.waitAll(timeout, progress, async (project) => {
      const listed = await profile.base?.view.project(toHex(project.key))
      return (await project.view.project())?.name.value || listed?.name || ''
    })
    const who = await profile.whoami()
    if (who === null) throw new FluxError('INTERNAL', 'the profile did not activate')
    return who
  }
}
