/**
 * Revocation and delegation: revoking a device of the profile (in the profile and in every
 * project of it this node writes to), and ending delegations once this node's clock passes
 * their expiry (checked every 30 s on the node's clock).
 */
import { Service } from '../util/service.js'
import type { Clock, Timer } from '../util/clock.js'
import { Mutex } from '../util/mutex.js'
import { FluxError } from '../errors.js'
import { decodeKey, encodeKey, fromHex, looksLikeKey, toHex } from '../identity/keys.js'
import { verifyDevice } from '../identity/devices.js'
import type { DeviceRecord } from '../views/profile.js'
import { deviceInfo, type ProfileService } from './profile.js'
import type { ProjectRegistry } from './projects.js'
import type { DeviceInfo } from '../api.js'

export interface DevicesEvents {
  /** A device of the profile was revoked from here (device hex; projects it was revoked in). */
  'device-revoked': [info: { device: string; projects: number }]
  /** A delegation ended in a project (device hex, project key hex). */
  'delegation-ended': [info: { device: string; project: string }]
  warning: [err: unknown]
}

export interface DevicesDeps {
  profile: ProfileService
  projects: ProjectRegistry
  clock: Clock
}

/** What this node knows of a device's revocation (keys in hex). */
export interface Revocation {
  /** Whether this node knows the profile (its own, or a member of a project it reads). */
  known: boolean
  /** The revocation of the device, or of a device it was linked through; null: none known. */
  revoked: { device: string; by: string; at: number } | null
}

/** How often (ms) this node looks for delegations its clock says have ended. */
export const EXPIRY_CHECK = 30_000

export class DeviceService extends Service<DevicesEvents> {
  private timer: Timer | null = null
  private readonly expiring = new Mutex()

  constructor(private readonly deps: DevicesDeps) {
    super()
    deps.profile.on('active', () => {
      if (this.timer !== null || this.closing) return
      this.timer = deps.clock.setInterval(() => {
        this.expireDelegations().catch((err: unknown) => this.emit('warning', err))
      }, EXPIRY_CHECK)
    })
  }

  protected override async _close(): Promise<void> {
    this.timer?.clear()
  }

  /** Find a device of the profile by key, unique prefix or name. */
  async resolve(ref: string): Promise<DeviceRecord> {
    const base = this.deps.profile.base
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
   * Whether `device` of `profile` is revoked, as far as this node knows: from the profile when
   * it is this node's own (the device and every device it was linked through), and from every
   * project where the profile is a member (`device/revoke` is recorded there too).
   */
  async revocation(
    profileHex: string,
    deviceHex: string,
    opts: { projects?: boolean } = {}
  ): Promise<Revocation> {
    const { profile, projects } = this.deps
    let known = false
    const base = profile.base
    if (base !== null && profile.profileHex === profileHex) {
      known = true
      const record = await base.view.device(deviceHex)
      for (const key of record === null ? [deviceHex] : [deviceHex, ...record.chain]) {
        const r = key === deviceHex ? record : await base.view.device(key)
        if (r?.revoked) return { known, revoked: { device: key, ...r.revoked } }
      }
    }
    for (const project of opts.projects === false ? [] : projects.list()) {
      if ((await project.view.member(profileHex)) === null) continue
      known = true
      const r = await project.view.revoked(profileHex, deviceHex)
      if (r !== null) return { known, revoked: { device: deviceHex, by: r.by, at: r.at } }
    }
    return { known, revoked: null }
  }

  /**
   * DEVICE_REVOKED when this node knows its own device was revoked (it must not `what`).
   * `projects: false` looks at the profile only (a write to a project checks that project).
   */
  async requireNotRevoked(what: string, opts: { projects?: boolean } = {}): Promise<void> {
    const keys = this.deps.profile.keys
    if (keys === null) return
    const r = await this.revocation(
      this.deps.profile.profileHex,
      toHex(keys.device.publicKey),
      opts
    )
    if (r.revoked === null) return
    throw new FluxError(
      'DEVICE_REVOKED',
      `this device was revoked (${new Date(r.revoked.at).toISOString()}): it can no longer ${what}`
    )
  }

  /**
   * Revoke a device: in the profile (it gets no new keys) and in every project of the profile
   * this device writes to (its later ops are skipped by every peer).
   */
  async revoke(ref: string): Promise<{ device: DeviceInfo; projects: number }> {
    const { profile } = this.deps
    const keys = profile.requireFullDevice('revoke devices')
    await this.requireNotRevoked('revoke devices')
    const base = profile.base
    if (base === null || !base.writable) {
      throw new FluxError('NOT_WRITABLE', 'this device does not write to its profile yet')
    }
    const target = await this.resolve(ref)
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
    for (const project of this.deps.projects.list()) {
      if (!project.writable || project.memberId !== profile.profileHex) continue
      if (await project.view.revoked(profile.profileHex, target.device)) continue
      await project.append({ type: 'device/revoke', device: target.device })
      projects++
    }
    await base.update()
    const updated = (await base.view.device(target.device)) ?? target
    this.emit('device-revoked', { device: target.device, projects })
    return { device: deviceInfo(updated, self), projects }
  }

  /**
   * Once this node's clock passes a delegate's expiry, say so in every project (DESIGN.md):
   * from then on no op of the delegate counts, however it is dated.
   */
  expireDelegations(): Promise<number> {
    // one pass at a time: a pass sees what the one before it wrote
    return this.expiring.run(() => this.expirePass())
  }

  private async expirePass(): Promise<number> {
    const { profile } = this.deps
    const base = profile.base
    const keys = profile.keys
    if (base === null || keys === null || keys.delegated) return 0
    const now = this.deps.clock.now()
    let written = 0
    for (const d of await base.view.devices()) {
      if (!d.delegated || d.expiresAt === null || d.expiresAt > now) continue
      for (const project of this.deps.projects.list()) {
        if (!project.writable || project.memberId !== profile.profileHex) continue
        const member = await project.view.member(profile.profileHex)
        if (member === null) continue
        for (const w of member.writers) {
          const rec = await project.view.writer(w)
          if (rec === null || rec.removed || rec.device !== d.device) continue
          await project.append({ type: 'device/expire', device: d.device })
          await project.update()
          this.emit('delegation-ended', { device: d.device, project: toHex(project.key) })
          written++
          break
        }
      }
    }
    return written
  }
}
