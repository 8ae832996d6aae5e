/**
 * The key layout of a project's Hyperbee view, and the records stored under it.
 * This file is the only place that knows the layout: apply writes through these helpers,
 * queries read through them.
 */
import type { HexKey, JsonValue, OpId, Role } from '../autobase/ops.js'
import type { Register } from '../autobase/merge.js'

export interface ProjectRecord {
  name: Register<string>
  description: Register<string>
  archived: Register<boolean>
  public: boolean
  creator: HexKey
  createdAt: number
  initOp: OpId
}

export interface MemberRecord {
  writer: HexKey
  role: Role
  name: Register<string> | null
  addedBy: HexKey
  addedAt: number
  invite: string | null
  removed: boolean
}

export interface PostRecord {
  id: OpId
  seq: number
  author: HexKey
  text: string
  replyTo: OpId | null
  ts: number
}

export interface TaskRecord {
  id: OpId
  seq: number
  createdBy: HexKey
  createdAt: number
  title: Register<string>
  assignee: Register<HexKey | null>
  done: Register<boolean>
}

export type KvRecord = Register<JsonValue> & { deleted: boolean }

/** Counters and clocks kept by apply. */
export interface SystemRecord {
  /** Ops applied (accepted) so far; also the feed and task sequence. */
  applied: number
  /** Ops skipped as invalid or not allowed. */
  skipped: number
  /** Counts kept by apply so that summaries never scan the view. */
  posts: number
  tasks: number
  /** Active members. */
  members: number
  /** Latest timestamp reported by each writer (hex), for the mesh clock. */
  clocks: Record<string, number>
}

export interface SkipRecord {
  seq: number
  writer: HexKey
  id: string | null
  type: string | null
  reason: string
}

const pad = (n: number): string => n.toString().padStart(12, '0')

export const Keys = {
  system: 'sys',
  project: 'project',
  op: (id: OpId) => `op/${id}`,
  member: (writer: HexKey) => `member/${writer}`,
  memberPrefix: 'member/',
  memberIndex: 'members',
  post: (id: OpId) => `post/${id}`,
  feed: (seq: number) => `feed/${pad(seq)}`,
  feedPrefix: 'feed/',
  reply: (parent: OpId, seq: number) => `reply/${parent}/${pad(seq)}`,
  replyPrefix: (parent: OpId) => `reply/${parent}/`,
  task: (id: OpId) => `task/${id}`,
  taskOrder: (seq: number) => `tasks/${pad(seq)}`,
  taskOrderPrefix: 'tasks/',
  kv: (key: string) => `kv/${key}`,
  kvPrefix: 'kv/',
  skip: (seq: number) => `skip/${pad(seq)}`,
  skipPrefix: 'skip/'
} as const

/** Upper bound for a prefix range scan. */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
}

export function emptySystem(): SystemRecord {
  return { applied: 0, skipped: 0, posts: 0, tasks: 0, members: 0, clocks: {} }
}
