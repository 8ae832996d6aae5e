/**
 * The merge rule for every single-valued field (project name, task title, key/value records...).
 * Pure and deterministic: given the same linearized ops, every peer reaches the same value.
 * The exact rule is written down in DESIGN.md ("Concurrent edits").
 */
import type { OpId } from './shapes.js'

/** How far (ms) an op's timestamp may run ahead of the mesh clock before it is clamped. */
export const MAX_CLOCK_SKEW = 10 * 60 * 1000

/** A field's current value and the op that set it. */
export interface Register<T> {
  value: T
  /** The op that wrote this value. */
  id: OpId
  /** The effective (clamped) timestamp of that op. */
  ts: number
  /** The writer (hex key) of that op. */
  by: string
  /**
   * How far (ms) the op's own timestamp ran past its effective one (absent: not clamped):
   * between writes clamped to the same time, the one that claimed less wins.
   */
  over?: number
}

/** An incoming write to a register. */
export interface Write {
  id: OpId
  /** Effective timestamp, already clamped with {@link effectiveTs}. */
  ts: number
  /** How far the op's own timestamp ran past `ts` (0: not clamped). */
  over?: number
  /** The op id of the value the writer saw when it wrote, or null if it saw none. */
  prev: OpId | null
  /**
   * Within how many ms two clamped writes tie (absent or 0: only at equal times). Causal rule
   * 3 sets it to MAX_CLOCK_SKEW: see {@link wins}.
   */
  tie?: number
}

/**
 * Whether an incoming write replaces the current value.
 * 1. No value yet: the write wins.
 * 2. The writer saw the current value (prev === current.id): a causal successor, it wins
 *    whatever the timestamps say. A lying clock therefore never wins against an edit made
 *    after seeing its value.
 * 3. Otherwise the writes are concurrent: the later effective timestamp wins; at equal
 *    effective timestamps (both clamped to what their writers could know), the one whose own
 *    clock claimed less beyond it wins (the more plausible: a clock years ahead claims most),
 *    then the lexicographically greater op id.
 *    With `tie` (causal rule 3), two writes that were both clamped tie when their times are
 *    less than `tie` apart, not only when equal: a clamped time is a bound, what its writer
 *    could have known plus MAX_CLOCK_SKEW, and two bounds a few ms apart only say which writer
 *    saw the latest block, not which wrote later. The more plausible claim wins instead, so an
 *    honest edit made after a quiet spell beats a clock ten years fast whose writer happened to
 *    see one block more (what rule 2 let through).
 */
export function wins(current: Register<unknown> | null, incoming: Write): boolean {
  if (current === null) return true
  if (incoming.prev !== null && incoming.prev === current.id) return true
  const [a, b] = [incoming.over ?? 0, current.over ?? 0]
  const tie = incoming.tie ?? 0
  const clampedTie = tie > 0 && a > 0 && b > 0 && Math.abs(incoming.ts - current.ts) < tie
  if (!clampedTie && incoming.ts !== current.ts) return incoming.ts > current.ts
  if (a !== b) return a < b
  if (incoming.ts !== current.ts) return incoming.ts > current.ts
  return incoming.id > current.id
}

/**
 * The mesh clock: the lower median of the latest timestamp each writer has reported.
 * One writer with a far-off clock cannot move it (with two writers it is the lower one).
 */
export function meshClock(latest: Record<string, number>): number {
  const values = Object.values(latest).sort((a, b) => a - b)
  if (values.length === 0) return 0
  return values[Math.floor((values.length - 1) / 2)] ?? 0
}

/**
 * An op's effective timestamp: its own, clamped to at most MAX_CLOCK_SKEW ahead of the mesh
 * clock computed before it (a writer's very first op with no other clocks known is taken as
 * is), and to at most MAX_CLOCK_SKEW ahead of `known`: the latest time its writer could have
 * known when it wrote (its causal past, see runner.ts), where the base keeps it.
 */
export function effectiveTs(
  ts: number,
  latest: Record<string, number>,
  known: number | null = null
): number {
  let bound = Object.keys(latest).length === 0 ? ts : meshClock(latest) + MAX_CLOCK_SKEW
  if (known !== null) bound = Math.min(bound, known + MAX_CLOCK_SKEW)
  return Math.min(ts, bound)
}
