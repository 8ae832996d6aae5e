/** Handlers for what members make together: posts, tasks and key/value records. */
import { Skip } from '../../autobase/runner.js'
import type { ViewTx } from '../../autobase/tx.js'
import { wins, type Register } from '../../autobase/merge.js'
import {
  Keys,
  PAGE_BYTES,
  PAGE_POSTS,
  PAGE3_BYTES,
  PAGE3_POSTS,
  pageEntry,
  pagePosts,
  paged,
  type KvRecord,
  type Page3,
  type PostRecord,
  type TaskRecord
} from '../../views/project.js'
import type { Op } from '../ops.js'
import { activeMember, reg, write, type MemberCtx } from './context.js'

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
  if (paged(ctx.sys.layout)) {
    const start = await pagePost(ctx, op, record)
    ctx.numbered?.(op.id, ctx.sys.posts + 1, start)
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
 * Layouts 2 and 3: the post goes to the open page (a new one once it holds PAGE_POSTS posts or
 * PAGE_BYTES bytes); a reply names its parent by id and number, and the page of that number
 * must hold that id. In layout 2 the open page is kept in the system record, across apply
 * calls; in layout 3 only within this apply call (and for one author's device), so a page is
 * written once. Returns the number of the page's first post.
 */
async function pagePost(ctx: MemberCtx, op: OpOf<'post/add'>, record: PostRecord): Promise<number> {
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
  let start: number
  if (sys.layout === 2) {
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
    start = open.start
  } else {
    const entry = JSON.stringify(pageEntry(record))
    const bytes = Buffer.byteLength(entry) + 1
    let open = openPages.get(b)
    // an op rolled back after its put (an unexpected error) left the page as it was before
    // it: the page, not this note, says what it holds
    if (open !== undefined && b.textOf(Keys.page(open.start)) !== open.text) {
      const stored = await b.get<Page3>(Keys.page(open.start))
      open.entries = (stored?.p ?? []).map((e) => JSON.stringify(e))
      open.text = pageText(open, open.entries)
      open.bytes = Buffer.byteLength(open.text)
    }
    if (
      open === undefined ||
      open.entries.length >= PAGE3_POSTS ||
      open.bytes + bytes > PAGE3_BYTES ||
      open.author !== record.author ||
      open.device !== record.device
    ) {
      const fresh = { author: record.author, device: record.device }
      const text = pageText(fresh, [])
      open = { ...fresh, start: n, entries: [], text, bytes: Buffer.byteLength(text) }
      openPages.set(b, open)
    }
    open.entries.push(entry)
    open.text = pageText(open, open.entries)
    open.bytes += bytes
    await b.putJson(Keys.page(open.start), open.text)
    start = open.start
  }
  if (op.replyTo !== null) await b.put(Keys.reply(op.replyTo, record.seq), n)
  return start
}

/**
 * Layout 3: the page open in each apply call (one transaction per call), with its posts as
 * JSON text. Kept beside the transaction, not in the view: the next call starts a page of its
 * own.
 */
interface OpenPage3 {
  /** The number of its first post. */
  start: number
  author: string
  device: string
  /** Each post's JSON, the page's as last put, and its size as counted for the bound. */
  entries: string[]
  text: string
  bytes: number
}
const openPages = new WeakMap<ViewTx, OpenPage3>()

/** A layout 3 page's JSON, exactly as `JSON.stringify` makes it of a {@link Page3}. */
function pageText(who: { author: string; device: string }, entries: string[]): string {
  const page: Page3 = { a: who.author, d: who.device, p: [] }
  return `${JSON.stringify(page).slice(0, -2)}${entries.join(',')}]}`
}

/** The page holding post number `n` (layouts 2 and 3), with the number of its first post. */
export async function postPage(
  b: ViewTx,
  n: number
): Promise<{ start: number; posts: PostRecord[] } | null> {
  const key = await b.floor(Keys.pagePrefix, Keys.page(n))
  if (key === null) return null
  const posts = pagePosts(await b.get<unknown>(key))
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
  if (wins(current, write(ctx, op))) {
    ;(task as unknown as Record<string, Register<unknown>>)[op.field] = reg(ctx, op, op.value)
    await b.put(Keys.task(op.task), task)
  }
}

export async function record(ctx: MemberCtx, op: OpOf<'kv/set' | 'kv/del'>): Promise<void> {
  const { b } = ctx
  const current = await b.get<KvRecord>(Keys.kv(op.key))
  if (wins(current, write(ctx, op))) {
    const value = op.type === 'kv/set' ? op.value : null
    const next: KvRecord = { ...reg(ctx, op, value), deleted: op.type === 'kv/del' }
    await b.put(Keys.kv(op.key), next)
  }
}
