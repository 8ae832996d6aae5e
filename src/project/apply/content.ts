/** Handlers for what members make together: posts, tasks and key/value records. */
import { Skip } from '../../autobase/runner.js'
import { wins, type Register } from '../../autobase/merge.js'
import { Keys, type KvRecord, type PostRecord, type TaskRecord } from '../../views/project.js'
import type { Op } from '../ops.js'
import { activeMember, reg, type MemberCtx } from './context.js'

type OpOf<T extends Op['type']> = Extract<Op, { type: T }>

export async function post(ctx: MemberCtx, op: OpOf<'post/add'>): Promise<void> {
  const { b } = ctx
  if (op.replyTo !== null && !(await b.has(Keys.post(op.replyTo)))) {
    throw new Skip('reply to an unknown post')
  }
  const seq = ctx.sys.applied + 1
  const record: PostRecord = {
    id: op.id,
    seq,
    author: ctx.writer.profile,
    device: ctx.writer.device,
    text: op.text,
    replyTo: op.replyTo,
    ts: ctx.ts
  }
  await b.put(Keys.post(op.id), record)
  await b.put(Keys.feed(seq), op.id)
  if (op.replyTo !== null) await b.put(Keys.reply(op.replyTo, seq), op.id)
  ctx.sys.posts++
}

export async function addTask(ctx: MemberCtx, op: OpOf<'task/add'>): Promise<void> {
  const { b } = ctx
  if (op.assignee !== null && (await activeMember(b, op.assignee)) === null) {
    throw new Skip('assignee is not a member')
  }
  const seq = ctx.sys.applied + 1
  const task: TaskRecord = {
    id: op.id,
    seq,
    createdBy: ctx.writer.profile,
    createdAt: ctx.ts,
    title: reg(ctx, op, op.title),
    assignee: reg(ctx, op, op.assignee),
    done: reg(ctx, op, false)
  }
  await b.put(Keys.task(op.id), task)
  await b.put(Keys.taskOrder(seq), op.id)
  ctx.sys.tasks++
}

export async function setTask(ctx: MemberCtx, op: OpOf<'task/set'>): Promise<void> {
  const { b } = ctx
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
  if (wins(current, { id: op.id, ts: ctx.mergeTs, over: ctx.over, prev: op.prev })) {
    ;(task as unknown as Record<string, Register<unknown>>)[op.field] = reg(ctx, op, op.value)
    await b.put(Keys.task(op.task), task)
  }
}

export async function record(ctx: MemberCtx, op: OpOf<'kv/set' | 'kv/del'>): Promise<void> {
  const { b } = ctx
  const current = await b.get<KvRecord>(Keys.kv(op.key))
  if (wins(current, { id: op.id, ts: ctx.mergeTs, over: ctx.over, prev: op.prev })) {
    const value = op.type === 'kv/set' ? op.value : null
    const next: KvRecord = { ...reg(ctx, op, value), deleted: op.type === 'kv/del' }
    await b.put(Keys.kv(op.key), next)
  }
}
