/**
 * apply for a phonebook: its rules for the base kit's runner, one handler per op type. Pure
 * and deterministic: no clock, no randomness, no network. Never throws on peer input: a bad op
 * is skipped and recorded with its reason and its writer, identically on every peer.
 *
 * - `writer/add`: any writer adds another (a phonebook is shared by the nodes that met without
 *   restrictions); at most `maxWriters`; the new writer does not index (the creator alone does).
 * - `entry/put`: a node's entry, accepted only if that node signed it for this phonebook, it is
 *   within the size bound, it is not dated after the op that carries it, and it is newer (by
 *   at least `minRefresh`) than the entry it replaces. A removal is an entry too (a tombstone),
 *   so an older entry replayed later cannot bring the node back.
 */
import b4a from 'b4a'
import { MAX_CLOCK_SKEW, meshClock } from '../autobase/merge.js'
import {
  Skip,
  createApply,
  dispatch,
  type ApplyContext,
  type ApplyFunction,
  type BaseRules,
  type Handlers
} from '../autobase/runner.js'
import {
  PhonebookKeys as K,
  emptyPhonebookSystem,
  isExpired,
  type EntryRecord,
  type PhonebookSystem,
  type WriterRecord
} from '../views/phonebook.js'
import {
  PHONEBOOK_LIMITS,
  phonebookCodec,
  verifyEntry,
  type PhonebookLimits,
  type PhonebookOp
} from './ops.js'

interface Ctx extends ApplyContext<PhonebookSystem> {
  book: Buffer
  bootstrap: string
  limits: PhonebookLimits
  /** The op's own timestamp (ctx.ts is the clamped one). */
  opTs: number
}

export interface PhonebookApplyOptions {
  /** The phonebook key (hex), known once the base runs: entries are signed for it. */
  readonly bootstrap: string
  /** Tests give smaller bounds; every peer of one phonebook must use the same. */
  limits?: PhonebookLimits
}

const handlers: Handlers<PhonebookOp, Ctx> = {
  'writer/add': addWriter,
  'entry/put': putEntry
}

export function createPhonebookApply(opts: PhonebookApplyOptions): ApplyFunction {
  const limits = opts.limits ?? PHONEBOOK_LIMITS
  const rules: BaseRules<PhonebookOp, PhonebookSystem, Ctx> = {
    codec: phonebookCodec,
    systemKey: K.system,
    emptySystem: emptyPhonebookSystem,
    skipKey: K.skip,
    seen: (b, op) => b.has(K.op(op.id)),
    context: (base) => ({
      ...base,
      book: b4a.from(opts.bootstrap, 'hex') as Buffer,
      bootstrap: opts.bootstrap,
      limits,
      opTs: base.ts
    }),
    apply: (ctx, op) => dispatch(handlers, { ...ctx, opTs: op.ts }, op),
    applied: (ctx, op) => ctx.b.put(K.op(op.id), true),
    skipped: (b, _sys, _author, op) => b.put(K.op(op.id), true)
  }
  return createApply(rules)
}

async function addWriter(ctx: Ctx, op: Extract<PhonebookOp, { type: 'writer/add' }>) {
  if (op.key === ctx.bootstrap || (await ctx.b.has(K.writer(op.key)))) {
    throw new Skip('already a writer')
  }
  // the bootstrap writer counts as one
  if (ctx.sys.writers + 1 >= ctx.limits.maxWriters) throw new Skip('too many writers')
  const record: WriterRecord = { key: op.key, addedBy: ctx.author }
  await ctx.b.put(K.writer(op.key), record)
  ctx.sys.writers++
  await ctx.host.addWriter(b4a.from(op.key, 'hex') as Buffer, { indexer: false })
}

async function putEntry(ctx: Ctx, op: Extract<PhonebookOp, { type: 'entry/put' }>) {
  const { entry } = op
  const { limits, sys } = ctx
  const bytes = Buffer.byteLength(JSON.stringify(entry))
  if (bytes > limits.maxEntryBytes) throw new Skip(`entry too large (${bytes} bytes)`)
  if (!verifyEntry(ctx.book, entry)) throw new Skip('entry not signed by its node')
  // a node signs its entry and appends it at once; a carrier appends it later, never earlier
  if (entry.seen > ctx.opTs + MAX_CLOCK_SKEW) throw new Skip('entry dated after its op')
  const known = await ctx.b.get<EntryRecord>(K.entry(entry.peer))
  if (known !== null && entry.seen < known.seen + limits.minRefresh) {
    throw new Skip(entry.seen <= known.seen ? 'entry not newer' : 'entry refreshed too soon')
  }
  let slot: number
  if (known !== null) {
    slot = known.slot
  } else {
    const carried = sys.carried[ctx.author] ?? 0
    if (carried >= limits.carriedPerWriter) throw new Skip('writer brought in too many entries')
    slot = await freeSlot(ctx)
    sys.carried[ctx.author] = carried + 1
    await ctx.b.put(K.slot(slot), entry.peer)
  }
  // last seen as every peer judges it: the signed time, at most MAX_CLOCK_SKEW ahead of the
  // mesh clock counting this op's writer as one vote (so one fast clock cannot move it, and a
  // lone writer back after a long absence is not held at its old time)
  const clocks = { ...sys.clocks, [ctx.author]: Math.max(sys.clocks[ctx.author] ?? 0, ctx.opTs) }
  const at = Math.min(entry.seen, meshClock(clocks) + MAX_CLOCK_SKEW)
  const record: EntryRecord = { ...entry, at, slot, by: ctx.author }
  await ctx.b.put(K.entry(entry.peer), record)
}

/** A slot for a new entry: an unused one, else an expired or removed entry's (bounded scan). */
async function freeSlot(ctx: Ctx): Promise<number> {
  const { sys, limits } = ctx
  if (sys.slots < limits.maxEntries) return sys.slots++
  const mesh = meshClock(sys.clocks)
  for (let i = 0; i < Math.min(limits.reuseScan, limits.maxEntries); i++) {
    const slot = (sys.cursor + i) % limits.maxEntries
    const peer = await ctx.b.get<string>(K.slot(slot))
    const old = peer === null ? null : await ctx.b.get<EntryRecord>(K.entry(peer))
    if (old === null || old.removed || isExpired(old, mesh)) {
      if (peer !== null) await ctx.b.del(K.entry(peer))
      sys.cursor = (slot + 1) % limits.maxEntries
      return slot
    }
  }
  sys.cursor = (sys.cursor + limits.reuseScan) % limits.maxEntries
  throw new Skip('phonebook full')
}
