/** Handlers for membership: members, their writers (devices), roles, names and cards. */
import { Skip } from '../../autobase/runner.js'
import { wins } from '../../autobase/merge.js'
import { Keys, type MemberRecord, type WriterRecord } from '../../views/project.js'
import type { Op } from '../ops.js'
import {
  activeMember,
  countAdmins,
  indexMember,
  liveWriter,
  reg,
  requireRole,
  verified,
  writerRecord,
  type MemberCtx
} from './context.js'

type OpOf<T extends Op['type']> = Extract<Op, { type: T }>

/** Any member adds a member (admins only an admin), with its first writer's proof. */
export async function add(ctx: MemberCtx, op: OpOf<'member/add'>): Promise<void> {
  const { b } = ctx
  if (op.role === 'admin') requireRole(ctx.self, 'admin')
  const v = await verified(ctx, op.as)
  const existing = await b.get<MemberRecord>(Keys.member(v.profile))
  if (existing !== null && !existing.removed) throw new Skip('already a member')
  if (await liveWriter(b, v.writer)) throw new Skip('writer already added')
  const record: MemberRecord = {
    profile: v.profile,
    role: op.role,
    name: existing?.name ?? null,
    addedBy: ctx.writer.profile,
    addedAt: ctx.ts,
    invite: op.invite,
    removed: false,
    card: existing?.card ?? null,
    writers: [...new Set([...(existing?.writers ?? []), v.writer])]
  }
  await b.put(Keys.member(v.profile), record)
  await b.put(Keys.writer(v.writer), writerRecord(ctx, v))
  await indexMember(b, v.profile)
  ctx.sys.members++
  await ctx.host.addWriter(Buffer.from(v.writer, 'hex'), { indexer: false })
}

/** The authority is the proof itself: any member may carry another profile's device in. */
export async function addWriter(ctx: MemberCtx, op: OpOf<'writer/add'>): Promise<void> {
  const { b } = ctx
  const v = await verified(ctx, op.as)
  const target = await activeMember(b, v.profile)
  if (target === null) throw new Skip('that profile is not a member')
  // several members may carry the same request at once: the first one counts, the others
  // change nothing (not an error: each carrier acted correctly on what it knew)
  if (await liveWriter(b, v.writer)) return
  if (!target.writers.includes(v.writer)) target.writers.push(v.writer)
  await b.put(Keys.member(v.profile), target)
  await b.put(Keys.writer(v.writer), writerRecord(ctx, v))
  await ctx.host.addWriter(Buffer.from(v.writer, 'hex'), { indexer: false })
}

export async function role(ctx: MemberCtx, op: OpOf<'member/role'>): Promise<void> {
  const { b } = ctx
  requireRole(ctx.self, 'admin')
  const target = await activeMember(b, op.profile)
  if (target === null) throw new Skip('target is not a member')
  if (target.role === op.role) return
  if (target.role === 'admin' && (await countAdmins(b)) <= 1) {
    throw new Skip('cannot demote the last admin')
  }
  target.role = op.role
  await b.put(Keys.member(op.profile), target)
}

/** Admins remove members; a member removes itself. Never the creator nor the last admin. */
export async function remove(ctx: MemberCtx, op: OpOf<'member/remove'>): Promise<void> {
  const { b } = ctx
  if (op.profile !== ctx.writer.profile) requireRole(ctx.self, 'admin')
  const target = await activeMember(b, op.profile)
  if (target === null) throw new Skip('target is not a member')
  if (op.profile === ctx.project.creator) {
    throw new Skip('the creator (the project indexer) cannot be removed')
  }
  if (target.role === 'admin' && (await countAdmins(b)) <= 1) {
    throw new Skip('cannot remove the last admin')
  }
  target.removed = true
  await b.put(Keys.member(op.profile), target)
  ctx.sys.members--
  for (const key of target.writers) {
    const w = await b.get<WriterRecord>(Keys.writer(key))
    if (w === null || w.removed) continue
    w.removed = true
    await b.put(Keys.writer(key), w)
    await ctx.host.removeWriter(Buffer.from(key, 'hex'))
  }
}

export async function name(ctx: MemberCtx, op: OpOf<'member/name'>): Promise<void> {
  const { self } = ctx
  if (wins(self.name, { id: op.id, ts: ctx.ts, prev: op.prev })) {
    self.name = reg(ctx, op, op.name)
    await ctx.b.put(Keys.member(ctx.writer.profile), self)
  }
}

export async function card(ctx: MemberCtx, op: OpOf<'member/card'>): Promise<void> {
  ctx.self.card = op.card
  await ctx.b.put(Keys.member(ctx.writer.profile), ctx.self)
}
