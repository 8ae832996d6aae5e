/**
 * Credits in apply: contributions counted from the author's own accepted ops, attestations
 * checked and counted (never by the subject itself, only between live members, once each,
 * within each signer's budget per epoch, for this project only), decay set by an admin, and
 * achievements recorded with the op that unlocked them. See src/project/credits.ts.
 */
import { Skip } from '../../autobase/runner.js'
import { wins } from '../../autobase/merge.js'
import { Keys } from '../../views/project.js'
import {
  BUDGET,
  EPOCH_SLACK,
  crossed,
  emptyCredits,
  epochOf,
  type AchievementRecord,
  type CreditKind,
  type CreditRecord,
  type EvidenceRecord
} from '../credits.js'
import type { HexKey, Op } from '../ops.js'
import { activeMember, reg, requireRole, type MemberCtx } from './context.js'

type OpOf<T extends Op['type']> = Extract<Op, { type: T }>

/** Ops that count as a contribution of their author once accepted. */
export function isContribution(op: Op): boolean {
  return (
    op.type === 'post/add' ||
    op.type === 'task/add' ||
    op.type === 'kv/set' ||
    (op.type === 'task/set' && op.field === 'done' && op.value === true)
  )
}

export async function contribute(ctx: MemberCtx, op: Op): Promise<void> {
  await credit(ctx, ctx.writer.profile, 'contributions', op)
}

export async function attest(ctx: MemberCtx, op: OpOf<'credit/attest'>): Promise<void> {
  const { b } = ctx
  const signer = ctx.writer.profile
  if (op.project !== ctx.bootstrap) throw new Skip('evidence for another project')
  if (op.subject === signer) throw new Skip('no one attests for itself')
  if ((await activeMember(b, op.subject)) === null) throw new Skip('subject is not a member')
  const now = epochOf(ctx.ts)
  if (op.epoch > now || op.epoch < now - EPOCH_SLACK) throw new Skip('epoch out of range')
  const key = Keys.evidence(op.subject, op.kind, op.epoch, signer)
  if (await b.has(key)) throw new Skip('evidence already counted')
  if (op.kind === 'support') {
    // the helped member attests the member that let it in, once
    if (ctx.self.addedBy !== op.subject) throw new Skip('support for a member who did not help')
    if (await b.has(Keys.supported(signer))) throw new Skip('support already attested')
  }
  const budgetKey = Keys.budget(signer, now)
  const spent = (await b.get<number>(budgetKey)) ?? 0
  if (spent >= BUDGET) throw new Skip('over the signer’s budget for this epoch')
  await b.put(budgetKey, spent + 1)
  let counted = true
  if (op.kind === 'uptime') {
    // an epoch online counts once, however many members saw it
    const mark = Keys.uptimeMark(op.subject, op.epoch)
    counted = !(await b.has(mark))
    if (counted) await b.put(mark, op.id)
  }
  if (op.kind === 'support') await b.put(Keys.supported(signer), op.id)
  const evidence: EvidenceRecord = {
    kind: op.kind,
    subject: op.subject,
    signer,
    epoch: op.epoch,
    op: op.id,
    ts: ctx.ts,
    counted
  }
  await b.put(key, evidence)
  if (counted) await credit(ctx, op.subject, op.kind, op)
}

export async function decay(ctx: MemberCtx, op: OpOf<'credits/decay'>): Promise<void> {
  requireRole(ctx.self, 'admin')
  const { project } = ctx
  if (wins(project.decay ?? null, { id: op.id, ts: ctx.ts, prev: op.prev })) {
    project.decay = reg(ctx, op, op.percent)
    await ctx.b.put(Keys.project, project)
  }
}

/** Add one credit of `kind` to `profile`, and record the achievements it unlocks. */
async function credit(ctx: MemberCtx, profile: HexKey, kind: CreditKind, op: Op): Promise<void> {
  const { b } = ctx
  const record = (await b.get<CreditRecord>(Keys.credit(profile))) ?? emptyCredits(profile)
  const before = record[kind]
  record[kind] = before + 1
  record.lastEpoch = Math.max(record.lastEpoch, epochOf(ctx.ts))
  await b.put(Keys.credit(profile), record)
  for (const rule of crossed(kind, before, before + 1)) {
    const a: AchievementRecord = { id: rule.id, profile, op: op.id, ts: ctx.ts, value: before + 1 }
    await b.put(Keys.achievement(profile, rule.id), a)
  }
}
