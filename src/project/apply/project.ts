/** Handlers for the project record: its creation, its details, archiving. */
import { Skip } from '../../autobase/runner.js'
import { wins } from '../../autobase/merge.js'
import { Keys, type MemberRecord, type ProjectRecord } from '../../views/project.js'
import type { Op } from '../ops.js'
import {
  indexMember,
  reg,
  requireRole,
  verified,
  write,
  writerRecord,
  type Ctx,
  type MemberCtx
} from './context.js'
import { MEMBERSHIP } from './indexing.js'

type OpOf<T extends Op['type']> = Extract<Op, { type: T }>

/** The bootstrap writer creates the project, once, with a valid proof of a full device. */
export async function init(ctx: Ctx, op: OpOf<'project/init'>): Promise<void> {
  const { b } = ctx
  if ((await b.get<ProjectRecord>(Keys.project)) !== null) {
    throw new Skip('project already initialised')
  }
  if (ctx.author !== ctx.bootstrap) throw new Skip('only the creator may initialise the project')
  const v = await verified(ctx, op.as)
  if (v.writer !== ctx.author) throw new Skip('the writer proof is for another writer')
  if (v.delegated) throw new Skip('a delegated device cannot create a project')
  const record: ProjectRecord = {
    name: reg(ctx, op, op.name),
    description: reg(ctx, op, op.description),
    archived: reg(ctx, op, false),
    public: op.public,
    creator: v.profile,
    creatorWriter: ctx.author,
    createdAt: ctx.ts,
    initOp: op.id
  }
  // registers written at init name the creating profile
  for (const r of [record.name, record.description, record.archived]) r.by = v.profile
  const member: MemberRecord = {
    profile: v.profile,
    role: 'admin',
    name: null,
    addedBy: v.profile,
    addedAt: ctx.ts,
    invite: null,
    removed: false,
    card: null,
    writers: [v.writer]
  }
  await b.put(Keys.project, record)
  await b.put(Keys.member(v.profile), member)
  await b.put(Keys.writer(v.writer), writerRecord(ctx, v))
  await indexMember(b, v.profile)
  ctx.sys.members = 1
  if (op.layout !== undefined) ctx.sys.layout = op.layout
  if (op.causal !== undefined) ctx.sys.causal = op.causal
  ctx.marks.add(MEMBERSHIP)
}

export async function set(ctx: MemberCtx, op: OpOf<'project/set'>): Promise<void> {
  requireRole(ctx.self, 'admin')
  const { project } = ctx
  if (wins(project[op.field], write(ctx, op))) {
    project[op.field] = reg(ctx, op, op.value)
    await ctx.b.put(Keys.project, project)
  }
}

export async function archive(ctx: MemberCtx, op: OpOf<'project/archive'>): Promise<void> {
  requireRole(ctx.self, 'admin')
  const { project } = ctx
  if (wins(project.archived, write(ctx, op))) {
    project.archived = reg(ctx, op, op.archived)
    await ctx.b.put(Keys.project, project)
  }
}

/** The group's replica target: a register, like the project's details. */
export async function replicas(ctx: MemberCtx, op: OpOf<'project/replicas'>): Promise<void> {
  requireRole(ctx.self, 'admin')
  const { project } = ctx
  if (wins(project.replicas ?? null, { id: op.id, ts: ctx.ts, prev: op.prev })) {
    project.replicas = reg(ctx, op, op.replicas)
    await ctx.b.put(Keys.project, project)
  }
}
