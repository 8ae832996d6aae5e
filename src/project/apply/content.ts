/** Handlers for what members make together: posts, tasks and key/value records. */
import { Skip } from '../../autobase/runner.js'
import type { ViewTx } from '../../autobase/tx.js'
import { wins, type Register } from '../../autobase/merge.js'
import {
  Keys,
  PAGE_BYTES,
  PAGE_POSTS,
  type KvRecord,
  type PostRecord,
  type TaskRecord
} from '../../views/project.js'
import type { Op } from '../ops.js'
import { activeMember, reg, type MemberCtx } from './context.js'

type OpOf<T extends Op['type']> = Extract<Op, { type: T }>

export async function post(ctx: MemberCtx, op: OpOf<'post/add'>): Promise<void> {
  const { b } = ctx
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
  if (ctx.sys.layout === 2) {
    await pagePost(ctx, op, record)
  } else {
    if (op.replyTo !== null && !(await b.has(Keys.post(op.replyTo)))) {
      throw new Skip('reply to an unknown post')
    }
    await b.put(Keys.post(op.id), record)
    await b.put(Keys.feed(seq), op.id)
    if (op.replyTo !== null) await b.put(Keys.reply(op.replyTo, seq), op.id)
  }
  ctx.sys.posts++
}

/**
 * Layout 2: the post goes to the open page (a new one once it holds PAGE_POSTS posts or
 * PAGE_BYTES bytes); a reply names its parent by id and number, and the page of that number
 * must hold that id.
 */
async function pagePost(ctx: MemberCtx, op: OpOf<'post/add'>, record: PostRecord): Promise<void> {
  const { b, sys } = ctx
  if (op.replyTo !== null) {
    const at = op.replyAt
    if (at === undefined || at > sys.posts) throw new Skip('reply to an unknown post')
    const page = await postPage(b, at)
    if (page === null || page.posts[at - page.start]?.id !== op.replyTo) {
      throw new Skip('reply to an unknown post')
    }
  }
  const n = sys.posts + 1
  // the page's JSON: its brackets, and each post with a comma
  const bytes = Buffer.byteLength(JSON.stringify(record)) + 1
  let open = sys.page
  if (open === undefined || open.count >= PAGE_POSTS || open.bytes + bytes > PAGE_BYTES) {
    open = { start: n, count: 0, bytes: 2 }
  }
  const posts = open.count === 0 ? [] : ((await b.get<PostRecord[]>(Keys.page(open.start))) ?? [])
  posts.push(record)
  await b.put(Keys.page(open.start), posts)
  sys.page = { start: open.start, count: open.count + 1, bytes: open.bytes + bytes }
  if (op.replyTo !== null) await b.put(Keys.reply(op.replyTo, record.seq), n)
}

/** The page holding post number `n` (layout 2), with the number of its first post. */
export async function postPage(
  b: ViewTx,
  n: number
): Promise<{ start: number; posts: PostRecord[] } | null> {
  const key = await b.floor(Keys.pagePrefix, Keys.page(n))
  if (key === null) return null
  const posts = await b.get<PostRecord[]>(key)
  if (posts === null) return null
  return { start: Number(key.slice(Keys.pagePrefix.length)), posts }
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
