/**
 * Credits and achievements: the rules, as pure functions every peer evaluates the same way.
 *
 * Credits rest on evidence recorded in the project, never on claims: contributions are the
 * author's own accepted ops (already signed by its writer and checked in apply); uptime,
 * hosting and peer support are attestations (`credit/attest`) written by another member about
 * the subject. Integer arithmetic only; epochs come from the ops' clamped timestamps.
 */
import type {
  AchievementRecord,
  AttestKind,
  CreditRecord,
  EvidenceRecord
} from '../views/project.js'
import type { HexKey } from '../autobase/shapes.js'

export type { AchievementRecord, AttestKind, CreditRecord, EvidenceRecord }

/** One epoch of mesh time: attestations are counted per epoch. */
export const EPOCH = 3_600_000
/** Attestations one signer may make per epoch (every kind together): a ring stays bounded. */
export const BUDGET = 8
/** An attestation may name the epoch of its op or the one before (a peer seen at its end). */
export const EPOCH_SLACK = 1
/** Most decay per idle epoch, in percent. */
export const MAX_DECAY = 50
/** Idle epochs after which decay stops counting (everything has gone by then). */
const DECAY_HORIZON = 10_000

export const ATTEST_KINDS: readonly AttestKind[] = ['uptime', 'hosting', 'support']

export type CreditKind = 'contributions' | AttestKind
export const CREDIT_KINDS: readonly CreditKind[] = ['contributions', ...ATTEST_KINDS]

export function emptyCredits(profile: HexKey): CreditRecord {
  return { profile, contributions: 0, uptime: 0, hosting: 0, support: 0, lastEpoch: 0 }
}

export interface AchievementRule {
  id: string
  kind: CreditKind
  threshold: number
  title: string
}

/** Milestones and tiers: each unlocks once, when its kind's total reaches its threshold. */
export const ACHIEVEMENTS: readonly AchievementRule[] = [
  { id: 'first-contribution', kind: 'contributions', threshold: 1, title: 'First contribution' },
  { id: 'contributor-10', kind: 'contributions', threshold: 10, title: '10 contributions' },
  { id: 'contributor-100', kind: 'contributions', threshold: 100, title: '100 contributions' },
  { id: 'contributor-1000', kind: 'contributions', threshold: 1000, title: '1,000 contributions' },
  { id: 'online-3', kind: 'uptime', threshold: 3, title: 'Seen online in 3 epochs' },
  { id: 'online-24', kind: 'uptime', threshold: 24, title: 'Seen online in 24 epochs' },
  { id: 'host', kind: 'hosting', threshold: 1, title: 'Passed a proof of hosting' },
  { id: 'host-10', kind: 'hosting', threshold: 10, title: 'Passed 10 proofs of hosting' },
  { id: 'helper', kind: 'support', threshold: 1, title: 'Helped a member join' },
  { id: 'helper-10', kind: 'support', threshold: 10, title: 'Helped 10 members join' }
]

export function epochOf(ts: number): number {
  return Math.floor(ts / EPOCH)
}

/** The rules crossed by moving a kind's total from `before` to `after`. */
export function crossed(kind: CreditKind, before: number, after: number): AchievementRule[] {
  return ACHIEVEMENTS.filter((a) => a.kind === kind && before < a.threshold && after >= a.threshold)
}

/** Totals as people see them: each kind after decay, and their sum. */
export interface Totals {
  contributions: number
  uptime: number
  hosting: number
  support: number
  total: number
}

/**
 * A record's totals at `epoch` with `decay` percent taken off per idle epoch (every epoch after
 * the last one it earned in), rounding down: integers only, the same on every peer.
 */
export function fold(record: CreditRecord, decay: number, epoch: number): Totals {
  const idle = Math.min(DECAY_HORIZON, Math.max(0, epoch - record.lastEpoch - 1))
  const d = Math.max(0, Math.min(MAX_DECAY, Math.floor(decay)))
  const decayed = (v: number): number => {
    let x = v
    for (let i = 0; i < idle && x > 0 && d > 0; i++) x = Math.floor((x * (100 - d)) / 100)
    return x
  }
  const t = {
    contributions: decayed(record.contributions),
    uptime: decayed(record.uptime),
    hosting: decayed(record.hosting),
    support: decayed(record.support)
  }
  return { ...t, total: t.contributions + t.uptime + t.hosting + t.support }
}
