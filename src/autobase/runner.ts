/**
 * The apply runner every Flux base shares: it decodes each writer's block, skips ops seen
 * before (dedup by op id), hands each op to the base's rules, records skipped ops with their
 * reason, and keeps the counters and writer clocks. Pure and deterministic: no clock, no
 * randomness, no network; the same linearized ops give the same view on every peer.
 *
 * A base gives its rules (`BaseRules`): its codec, where its records live, and the handler
 * that applies one op. A handler skips an op by throwing {@link Skip}; the runner turns that
 * into a skip record, identically on every peer, and the base keeps working.
 *
 * No peer input may close a base (Autobase closes it on every peer, after every restart, when
 * apply throws). So any other error an op causes is contained too: the op's writes are rolled
 * back and it is skipped as {@link UNEXPECTED}, the same way everywhere (its neighbours still
 * apply). Only a failure of the node itself ends the apply call: the view's storage
 * ({@link ViewStorageError}) or Autobase's host calls ({@link HostCallError}), which a peer
 * cannot cause and which must never make one peer skip what the others apply.
 */
import type Autobase from 'autobase'
import type Hyperbee from 'hyperbee'
import b4a from 'b4a'
import { ViewStorageError, ViewTx } from './tx.js'
import { bad, decodeBlock, type Codec, type Envelope, type Validation } from './envelope.js'
import { effectiveTs } from './merge.js'
import type { HexKey } from './shapes.js'

/** Thrown inside a handler to skip the op; caught by the runner, never escapes apply. */
export class Skip {
  constructor(readonly reason: string) {}
}

/** The skip reason of an op whose apply failed in a way its base did not foresee. */
export const UNEXPECTED = 'unexpected error in apply'

/** A host call (addWriter, removeWriter...) failed: Autobase's state, not the op, is at fault. */
export class HostCallError extends Error {
  constructor(override readonly cause: unknown) {
    super(`autobase host call failed: ${cause instanceof Error ? cause.message : 'unknown error'}`)
  }
}

/** Whether an error comes from the node (storage, Autobase), not from the op being applied. */
function isNodeFailure(err: unknown): boolean {
  return err instanceof ViewStorageError || err instanceof HostCallError
}

/** The counters and clocks the runner keeps in every base's system record. */
export interface BaseSystem {
  /** Ops applied (accepted) so far. */
  applied: number
  /** Ops skipped as invalid or not allowed. */
  skipped: number
  /** Latest timestamp applied from each writer (hex): the mesh clock is their lower median. */
  clocks: Record<string, number>
}

/**
 * What the kit records for each writer block (at the base's `causalKey`): `k`, the latest
 * effective time in the block's causal past, its writer's own blocks counting only through
 * their `k` (so a writer cannot push its own bound forward alone); `e`, the latest effective
 * time of an op applied from the block (`k` when none).
 */
export interface CausalRecord {
  /** Null: nothing known (a base's first blocks, or blocks that depend only on their own). */
  k: number | null
  e: number | null
}

/** Why an op was skipped, at `skip/<seq>` in every base. */
export interface SkipRecord {
  seq: number
  writer: HexKey
  id: string | null
  type: string | null
  reason: string
}

/** What every handler gets. */
export interface ApplyContext<S extends BaseSystem> {
  /** The view batch of this apply call, read through a cache. */
  b: ViewTx
  host: Autobase.ApplyHost
  sys: S
  /** The writer core the op came from (hex). */
  author: HexKey
  /**
   * The op's effective timestamp: its own, clamped to the mesh clock (merge.ts). What is
   * judged by time (invite expiry, when a writer was last seen) reads it.
   */
  ts: number
  /**
   * The time the op counts with in conflicts between concurrent writes (registers): `ts`,
   * also bounded by what its writer could have known when it wrote (its causal past).
   */
  mergeTs: number
  /** How far the op's own timestamp ran past `mergeTs` (0: not clamped): registers keep it. */
  over: number
  /**
   * Marks shared by every op of one apply call, for work the base does once at its end (an
   * apply call is one writer's atomic batch: the same on every peer).
   */
  marks: Set<string>
}

export interface BaseRules<
  O extends Envelope & { type: string },
  S extends BaseSystem,
  C extends ApplyContext<S> = ApplyContext<S>
> {
  codec: Codec<O>
  systemKey: string
  emptySystem(): S
  skipKey(seq: number): string
  /** Whether this op id was applied or skipped before: then it changes nothing at all. */
  seen(b: ViewTx, op: O, sys: S): Promise<boolean>
  /** The context the base's handlers see for one op (the kit's, plus the base's own). */
  context(base: ApplyContext<S>): C
  /** Apply one valid op, or throw Skip. */
  apply(ctx: C, op: O): Promise<void>
  /** Mark an applied op as seen (and anything else the base keeps per applied op). */
  applied(ctx: C, op: O): Promise<void>
  /** Mark a skipped op as seen (its skip record is already written). */
  skipped(b: ViewTx, sys: S, author: HexKey, op: O): Promise<void>
  /**
   * Where the kit keeps, for each writer block, the latest time its writer could have known
   * (`CausalRecord`); with it, an op's merge time is bounded by its causal past, not by where
   * it lands (DESIGN.md, "The causal past, not the landing point"). Without it, merge time is
   * the effective time.
   */
  causalKey?(writer: HexKey, length: number): string
  /**
   * Whether the base's view has the compact layout (from its system record): each key written
   * once per apply call, and each writer block marked applied by its causal record (written
   * for every block), so that a block applied again changes nothing and ops need no mark of
   * their own. Without it: every write reaches the view in order, and ops are deduplicated by
   * id alone (the layout of views made before it, kept as it was).
   */
  compact?(sys: S): boolean
  /** Whether acks are followed through their heads in the causal past (`HeadsReader`). */
  followAcks?(sys: S): boolean
  /** Once the call's ops are applied, before the system record is written. */
  finish?(b: ViewTx, sys: S, host: Autobase.ApplyHost, marks: Set<string>): Promise<void>
}

export type ApplyFunction = Autobase.AutobaseHandlers<Hyperbee>['apply']

/** Told of each op skipped as {@link UNEXPECTED}, with its error (local only: a warning). */
export type UnexpectedListener = (err: unknown, op: Envelope & { type: string }) => void

/**
 * The heads a writer block names (its writer core hex, its length), read from the block itself:
 * Autobase never passes acks (blocks without a value) to apply, so they have no causal record,
 * and what an ack knew is found through its own heads. Null when the block cannot be read
 * locally (it always can for a block Autobase linearized: it loads dependencies first).
 */
export type HeadsReader = (
  writer: HexKey,
  length: number
) => Promise<Array<{ key: Uint8Array; length: number }> | null>

/** How many acks deep a causal past is followed through (a bound on reads per block). */
const MAX_ACK_DEPTH = 16

/** The apply function of a base with these rules. */
export function createApply<
  O extends Envelope & { type: string },
  S extends BaseSystem,
  C extends ApplyContext<S>
>(
  rules: BaseRules<O, S, C>,
  onUnexpected?: UnexpectedListener,
  headsOf?: HeadsReader
): ApplyFunction {
  return async function apply(nodes, view, rawHost) {
    const b = new ViewTx(view.batch())
    const host = guardHost(rawHost)
    const sys = (await b.get<S>(rules.systemKey)) ?? rules.emptySystem()
    const marks = new Set<string>()
    const compact = (): boolean => rules.compact?.(sys) === true
    for (const node of nodes) {
      const author = b4a.toString(node.from.key, 'hex')
      const at = rules.causalKey?.(author, node.length) ?? null
      // a block applied again (Autobase's replay after a crash, on that node only) changes
      // nothing: the view must not differ from its peers'
      if (at !== null && compact() && (await b.has(at))) continue
      const reader = rules.followAcks?.(sys) === true ? headsOf : undefined
      const known = await knownTime(rules, b, author, node.length, node.heads ?? [], reader, 0)
      const record = async (latest: number | null, ops = true): Promise<void> => {
        if (at === null) return
        const e = latest === null ? known : Math.max(known ?? latest, latest)
        // compact: every block with ops is marked (judged after the block: its init may set
        // the layout); an ack applied again changes nothing anyway
        if (known === null && e === null && !(ops && compact())) return
        // a block applied again (Autobase's replay after a crash, on that node only) keeps its
        // first record: its ops are seen now, and the view must not differ from its peers'
        if (await b.has(at)) return
        await b.put(at, { k: known, e } satisfies CausalRecord)
        await b.commit()
      }
      // acks carry no value; an empty block reads as null on peers but not on its writer
      if (!(node.value instanceof Uint8Array) || node.value.byteLength === 0) {
        await record(null, false)
        continue
      }
      let ops: Validation<O>[]
      try {
        ops = decodeBlock(rules.codec, node.value)
      } catch {
        ops = [bad(UNEXPECTED)] // decodeBlock never throws; if it ever does, the block is one skip
      }
      let latest: number | null = null
      for (const decoded of ops) {
        const ts = await applyOne(rules, b, host, sys, author, decoded, marks, known, onUnexpected)
        if (ts !== null) latest = Math.max(latest ?? ts, ts)
      }
      await record(latest)
    }
    if (rules.finish) await rules.finish(b, sys, host, marks)
    await b.put(rules.systemKey, sys)
    await b.flush(compact())
  }
}

async function applyOne<
  O extends Envelope & { type: string },
  S extends BaseSystem,
  C extends ApplyContext<S>
>(
  rules: BaseRules<O, S, C>,
  b: ViewTx,
  host: Autobase.ApplyHost,
  sys: S,
  author: HexKey,
  decoded: Validation<O>,
  marks: Set<string>,
  known: number | null,
  onUnexpected: UnexpectedListener | undefined
): Promise<number | null> {
  if (!decoded.ok) {
    await skip(rules.skipKey, b, sys, author, null, decoded.reason)
    await b.commit()
    return null
  }
  const op = decoded.op
  // what the op may change besides the view, restored if it fails unexpectedly
  const sysBefore = JSON.stringify(sys)
  const marksBefore = [...marks]
  let ctx: C | null = null
  try {
    // A repeated op id changes nothing, not even the skip counter: after a kill -9 during an
    // append, Autobase can replay the in-flight op on the crashed node only, so recording the
    // replay would make that node's state differ from its peers'.
    if (await rules.seen(b, op, sys)) return null
    const ts = effectiveTs(op.ts, sys.clocks)
    const mergeTs = effectiveTs(op.ts, sys.clocks, known)
    ctx = rules.context({ b, host, sys, author, ts, mergeTs, over: op.ts - mergeTs, marks })
    await rules.apply(ctx, op)
  } catch (err) {
    if (isNodeFailure(err)) throw err
    let reason: string
    if (err instanceof Skip) {
      reason = err.reason // what the handler wrote before skipping stays (a denied record)
    } else {
      b.rollback()
      restore(sys, sysBefore)
      marks.clear()
      for (const m of marksBefore) marks.add(m)
      reason = UNEXPECTED
      onUnexpected?.(err, op)
    }
    await skip(rules.skipKey, b, sys, author, op, reason)
    // a skipped op replayed after a crash must not be counted twice either
    await rules.skipped(b, sys, author, op)
    await b.commit()
    return null
  }
  sys.applied++
  sys.clocks[author] = Math.max(sys.clocks[author] ?? 0, op.ts)
  await rules.applied(ctx, op)
  await b.commit()
  return ctx.ts
}

/**
 * The latest time the writer of a block could have known when it wrote it: from the records of
 * the blocks it depends on (its heads, and its own previous block). Null when the base keeps
 * no such records or none is known (a base's first block). A dependency without a record is an
 * ack (Autobase does not apply those) or a block that knew nothing: what it knew is found the
 * same way through its own heads, read from the block (`headsOf`), up to MAX_ACK_DEPTH acks
 * deep. Every peer reads the same signed blocks, so every peer finds the same time.
 */
async function knownTime<
  O extends Envelope & { type: string },
  S extends BaseSystem,
  C extends ApplyContext<S>
>(
  rules: BaseRules<O, S, C>,
  b: ViewTx,
  author: HexKey,
  length: number,
  heads: ReadonlyArray<{ key: Uint8Array; length: number }>,
  headsOf: HeadsReader | undefined,
  depth: number
): Promise<number | null> {
  const key = rules.causalKey
  if (!key) return null
  let known: number | null = null
  const take = (t: number | null): void => {
    if (t !== null) known = known === null ? t : Math.max(known, t)
  }
  /** The record of a block, or for an ack what it knew (as its `k` and `e`). */
  const recordOf = async (writer: HexKey, at: number): Promise<CausalRecord | null> => {
    const rec = await b.get<CausalRecord>(key(writer, at))
    if (rec !== null || headsOf === undefined || depth >= MAX_ACK_DEPTH) return rec
    const its = await headsOf(writer, at)
    if (its === null) return null
    const k = await knownTime(rules, b, writer, at, its, headsOf, depth + 1)
    return { k, e: k }
  }
  const own = length > 1 ? await recordOf(author, length - 1) : null
  take(own?.k ?? null)
  for (const head of heads) {
    const writer = b4a.toString(head.key, 'hex')
    if (writer === author && head.length === length - 1) continue // the own block, above
    const rec = await recordOf(writer, head.length)
    if (rec === null) continue
    take(rec.k)
    if (writer !== author) take(rec.e)
  }
  return known
}

/** Put back the system record as it was before an op (the same object: others hold it). */
function restore(sys: BaseSystem, json: string): void {
  const before = JSON.parse(json) as Record<string, unknown>
  const target = sys as unknown as Record<string, unknown>
  for (const k of Object.keys(target)) delete target[k]
  Object.assign(target, before)
}

/** The host, with its failures marked as the node's own (see {@link HostCallError}). */
function guardHost(host: Autobase.ApplyHost): Autobase.ApplyHost {
  return new Proxy(host, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target)
      if (typeof v !== 'function') return v
      return (...args: unknown[]): unknown => {
        let result: unknown
        try {
          result = (v as (...a: unknown[]) => unknown).apply(target, args)
        } catch (err) {
          throw new HostCallError(err)
        }
        if (result instanceof Promise) {
          return result.catch((err: unknown) => {
            throw new HostCallError(err)
          })
        }
        return result
      }
    }
  })
}

async function skip(
  skipKey: (seq: number) => string,
  b: ViewTx,
  sys: BaseSystem,
  writer: HexKey,
  op: { id: string; type: string } | null,
  reason: string
): Promise<void> {
  sys.skipped++
  const record: SkipRecord = {
    seq: sys.skipped,
    writer,
    id: op?.id ?? null,
    type: op?.type ?? null,
    reason
  }
  await b.put(skipKey(sys.skipped), record)
}

/** One handler per op type: the compiler checks that every type has one. */
export type Handlers<O extends { type: string }, C> = {
  [K in O['type']]: (ctx: C, op: Extract<O, { type: K }>) => Promise<void>
}

/** Run the handler for `op.type` from a complete table. */
export function dispatch<O extends { type: string }, C>(
  handlers: Handlers<O, C>,
  ctx: C,
  op: O
): Promise<void> {
  const handler = handlers[op.type as O['type']] as (ctx: C, op: O) => Promise<void>
  return handler(ctx, op)
}
