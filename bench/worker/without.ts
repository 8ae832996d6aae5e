/**
 * FLUX_BENCH_WITHOUT=part,part: turn parts of every Flux node in this worker off, to measure
 * what each costs (the mesh breakdown in DESIGN.md). Bench-only: it patches prototypes before
 * any node starts; nothing in src knows of it. Parts: wakeup (Autobase's wakeup on every
 * connection), profile-hosting, project-hosting (and the project group that uses it), credits,
 * phonebook (their channels and timers).
 */
import ProtomuxWakeup from 'protomux-wakeup'
import { Network } from '../../src/swarm/network.js'
import { CreditsService } from '../../src/services/credits.js'
import { ProjectGroup } from '../../src/services/project-group.js'
import { ProfileHostingService } from '../../src/services/profile-hosting.js'

const CHANNELS: Record<string, string> = {
  'profile-hosting': 'flux/profile-hosting/v1',
  'project-hosting': 'flux/project-hosting/v1',
  phonebook: 'flux/phonebook/v1'
}
export const PARTS = ['wakeup', 'credits', ...Object.keys(CHANNELS)]

type Patchable = Record<string, unknown>

export function turnOff(parts: string[]): void {
  for (const part of parts) {
    if (!PARTS.includes(part)) throw new Error(`FLUX_BENCH_WITHOUT: no part "${part}"`)
  }
  const off = new Set(parts)
  if (off.has('wakeup')) (ProtomuxWakeup.prototype as unknown as Patchable).addStream = () => {}
  if (off.has('credits')) (CreditsService.prototype as unknown as Patchable).soon = () => {}
  if (off.has('project-hosting')) (ProjectGroup.prototype as unknown as Patchable).soon = () => {}
  if (off.has('profile-hosting')) {
    ;(ProfileHostingService.prototype as unknown as Patchable).announce = () => {}
  }
  const skipped = new Set(parts.map((p) => CHANNELS[p]).filter((p) => p !== undefined))
  if (skipped.size === 0) return
  const addChannel = Network.prototype.addChannel
  Network.prototype.addChannel = function (this: Network, channel) {
    if (skipped.has((channel as { protocol?: string }).protocol ?? '')) return
    addChannel.call(this, channel)
  }
}
