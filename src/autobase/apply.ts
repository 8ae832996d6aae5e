/**
 * apply: folds linearized ops into the project view. Pure and deterministic: no clock,
 * no randomness, no network. Never throws on peer input: a bad op is recorded as skipped,
 * identically on every peer, and the project keeps working.
 */
import type Autobase from 'autobase'
import type Hyperbee from 'hyperbee'
import { decodeBlock, type HexKey, type Op, type Role, type Validation } from './ops.js'
import { effectiveTs, wins, type Register } from './merge.js'
import {
  Keys,
  emptySystem,
  type KvRecord,
  type MemberRecord,
  type PostRecord,
  type ProjectRecord,
  type SkipRecord,
  type SystemRecord,
  type TaskRecord
} from '../views/layout.js'
import { ViewTx } from '../views/tx.js'

type Batch = ViewTx

/** Thrown inside a handler to skip the op; caught by the loop, never escapes apply. */
class Skip {
  constructor(readonly reason: string) {}
}

interface Ctx {
  b: Batch
  host: Autobase.ApplyHost
  sys: SystemRecord
  author: HexKey
  /** Effective timestamp of the op being applied. */
  ts: number
  bootstrap: HexKey
}

export interface ApplyOptions {
  /** The project's bootstrap key (hex): the creator's writer core, the only one that may init. */
  bootstrap: HexKey
}

export function createApply(opts: ApplyOptions) {
  return async function apply(
    nodes: Autobase.ApplyNode[],
    view: Hyperbee,
    host: Autobase.ApplyHost
  ): Promise<void> {
    const b = new ViewTx(view.batch())
    const sys = (await b.get<SystemRecord>(Keys.system)) ?? emptySystem()
    for (const node of nodes) {
      if (node.value === null) continue
      const author = node.from.key.toString('hex')
      for (const decoded of decodeBlock(node.value)) {
        await applyOne(b, host, sys, author, opts.bootstrap, decoded)
      }
    }
    await b.put(Keys.system, sys)
    await b.flush()
  }
}

async function applyOne(
  b: Batch,
  host: Autobase.ApplyHost,
  sys: SystemRecord,
  author: HexKey,
  bootstrap: HexKey,
  decoded: Validation
): Promise<void> {
  if (!decoded.ok) {
    await skip(b, sys, author, null, decoded.reason)
    return
  }
  const op = decoded.op
  // A repeated op id changes nothing at all, not even the skip counter: after a kill -9
  // during an append, Autobase can replay the in-flight op on the crashed node only, so
  // recording the replay would make that node's state differ from its peers'.
  if (await b.has(dedupKey(op))) return
  const ctx: Ctx = { b, host, sys, author, ts: effectiveTs(op.ts, sys.clocks), bootstrap }
  try {
    await applyOp(ctx, op)
  } catch (err) {
    if (err instanceof Skip) {
      await skip(b, sys, author, op, err.reason)
      return
    }
    throw err
  }
  sys.applied++
  sys.clocks[author] = Math.max(sys.clocks[author] ?? 0, op.ts)
  if (!createsEntity(op)) await b.put(Keys.op(op.id), { seq: sys.applied, writer: author })
}

/** Posts and tasks are keyed by their op id: their own record marks them applied. */
function createsEntity(op: Op): boolean {
  return op.type === 'post/add' || op.type === 'task/add'
}

function dedupKey(op: Op): string {
  if (op.type === 'post/add') return Keys.post(op.id)
  if (op.type === 'task/add') return Keys.task(op.id)
  return Keys.op(op.id)
}

async function skip(b: Batch, sys: SystemRecord, writer: HexKey, op: Op | null, reason: string) {
  sys.skipped++
  const record: SkipRecord = {
    seq: sys.skipped,
    writer,
    id: op?.id ?? null,
    type: op?.type ?? null,
    reason
  }
  await b.put(Keys.skip(sys.skipped), record)
}

function reg<T>(ctx: Ctx, op: Op, value: T): Register<T> {
  return { value, id: op.id, ts: ctx.ts, by: ctx.author }
}

async function applyOp(ctx: Ctx, op: Op): Promise<void> {
  const { b } = ctx
  const project = await b.get<ProjectRecord>(Keys.project)

  if (op.type === 'project/init') {
    if (project !== null) throw new Skip('project already initialised')
    if (ctx.author !== ctx.bootstrap) throw new Skip('only the creator may initialise the project')
    const record: ProjectRecord = {
      name: reg(ctx, op, op.name),
      description: reg(ctx, op, op.description),
      archived: reg(ctx, op, false),
      public: op.public,
      creator: ctx.author,
      createdAt: ctx.ts,
      initOp: op.id
    }
    const member: MemberRecord = {
      writer: ctx.author,
      role: 'admin',
      name: null,
      addedBy: ctx.author,
      addedAt: ctx.ts,
      invite: null,
      removed: false
    }
    await b.put(Keys.project, record)
    await b.put(Keys.member(ctx.author), member)
    await indexMember(b, ctx.author)
    ctx.sys.members = 1
    return
  }

  if (project === null) throw new Skip('project not initialised')
  const me = await activeMember(b, ctx.author)
  if (me === null) throw new Skip('writer is not a member')

  if (project.archived.value) {
    if (!(op.type === 'project/archive' && !op.archived)) throw new Skip('project is archived')
  }

  switch (op.type) {
    case 'project/set': {
      requireRole(me, 'admin')
      const current = project[op.field]
      if (wins(current, { id: op.id, ts: ctx.ts, prev: op.prev })) {
        project[op.field] = reg(ctx, op, op.value)
        await b.put(Keys.project, project)
      }
      return
    }
    case 'project/archive': {
      requireRole(me, 'admin')
      if (wins(project.archived, { id: op.id, ts: ctx.ts, prev: op.prev })) {
        project.archived = reg(ctx, op, op.archived)
        await b.put(Keys.project, project)
      }
      return
    }
    case 'member/add': {
      if (op.role === 'admin') requireRole(me, 'admin')
      const existing = await b.get<MemberRecord>(Keys.member(op.writer))
      if (existing !== null && !existing.removed) throw new Skip('already a member')
      const record: MemberRecord = {
        writer: op.writer,
        role: op.role,
        name: existing?.name ?? null,
        addedBy: ctx.author,
        addedAt: ctx.ts,
        invite: op.invite,
        removed: false
      }
      await b.put(Keys.member(op.writer), record)
      await indexMember(b, op.writer)
      ctx.sys.members++
      await ctx.host.addWriter(Buffer.from(op.writer, 'hex'), { indexer: false })
      return
    }
    case 'member/role': {
      requireRole(me, 'admin')
      const target = await activeMember(b, op.writer)
      if (target === null) throw new Skip('target is not a member')
      if (target.role === op.role) return
      if (target.role === 'admin' && (await countAdmins(b)) <= 1)
        throw new Skip('cannot demote the last admin')
      target.role = op.role
      await b.put(Keys.member(op.writer), target)
      return
    }
    case 'member/remove': {
      if (op.writer !== ctx.author) requireRole(me, 'admin')
      const target = await activeMember(b, op.writer)
      if (target === null) throw new Skip('target is not a member')
      if (op.writer === ctx.bootstrap)
        throw new Skip('the creator (the project indexer) cannot be removed')
      if (target.role === 'admin' && (await countAdmins(b)) <= 1)
        throw new Skip('cannot remove the last admin')
      target.removed = true
      await b.put(Keys.member(op.writer), target)
      ctx.sys.members--
      await ctx.host.removeWriter(Buffer.from(op.writer, 'hex'))
      return
    }
    case 'member/name': {
      if (wins(me.name, { id: op.id, ts: ctx.ts, prev: op.prev })) {
        me.name = reg(ctx, op, op.name)
        await b.put(Keys.member(ctx.author), me)
      }
      return
    }
    case 'post/add': {
      if (op.replyTo !== null && !(await b.has(Keys.post(op.replyTo)))) {
        throw new Skip('reply to an unknown post')
      }
      const seq = ctx.sys.applied + 1
      const post: PostRecord = {
        id: op.id,
        seq,
        author: ctx.author,
        text: op.text,
        replyTo: op.replyTo,
        ts: ctx.ts
      }
      await b.put(Keys.post(op.id), post)
      await b.put(Keys.feed(seq), op.id)
      if (op.replyTo !== null) await b.put(Keys.reply(op.replyTo, seq), op.id)
      ctx.sys.posts++
      return
    }
    case 'task/add': {
      if (op.assignee !== null && (await activeMember(b, op.assignee)) === null) {
        throw new Skip('assignee is not a member')
      }
      const seq = ctx.sys.applied + 1
      const task: TaskRecord = {
        id: op.id,
        seq,
        createdBy: ctx.author,
        createdAt: ctx.ts,
        title: reg(ctx, op, op.title),
        assignee: reg(ctx, op, op.assignee),
        done: reg(ctx, op, false)
      }
      await b.put(Keys.task(op.id), task)
      await b.put(Keys.taskOrder(seq), op.id)
      ctx.sys.tasks++
      return
    }
    case 'task/set': {
      const task = await b.get<TaskRecord>(Keys.task(op.task))
      if (task === null) throw new Skip('unknown task')
      if (
        op.field === 'assignee' &&
        op.value !== null &&
        (await activeMember(b, op.value as string)) === null
      ) {
        throw new Skip('assignee is not a member')
      }
      const current = task[op.field] as Register<unknown>
      if (wins(current, { id: op.id, ts: ctx.ts, prev: op.prev })) {
        ;(task as unknown as Record<string, Register<unknown>>)[op.field] = reg(ctx, op, op.value)
        await b.put(Keys.task(op.task), task)
      }
      return
    }
    case 'kv/set':
    case 'kv/del': {
      const current = await b.get<KvRecord>(Keys.kv(op.key))
      if (wins(current, { id: op.id, ts: ctx.ts, prev: op.prev })) {
        const value = op.type === 'kv/set' ? op.value : null
        const record: KvRecord = { ...reg(ctx, op, value), deleted: op.type === 'kv/del' }
        await b.put(Keys.kv(op.key), record)
      }
      return
    }
    default: {
      const never: never = op
      throw new Skip(`unhandled op ${(never as Op).type}`)
    }
  }
}

async function activeMember(b: Batch, writer: HexKey): Promise<MemberRecord | null> {
  const m = await b.get<MemberRecord>(Keys.member(writer))
  return m === null || m.removed ? null : m
}

function requireRole(me: MemberRecord, role: Role): void {
  if (role === 'admin' && me.role !== 'admin') throw new Skip('requires the admin role')
}

async function countAdmins(b: Batch): Promise<number> {
  let n = 0
  for (const writer of await memberIndex(b)) {
    const m = await activeMember(b, writer)
    if (m !== null && m.role === 'admin') n++
  }
  return n
}

/** Every writer ever added, in order (a batch cannot range-scan, and members are few). */
async function memberIndex(b: Batch): Promise<HexKey[]> {
  return (await b.get<HexKey[]>(Keys.memberIndex)) ?? []
}

async function indexMember(b: Batch, writer: HexKey): Promise<void> {
  const index = await memberIndex(b)
  if (index.includes(writer)) return
  index.push(writer)
  await b.put(Keys.memberIndex, index)
}
