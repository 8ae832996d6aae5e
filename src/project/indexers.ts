/**
 * Which writers index a project (move its signed, stable prefix forward), chosen by a rule
 * every peer evaluates the same way in apply. Pure: no clock, no I/O.
 *
 * - Candidates are the active members' first full-device writers (not removed, not revoked,
 *   not a delegate), ranked admins first, then in the order they joined.
 * - The set is the first three candidates, never exactly two (2-of-2 stalls when either is
 *   away: two candidates give one indexer). A candidate away for long (no op and no ack for
 *   AWAY of mesh time) gives its seat to the next one around; it keeps a seat only when
 *   nobody around can take it. The change is signed by the old set's majority (Autobase's
 *   rule): an indexer away for long is replaced while the others sign; when most of the set
 *   is away, the change waits at the tip until one of them is back.
 * - Changes follow Autobase's constraints: missing indexers are added in one step; indexers no
 *   longer wanted are removed (or demoted to plain writers) only in a later step, once every
 *   wanted indexer is active (has written since it was added); never both in one apply.
 */
import type { HexKey } from '../autobase/shapes.js'

/** Most indexers a project has. */
export const MAX_INDEXERS = 3
/** An indexer silent for this long (mesh time) counts as away (ms). */
export const AWAY = 48 * 3600_000

export interface Candidate {
  writer: HexKey
  profile: HexKey
  admin: boolean
  /** The member's place in the order members joined. */
  order: number
}

/** Never exactly two: 2-of-2 stalls whenever one of them is away. */
function trim<T>(set: T[]): T[] {
  return set.length === 2 ? set.slice(0, 1) : set
}

/**
 * The wanted indexers. `seen`: the mesh time each writer was last seen (an op, or an indexer's
 * ack; a candidate never seen counts as present); `now`: the mesh clock.
 */
export function chooseIndexers(
  candidates: Candidate[],
  seen: Record<HexKey, number>,
  now: number
): HexKey[] {
  const ranked = [...candidates].sort(
    (a, b) =>
      Number(b.admin) - Number(a.admin) || a.order - b.order || (a.writer < b.writer ? -1 : 1)
  )
  const present = (c: Candidate): boolean => now - (seen[c.writer] ?? now) <= AWAY
  // those around first, in rank; the away ones only fill seats nobody around can take
  const order = [...ranked.filter(present), ...ranked.filter((c) => !present(c))]
  return trim(order.slice(0, MAX_INDEXERS)).map((c) => c.writer)
}

/**
 * The time the away rule judges by: the lower median of when each candidate was last seen.
 * Time moves only when most candidates are around (one fast clock cannot make others look
 * away, and with two candidates neither can declare the other away).
 */
export function presentTime(candidates: Candidate[], seen: Record<HexKey, number>): number {
  const times = candidates.map((c) => seen[c.writer] ?? 0).sort((a, b) => a - b)
  return times[Math.floor((times.length - 1) / 2)] ?? 0
}

export type IndexerStep =
  { kind: 'add'; writers: HexKey[] } | { kind: 'remove'; writers: HexKey[] } | null

/**
 * The next step from the current indexers (`active`: written since added; `pending`: added,
 * not yet written) towards `wanted`: add what is missing, else, once every wanted indexer is
 * active, remove what is no longer wanted. Null when there is nothing to do.
 */
export function nextStep(active: HexKey[], pending: HexKey[], wanted: HexKey[]): IndexerStep {
  if (wanted.length === 0) return null
  const current = new Set([...active, ...pending])
  const missing = wanted.filter((w) => !current.has(w))
  if (missing.length > 0) return { kind: 'add', writers: missing }
  const extra = [...current].filter((w) => !wanted.includes(w))
  if (extra.length === 0) return null
  if (!wanted.every((w) => active.includes(w))) return null
  return { kind: 'remove', writers: extra.sort() }
}
