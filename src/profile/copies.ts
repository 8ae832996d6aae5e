/**
 * Copies of a profile on the mesh: what the profile signs about its base, how long a copy is,
 * which copy recovery takes, and which members keep each profile available.
 */
import type Corestore from 'corestore'
import type { ProfileBase } from './base.js'
import { fromHex, toHex } from '../identity/keys.js'

/** What the profile signs about its base (hosts hand it to whoever recovers the profile). */
export function baseStatement(base: Uint8Array, discovery: Uint8Array): string {
  return `flux/profile-base/v1:${toHex(base)}:${toHex(discovery)}`
}

/** How many members of a project keep each member's profile available. */
export const HOSTS_PER_PROFILE = 3

/** Every writer core of a profile base (hex): the bootstrap and each device's writer. */
export async function profileCores(base: ProfileBase): Promise<string[]> {
  const keys = new Set([toHex(base.key)])
  for (const d of await base.view.devices()) if (d.writer !== null) keys.add(d.writer)
  return [...keys]
}

/** At most this many cores are counted in a copy (a profile's devices' writers and its base). */
export const MAX_COPY_CORES = 64

/** The blocks held locally of each core (hex key to contiguous length). */
export async function coreLengths(
  store: Corestore,
  keys: string[]
): Promise<Record<string, number>> {
  const lengths: Record<string, number> = {}
  for (const key of keys.slice(0, MAX_COPY_CORES)) {
    const core = store.get({ key: fromHex(key), active: false })
    await core.ready()
    lengths[key] = core.contiguousLength
    await core.close()
  }
  return lengths
}

/**
 * How long a copy of a profile is: the blocks held locally across its writer cores (idle
 * writers included: Autobase's active set drops them), per core and in all.
 */
export async function copyOf(
  store: Corestore,
  base: ProfileBase
): Promise<{ length: number; cores: Record<string, number> }> {
  const cores = await coreLengths(store, await profileCores(base))
  return { length: Object.values(cores).reduce((n, x) => n + x, 0), cores }
}

/** How long a copy of a profile is, in blocks (see `copyOf`). */
export async function copyLength(store: Corestore, base: ProfileBase): Promise<number> {
  return (await copyOf(store, base)).length
}

/**
 * How much of a chosen copy a recovering node holds, counted over the cores its own view of
 * the profile lists: a core the holder keeps but the profile does not list (a revoked device's
 * link attempt, a list some peer made up) can never be read and is not waited for. A core the
 * view lists that the copy does not know is not waited for either (nothing to compare).
 */
export function heldOfCopy(
  held: Record<string, number>,
  target: Record<string, number>
): { have: number; want: number; done: boolean } {
  let have = 0
  let want = 0
  for (const [key, n] of Object.entries(held)) {
    const t = target[key] ?? 0
    have += Math.min(n, t)
    want += t
  }
  return { have, want, done: have >= want }
}

/** The `k` profiles (hex) closest to `target` by XOR distance, closest first. */
export function closest(target: string, profiles: string[], k: number): string[] {
  const t = fromHex(target)
  const distance = (p: string): Buffer => {
    const d = fromHex(p)
    for (let i = 0; i < d.length; i++) d[i] = (d[i] as number) ^ (t[i] as number)
    return d
  }
  return [...new Set(profiles)]
    .map((p) => ({ p, d: distance(p) }))
    .sort((a, b) => Buffer.compare(a.d, b.d))
    .slice(0, k)
    .map((x) => x.p)
}

/** The longest validly signed copy; ties go to the copy more peers hold, then the lower key. */
export function chooseCopy<T extends { base: string; length: number }>(valid: T[]): T {
  const holders = new Map<string, number>()
  for (const a of valid) holders.set(a.base, (holders.get(a.base) ?? 0) + 1)
  return [...valid].sort(
    (a, b) =>
      b.length - a.length ||
      (holders.get(b.base) ?? 0) - (holders.get(a.base) ?? 0) ||
      (a.base < b.base ? -1 : 1)
  )[0] as T
}
