/**
 * The key layout of a profile's Hyperbee view, its records, and the read queries over it.
 * This file is the only place that knows the layout: apply writes through `ProfileKeys`,
 * everything else reads through `ProfileView`.
 */
import type Hyperbee from 'hyperbee'
import type { Register } from '../autobase/merge.js'
import type { BaseSystem, SkipRecord } from '../autobase/runner.js'
import type { B64, HexKey, OpId } from '../autobase/shapes.js'
import { prefixEnd } from './project.js'

/** Sealed copies of one key, by recipient device (hex ed25519 public key). */
export type SealedKeys = Record<HexKey, B64>

export interface ProfileRecord {
  profile: HexKey
  discovery: HexKey
  /** The recovery box public key (curve25519). */
  recovery: HexKey
  name: Register<string>
  createdAt: number
  bootstrapDevice: HexKey
}

export interface DeviceRecord {
  device: HexKey
  /** Its writer core, or null for a device that does not write to the profile. */
  writer: HexKey | null
  name: string
  proof: B64 | null
  grant: B64 | null
  delegated: boolean
  expiresAt: number | null
  /**
   * Device keys from the one the identity attested down to this one (for a delegate: down to
   * its grantor). Revoking any of them deactivates this device.
   */
  chain: HexKey[]
  /** The device that added it; null for the first device. */
  addedBy: HexKey | null
  addedAt: number
  revoked: { by: HexKey; at: number } | null
}

export interface ProjectEntry {
  key: HexKey
  name: string
  public: boolean
  /** The project encryption key sealed to each device that may read it. */
  keys: SealedKeys
  /** The project encryption key sealed to the recovery box. */
  recovery: B64 | null
  addedAt: number
  removed: boolean
}

/** Counters and writer clocks (the clock registers are judged by), kept by apply. */
export type ProfileSystemRecord = BaseSystem

export type ProfileSkipRecord = SkipRecord

/** Marks an op id as seen (applied or skipped), so a replayed op changes nothing. */
export interface OpRecord {
  writer: HexKey
  skipped: boolean
}

const pad = (n: number): string => n.toString().padStart(12, '0')

export const ProfileKeys = {
  system: 'sys',
  profile: 'profile',
  op: (id: OpId) => `op/${id}`,
  device: (device: HexKey) => `device/${device}`,
  /** Every device ever added, in order (a batch cannot range-scan, and devices are few). */
  deviceIndex: 'devices',
  writer: (writer: HexKey) => `writer/${writer}`,
  project: (key: HexKey) => `project/${key}`,
  /** Every project ever added, in order. */
  projectIndex: 'projects',
  skip: (seq: number) => `skip/${pad(seq)}`,
  skipPrefix: 'skip/'
} as const

export function emptyProfileSystem(): ProfileSystemRecord {
  return { applied: 0, skipped: 0, clocks: {} }
}

/**
 * Whether a device is active: known, not revoked, and no key of its chain revoked. Shared by
 * apply (over its batch) and the queries (over the view), so both judge alike. Delegates count
 * as active here: their expiry is judged where their ops are.
 */
export async function deviceActive(
  record: DeviceRecord | null,
  lookup: (device: HexKey) => Promise<DeviceRecord | null>
): Promise<boolean> {
  if (record === null || record.revoked !== null) return false
  return !(await chainRevoked(record.chain, lookup))
}

/** Whether any key of a chain belongs to a revoked device. */
export async function chainRevoked(
  chain: HexKey[],
  lookup: (device: HexKey) => Promise<DeviceRecord | null>
): Promise<boolean> {
  for (const key of chain) {
    const link = await lookup(key)
    if (link !== null && link.revoked !== null) return true
  }
  return false
}

export class ProfileView {
  constructor(readonly bee: Hyperbee) {}

  private async value<T>(key: string): Promise<T | null> {
    const node = await this.bee.get(key)
    return node === null ? null : (node.value as T)
  }

  profile(): Promise<ProfileRecord | null> {
    return this.value<ProfileRecord>(ProfileKeys.profile)
  }

  device(device: HexKey): Promise<DeviceRecord | null> {
    return this.value<DeviceRecord>(ProfileKeys.device(device))
  }

  /** Every device ever added (revoked ones too), in the order they were added. */
  async devices(): Promise<DeviceRecord[]> {
    const index = (await this.value<HexKey[]>(ProfileKeys.deviceIndex)) ?? []
    const records = await Promise.all(index.map((d) => this.device(d)))
    return records.filter((r): r is DeviceRecord => r !== null)
  }

  /** The device writing through a writer core, if any. */
  deviceOfWriter(writer: HexKey): Promise<HexKey | null> {
    return this.value<HexKey>(ProfileKeys.writer(writer))
  }

  /** Known, not revoked, and no revoked key in its chain (a delegate's expiry is not judged). */
  async isActive(device: HexKey): Promise<boolean> {
    return deviceActive(await this.device(device), (d) => this.device(d))
  }

  project(key: HexKey): Promise<ProjectEntry | null> {
    return this.value<ProjectEntry>(ProfileKeys.project(key))
  }

  /** The profile's projects (not removed), in the order they were first added. */
  async projects(): Promise<ProjectEntry[]> {
    const index = (await this.value<HexKey[]>(ProfileKeys.projectIndex)) ?? []
    const records = await Promise.all(index.map((k) => this.project(k)))
    return records.filter((r): r is ProjectEntry => r !== null && !r.removed)
  }

  async system(): Promise<ProfileSystemRecord> {
    return (await this.value<ProfileSystemRecord>(ProfileKeys.system)) ?? emptyProfileSystem()
  }

  /** Skipped ops, oldest first. */
  async skips(opts: { limit?: number } = {}): Promise<ProfileSkipRecord[]> {
    const prefix = ProfileKeys.skipPrefix
    const range: Hyperbee.Range = { gte: prefix, lt: prefixEnd(prefix) }
    if (opts.limit !== undefined) range.limit = opts.limit
    const out: ProfileSkipRecord[] = []
    for await (const entry of this.bee.createReadStream(range)) {
      out.push(entry.value as ProfileSkipRecord)
    }
    return out
  }
}
