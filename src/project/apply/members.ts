/** Handlers for membership: members, their writers (devices), roles, names and cards. */
import { Skip } from '../../autobase/runner.js'
import { wins } from '../../autobase/merge.js'
import { Keys, type MemberRecord, type WriterRecord } from '../../views/project.js'
import type { HexKey, Op } from '../ops.js'
import type { ViewTx } from '../../autobase/tx.js'
import * as invites from './invites.js'
import { MEMBERSHIP } from './indexing.js'
import {
  activeMember,
  countAdmins,
  indexMember,
  liveWriter,
  reg,
  requireRole,
  verified,
  write,
  writerRecord,
  type MemberCtx
} from './context.js'

type OpOf<T extends Op['type']> = Extract<Op, { type: T }>

/**
 * Any member adds a member with its first writer's proof. With an invite recorded in the
 * project, the invite gives the role and counts the use (see invites.ts); without one, only an
 * admin adds an admin.
 */
export async function add(ctx: MemberCtx, op: OpOf<'member/add'>): Promise<void> {
  const { b } = ctx
  const v = await verified(ctx, op.as)
  const existing = await b.get<MemberRecord>(Keys.member(v.profile))
  if (existing !== null && !existing.removed) throw new Skip('already a member')
  if (await liveWriter(b, v.writer)) throw new Skip('writer already added')
  const invite = await invites.use(ctx, op.invite, v.writer)
  const role = invite?.role ?? op.role
  if (invite === null && role === 'admin') requireRole(ctx.self, 'admin')
  const record: MemberRecord = {
    profile: v.profile,
    role,
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
  ctx.marks.add(MEMBERSHIP)
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
  ctx.marks.add(MEMBERSHIP)
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
  ctx.marks.add(MEMBERSHIP)
}

/**
 * Admins remove members; a member removes itself (the creator too). Nobody removes the last
 * admin but the last admin itself, leaving: admin rights then pass to the member who joined
 * first. Writers that index are removed from Autobase only once others index in their place
 * (indexing.ts); the others at once.
 */
export async function remove(ctx: MemberCtx, op: OpOf<'member/remove'>): Promise<void> {
  const { b } = ctx
  const leaving = op.profile === ctx.writer.profile
  if (!leaving) requireRole(ctx.self, 'admin')
  const target = await activeMember(b, op.profile)
  if (target === null) throw new Skip('target is not a member')
  const lastAdmin = target.role === 'admin' && (await countAdmins(b)) <= 1
  if (lastAdmin && !leaving) throw new Skip('cannot remove the last admin')
  const heir = lastAdmin ? await firstMemberBut(b, op.profile) : null
  if (lastAdmin && heir === null) throw new Skip('the last member cannot leave the project')
  if (heir !== null) {
    heir.role = 'admin'
    await b.put(Keys.member(heir.profile), heir)
  }
  target.removed = true
  await b.put(Keys.member(op.profile), target)
  ctx.sys.members--
  ctx.marks.add(MEMBERSHIP)
  const indexing = new Set(
    [...ctx.host.system.indexers.map((i) => i.key), ...ctx.host.system.pendingIndexers].map((k) =>
      k.toString('hex')
    )
  )
  for (const key of target.writers) {
    const w = await b.get<WriterRecord>(Keys.writer(key))
    if (w === null || w.removed) continue
    w.removed = true
    await b.put(Keys.writer(key), w)
    if (indexing.has(key)) continue
    const buf = Buffer.from(key, 'hex')
    if (ctx.host.removeable(buf)) await ctx.host.removeWriter(buf)
  }
}

/** The active member who joined first, other than `profile`. */
async function firstMemberBut(b: ViewTx, profile: HexKey): Promise<MemberRecord | null> {
  for (const p of (await b.get<HexKey[]>(Keys.memberIndex)) ?? []) {
    if (p === profile) continue
    const m = await activeMember(b, p)
    if (m !== null) return m
  }
  return null
}

export async function name(ctx: MemberCtx, op: OpOf<'member/name'>): Promise<void> {
  const { self } = ctx
  if (wins(self.name, write(ctx, op))) {
    self.name = reg(ctx, op, op.name)
    await ctx.b.put(Keys.member(ctx.writer.profile), self)
  }
}

export async function card(ctx: MemberCtx, op: OpOf<'member/card'>): Promise<void> {
  ctx.self.card = op.card
  await ctx.b.put(Keys.member(ctx.writer.profile), ctx.self)
}
