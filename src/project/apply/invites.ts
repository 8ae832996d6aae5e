/**
 * Handlers for invites recorded in the project: any member may admit with an open one, and
 * apply counts its uses and checks its expiry, so that two members admitting the last use at
 * the same moment give one winner on every peer.
 */
import { Skip } from '../../autobase/runner.js'
import { Keys, type DeniedRecord, type InviteRecord } from '../../views/project.js'
import type { HexKey, Op } from '../ops.js'
import { requireRole, type MemberCtx } from './context.js'

type OpOf<T extends Op['type']> = Extract<Op, { type: T }>

/** Any member records an invite for members; only admins for admins. */
export async function add(ctx: MemberCtx, op: OpOf<'invite/add'>): Promise<void> {
  const { b } = ctx
  if (op.invite.role === 'admin') requireRole(ctx.self, 'admin')
  if (await b.has(Keys.invite(op.invite.id))) throw new Skip('invite already recorded')
  const record: InviteRecord = {
    ...op.invite,
    used: 0,
    admitted: [],
    revoked: false,
    by: ctx.writer.profile,
    at: ctx.ts
  }
  await b.put(Keys.invite(op.invite.id), record)
}

/** Admins, or the member who made it, revoke an invite. */
export async function revoke(ctx: MemberCtx, op: OpOf<'invite/revoke'>): Promise<void> {
  const { b } = ctx
  const record = await b.get<InviteRecord>(Keys.invite(op.invite))
  if (record === null) throw new Skip('unknown invite')
  if (record.by !== ctx.writer.profile) requireRole(ctx.self, 'admin')
  if (record.revoked) throw new Skip('invite already revoked')
  record.revoked = true
  await b.put(Keys.invite(op.invite), record)
}

/**
 * A member/add naming a recorded invite uses it: revoked, expired (by the op's time) or used
 * up, it is skipped, and the joiner's writer is marked denied so that the joiner learns why.
 * Returns the role the invite gives, or null when the op names no recorded invite.
 */
export async function use(
  ctx: MemberCtx,
  inviteId: HexKey | null,
  writer: HexKey
): Promise<InviteRecord | null> {
  if (inviteId === null) return null
  const { b } = ctx
  const record = await b.get<InviteRecord>(Keys.invite(inviteId))
  if (record === null) return null
  const why = record.revoked
    ? 'invite revoked'
    : ctx.ts > record.expires
      ? 'invite expired'
      : record.used >= record.uses
        ? 'invite used up'
        : null
  if (why !== null) {
    const denied: DeniedRecord = { writer, invite: inviteId, reason: why }
    await b.put(Keys.denied(writer), denied)
    throw new Skip(why)
  }
  record.used++
  record.admitted.push(writer)
  await b.put(Keys.invite(inviteId), record)
  return record
}
