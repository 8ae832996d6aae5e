/**
 * The profile's projects, kept in step with the profile: each project this profile writes to
 * is noted in the profile base with its key sealed to every live device and to the recovery
 * box; a device linked while we were away gets the keys sealed to it; a project of the
 * profile this node does not hold yet is adopted.
 */
import b4a from 'b4a'
import { Service } from '../util/service.js'
import { fromHex, toHex } from '../identity/keys.js'
import { lineWithoutControls } from '../autobase/shapes.js'
import { sealToDevice, sealToRecovery } from '../identity/seal.js'
import type { DeviceRecord } from '../views/profile.js'
import type { Project } from '../project/project.js'
import { projectKey, type ProfileService } from './profile.js'
import type { ProjectRegistry } from './projects.js'

export interface ProfileProjectsEvents {
  /** A pass over the profile's projects ended: they are held here and their keys sealed. */
  synced: []
  warning: [err: unknown]
}

export interface ProfileProjectsDeps {
  profile: ProfileService
  projects: ProjectRegistry
}

export class ProfileProjects extends Service<ProfileProjectsEvents> {
  private syncing: Promise<void> | null = null
  private again = false

  constructor(private readonly deps: ProfileProjectsDeps) {
    super()
    const { profile } = deps
    profile.on('base-update', () => {
      this.sync().catch((err: unknown) => this.emit('warning', err))
    })
    // a profile made after its node joined projects: note them all
    profile.on('base-created', () => {
      void (async () => {
        for (const project of deps.projects.list()) {
          if (project.memberId === profile.profileHex) await this.record(project)
        }
      })().catch((err: unknown) => this.emit('warning', err))
    })
  }

  /** Note a project in the profile, its key sealed to every live device and to recovery. */
  async record(project: Project): Promise<void> {
    const base = this.deps.profile.base
    const entry = this.deps.profile.entry
    if (base === null || !base.writable || entry === null) return
    // a name from before apply refused control characters is stored without them
    const name = lineWithoutControls((await project.view.project())?.name.value ?? '').slice(0, 100)
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
      name,
      keys,
      recovery,
      public: encryptionKey === null
    })
  }

  async forget(keyHex: string): Promise<void> {
    const base = this.deps.profile.base
    if (base === null || !base.writable) return
    const existing = await base.view.project(keyHex)
    if (existing === null || existing.removed) return
    await base.append({ type: 'project/remove', key: keyHex })
  }

  async liveDevices(): Promise<DeviceRecord[]> {
    const base = this.deps.profile.base
    if (base === null) return []
    const out: DeviceRecord[] = []
    for (const d of await base.view.devices()) {
      if (await base.view.isActive(d.device)) out.push(d)
    }
    return out
  }

  /**
   * After the profile changes: seal project keys for devices that lack them (a device linked
   * while we were away), and hold the profile's projects this node does not hold yet. One pass
   * at a time; a change during a pass asks for one more.
   */
  async sync(): Promise<void> {
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
    const base = this.deps.profile.base
    const keys = this.deps.profile.keys
    if (base === null || keys === null) return
    const live = await this.liveDevices()
    for (const p of await base.view.projects()) {
      const encryptionKey = projectKey(p, keys)
      if (encryptionKey === undefined) continue
      await this.deps.projects.adopt(p.key, encryptionKey, 'profile')
      if (encryptionKey === null || !base.writable) continue
      const missing: Record<string, string> = {}
      for (const d of live) {
        if (p.keys[d.device] === undefined) {
          missing[d.device] = b4a.toString(sealToDevice(fromHex(d.device), encryptionKey), 'base64')
        }
      }
      if (Object.keys(missing).length > 0) {
        await base.append({ type: 'project/keys', key: p.key, keys: missing })
      }
    }
    this.emit('synced')
  }
}
