/** Handlers for a profile's devices within a project: revocation and the end of delegations. */
import { Skip } from '../../autobase/runner.js'
import { Keys, type RevokedRecord } from '../../views/project.js'
import type { Op } from '../ops.js'
import { writersOf, type MemberCtx } from './context.js'
import { MEMBERSHIP } from './indexing.js'

type OpOf<T extends Op['type']> = Extract<Op, { type: T }>

/** A full device revokes a device of its profile (never one it was linked through). */
export async function revoke(ctx: MemberCtx, op: OpOf<'device/revoke'>): Promise<void> {
  const { b, writer } = ctx
  if (writer.delegated) throw new Skip('a delegated device cannot revoke devices')
  if (op.device !== writer.device && writer.chain.includes(op.device)) {
    throw new Skip('a device cannot revoke a device it was linked through')
  }
  const key = Keys.revoked(writer.profile, op.device)
  if (await b.has(key)) throw new Skip('device already revoked')
  const record: RevokedRecord = {
    profile: writer.profile,
    device: op.device,
    by: writer.device,
    at: ctx.ts
  }
  await b.put(key, record)
  // its writers stay in the Autobase (their blocks are still linearized, so a revoked
  // device that keeps writing is skipped the same way everywhere) but are marked removed
  for (const w of await writersOf(b, ctx.self)) {
    if (w.removed || !w.chain.includes(op.device)) continue
    w.removed = true
    await b.put(Keys.writer(w.writer), w)
  }
  ctx.marks.add(MEMBERSHIP)
}

/** A full device ends a delegation of its profile once its clock passed the expiry. */
export async function expire(ctx: MemberCtx, op: OpOf<'device/expire'>): Promise<void> {
  const { b } = ctx
  if (ctx.writer.delegated) throw new Skip('a delegated device cannot end delegations')
  let ended = 0
  for (const w of await writersOf(b, ctx.self)) {
    if (w.removed || !w.delegated || w.device !== op.device) continue
    if (op.ts < (w.expiresAt ?? 0)) throw new Skip('the delegation has not expired yet')
    w.removed = true
    await b.put(Keys.writer(w.writer), w)
    ended++
  }
  if (ended === 0) throw new Skip('no live delegation for that device')
  ctx.marks.add(MEMBERSHIP)
}
