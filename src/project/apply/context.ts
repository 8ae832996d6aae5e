/**
 * What the project's apply handlers share: their context, and the checks most of them make
 * (who wrote an op, whether a writer proof holds, roles, members). Pure: reads and writes only
 * the view batch of the apply call.
 */
import { Skip, type ApplyContext } from '../../autobase/runner.js'
import { MAX_CLOCK_SKEW, type Register, type Write } from '../../autobase/merge.js'
import type { ViewTx } from '../../autobase/tx.js'
import { verifyWriterProof, type VerifiedWriter } from '../../identity/writer-proof.js'
import { isDelegationActive } from '../../identity/devices.js'
import {
  Keys,
  type MemberRecord,
  type ProjectRecord,
  type SystemRecord,
  type WriterRecord
} from '../../views/project.js'
import type { HexKey, Op, OpId, Role } from '../ops.js'

/** The context of one op: the kit's, plus who wrote it and which project this is. */
export interface Ctx extends ApplyContext<SystemRecord> {
  /** The profile and device behind the writer core (null only for project/init). */
  writer: WriterRecord | null
  /** The project's bootstrap key (hex): the creator's writer core, the only one that may init. */
  bootstrap: HexKey
  /** The project's discovery key: writer proofs are signed for it. */
  discoveryKey: Buffer
  /**
   * Told the number a post got and the first number of its page (layouts 2 and 3): a hint for
   * this node's read-back of the post, checked on use. Nothing it is told changes what apply
   * writes.
   */
  numbered?: (id: OpId, n: number, start: number) => void
}

/** The context of an op from a member of an initialised project (every op but init). */
export interface MemberCtx extends Ctx {
  writer: WriterRecord
  project: ProjectRecord
  /** The author's member record. */
  self: MemberRecord
}

/**
 * Who wrote an op: the writer record of its core, which must be live (its member not removed,
 * no key of its device chain revoked, a delegate's grant not expired). Skips otherwise.
 */
export async function authorOf(ctx: Ctx, op: Op): Promise<WriterRecord> {
  const { b, sys } = ctx
  const w = await b.get<WriterRecord>(Keys.writer(ctx.author))
  if (w === null) throw new Skip('writer is not a member')
  if (await isRevoked(b, w.profile, w.chain)) throw new Skip('device revoked')
  if (w.removed) throw new Skip('writer is not a member')
  if (w.delegated) {
    const profileClock = sys.profileClocks[w.profile] ?? 0
    const active = isDelegationActive(
      { expiresAt: w.expiresAt ?? 0 },
      { opTimestamp: op.ts, profileClock }
    )
    if (!active) throw new Skip('delegation expired')
  }
  return w
}

export async function isRevoked(b: ViewTx, profile: HexKey, chain: HexKey[]): Promise<boolean> {
  for (const device of chain) {
    if (await b.has(Keys.revoked(profile, device))) return true
  }
  return false
}

/** Check a writer proof carried by an op: valid, for this project, its chain not revoked. */
export async function verified(ctx: Ctx, proof: unknown): Promise<VerifiedWriter> {
  const v = verifyWriterProof(proof, ctx.discoveryKey)
  if (v === null) throw new Skip('invalid writer proof')
  if (await isRevoked(ctx.b, v.profile, v.chain)) throw new Skip('device revoked')
  return v
}

export function writerRecord(ctx: Ctx, v: VerifiedWriter): WriterRecord {
  return {
    writer: v.writer,
    profile: v.profile,
    device: v.device,
    delegated: v.delegated,
    expiresAt: v.expiresAt,
    chain: v.chain,
    addedAt: ctx.ts,
    removed: false
  }
}

/**
 * This op as a write to a register, at its merge time. Under causal rule 3 two clamped writes
 * tie within MAX_CLOCK_SKEW (merge.ts `wins`); projects made before keep their rule.
 */
export function write(ctx: Ctx, op: { id: OpId; prev: OpId | null }): Write {
  const w: Write = { id: op.id, ts: ctx.mergeTs, over: ctx.over, prev: op.prev }
  if ((ctx.sys.causal ?? 1) >= 3) w.tie = MAX_CLOCK_SKEW
  return w
}

/** A register holding `value`, set by this op at its effective time. */
export function reg<T>(ctx: Ctx, op: Op, value: T): Register<T> {
  const r: Register<T> = {
    value,
    id: op.id,
    ts: ctx.mergeTs,
    by: ctx.writer?.profile ?? ctx.author
  }
  if (ctx.over > 0) r.over = ctx.over // kept only when clamped: most registers never are
  return r
}

export async function liveWriter(b: ViewTx, writer: HexKey): Promise<boolean> {
  const w = await b.get<WriterRecord>(Keys.writer(writer))
  return w !== null && !w.removed
}

export async function writersOf(b: ViewTx, member: MemberRecord): Promise<WriterRecord[]> {
  const out: WriterRecord[] = []
  for (const key of member.writers) {
    const w = await b.get<WriterRecord>(Keys.writer(key))
    if (w !== null) out.push(w)
  }
  return out
}

export async function activeMember(b: ViewTx, profile: HexKey): Promise<MemberRecord | null> {
  const m = await b.get<MemberRecord>(Keys.member(profile))
  return m === null || m.removed ? null : m
}

export function requireRole(me: MemberRecord, role: Role): void {
  if (role === 'admin' && me.role !== 'admin') throw new Skip('requires the admin role')
}

export async function countAdmins(b: ViewTx): Promise<number> {
  let n = 0
  for (const profile of await memberIndex(b)) {
    const m = await activeMember(b, profile)
    if (m !== null && m.role === 'admin') n++
  }
  return n
}

/** Every profile ever added, in order (a batch cannot range-scan, and members are few). */
async function memberIndex(b: ViewTx): Promise<HexKey[]> {
  return (await b.get<HexKey[]>(Keys.memberIndex)) ?? []
}

export async function indexMember(b: ViewTx, profile: HexKey): Promise<void> {
  const index = await memberIndex(b)
  if (index.includes(profile)) return
  index.push(profile)
  await b.put(Keys.memberIndex, index)
}
