/**
 * The key layout of a project's Hyperbee view, and the records stored under it.
 * This file is the only place that knows the layout: apply writes through these helpers,
 * queries read through them.
 */
import type { HexKey, JsonValue, OpId } from '../autobase/shapes.js'
import type { Register } from '../autobase/merge.js'
import type { BaseSystem, SkipRecord } from '../autobase/runner.js'

export type { SkipRecord }

export type Role = 'admin' | 'member'

/**
 * Where a member's profile can be found, so that project peers can host it (DESIGN.md): the
 * profile discovery key (a topic), its Autobase key, and a signature of the profile over that
 * key, which anyone recovering the profile checks.
 */
export interface ProfileCard {
  discovery: HexKey
  base: HexKey
  sig: string
}

export interface ProjectRecord {
  name: Register<string>
  description: Register<string>
  archived: Register<boolean>
  /** Replicas the group keeps (absent: DEFAULT_REPLICAS, as before it could be set). */
  replicas?: Register<number>
  /** Percent of credits taken off per idle epoch (absent: no decay). */
  decay?: Register<number>
  public: boolean
  /** The creating profile. */
  creator: HexKey
  /** The creator's first writer core: the project's bootstrap and only indexer. */
  creatorWriter: HexKey
  createdAt: number
  initOp: OpId
}

/** A member is a profile (keyed by its id), writing through one writer core per device. */
export interface MemberRecord {
  profile: HexKey
  role: Role
  name: Register<string> | null
  /** The profile that added it. */
  addedBy: HexKey
  addedAt: number
  invite: string | null
  removed: boolean
  /** Where its profile can be found (for hosting and recovery), if it said. */
  card: ProfileCard | null
  /** Its writer cores, in the order they were added. */
  writers: HexKey[]
}

/** One writer core of a member: which device of which profile writes through it. */
export interface WriterRecord {
  writer: HexKey
  profile: HexKey
  device: HexKey
  /** A delegate (time-limited device): its ops count only while `expiresAt` is ahead. */
  delegated: boolean
  expiresAt: number | null
  /** Device keys from the first one the identity attested down to this device. */
  chain: HexKey[]
  addedAt: number
  /** Removed with its member, or revoked/expired: its later ops are skipped. */
  removed: boolean
}

/** A revoked device of a profile: every writer whose chain holds it is no longer accepted. */
export interface RevokedRecord {
  profile: HexKey
  device: HexKey
  /** The device that revoked it. */
  by: HexKey
  at: number
}

export interface PostRecord {
  id: OpId
  seq: number
  /** The author's profile. */
  author: HexKey
  /** The device it was written from. */
  device: HexKey
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

/** An invite recorded in the project, and how it has been used. */
export interface InviteRecord {
  id: HexKey
  publicKey: HexKey
  role: Role
  uses: number
  expires: number
  used: number
  /** The writers admitted with it. */
  admitted: HexKey[]
  revoked: boolean
  /** The profile that made it, and when. */
  by: HexKey
  at: number
}

/** A joiner admitted by a member with an invite, refused by apply (the last use raced). */
export interface DeniedRecord {
  writer: HexKey
  invite: HexKey
  reason: string
}

/** Who may index the project, ranked by apply (see src/project/indexers.ts). */
export interface IndexingRecord {
  candidates: Array<{ writer: HexKey; profile: HexKey; admin: boolean; order: number }>
}

/**
 * The view layouts. 1: a record per post (`post/<id>`) and a feed entry per post
 * (`feed/<seq>`), every write its own view block, each op marked by id: the layout of every
 * project made before layout 2, kept as it was. 2 (compact): posts in pages (`page/<n>`, `n`
 * the number of the page's first post), a key written once per apply call, writer blocks
 * marked applied instead of each op: a late joiner downloads a few blocks per hundred posts,
 * not three per post (DESIGN.md "Speed: what made the difference", item 5). A page stays open
 * across apply calls, so posts that arrive one by one rewrite it each time (about 5 KiB of view
 * per post). 3: as 2, but a page is never written again: each apply call (one writer's append
 * batch) starts its own pages, and a page holds its author and device once and each post as a
 * short tuple ({@link Page3}): a view about half the bytes of layout 2 for bursts and a
 * fifteenth for posts one by one.
 */
export const LAYOUT = 3 as const

/** Whether a layout keeps posts in pages (2 and later). */
export function paged(layout: number | undefined): boolean {
  return (layout ?? 1) >= 2
}

/** A post in a layout 3 page: `[id, seq, text, replyTo, ts]`. */
export type PageEntry = [OpId, number, string, OpId | null, number]

/** A layout 3 page: the posts of one author's device, from one apply call. */
export interface Page3 {
  /** The author's profile. */
  a: HexKey
  /** The device the posts were written from. */
  d: HexKey
  p: PageEntry[]
}

/** The posts of a page as stored, whichever the layout (null: not a page). */
export function pagePosts(value: unknown): PostRecord[] | null {
  if (Array.isArray(value)) return value as PostRecord[]
  if (value === null || typeof value !== 'object') return null
  const page = value as Page3
  if (!Array.isArray(page.p)) return null
  return page.p.map(([id, seq, text, replyTo, ts]) => ({
    id,
    seq,
    author: page.a,
    device: page.d,
    text,
    replyTo,
    ts
  }))
}

/** A post as a layout 3 page entry. */
export function pageEntry(post: PostRecord): PageEntry {
  return [post.id, post.seq, post.text, post.replyTo, post.ts]
}

/**
 * The causal rule of new projects: 2 bounds an op's merge time by what its writer knew through
 * acks too (Autobase never applies acks, so they carry no record of their own; runner.ts reads
 * their heads); 3 also lets two clamped writes tie within MAX_CLOCK_SKEW, the more plausible
 * clock winning (merge.ts `wins`). Projects made before keep their rule: peers must agree on
 * every merge.
 */
export const CAUSAL = 3 as const
/** A page holds at most this many posts, or this many bytes of them (JSON), whichever first. */
export const PAGE_POSTS = 32
export const PAGE_BYTES = 32 * 1024
/**
 * Layout 3's bounds: a page is written once, so its size costs no rewrites; bigger pages are
 * fewer view blocks for a burst (a block costs more to replicate than its bytes).
 */
export const PAGE3_POSTS = 128
export const PAGE3_BYTES = 64 * 1024

/** Where the posts are written now (layout 2): the open page and what it holds. */
export interface OpenPage {
  /** The number of its first post (posts are numbered from 1, in feed order). */
  start: number
  count: number
  bytes: number
}

/**
 * Counters and clocks kept by apply (`applied` is also the feed and task sequence; `clocks` the
 * latest timestamp reported by each writer, for the mesh clock).
 */
export interface SystemRecord extends BaseSystem {
  /** Counts kept by apply so that summaries never scan the view. */
  posts: number
  tasks: number
  /** Active members. */
  members: number
  /**
   * Per profile, the highest op timestamp applied from its full devices: the clock a
   * delegation's expiry is judged against (DESIGN.md "Delegated devices").
   */
  profileClocks: Record<string, number>
  /** Mesh time each writer was last seen (an op, or an indexer's ack): who is away. */
  seen?: Record<string, number>
  /** The length of each indexer's core when last looked at (a longer one was seen again). */
  indexerLengths?: Record<string, number>
  /** The view layout (absent: 1, the layout of projects made before it was versioned). */
  layout?: number
  /** The causal rule (`CAUSAL`; absent: 1, acks not followed, no clamped ties), set at init. */
  causal?: number
  /** Layout 2: the page new posts go to (absent: no post yet). */
  page?: OpenPage
}

/** Credits (src/project/credits.ts): the kinds of attestation. */
export type AttestKind = 'uptime' | 'hosting' | 'support'

/** What apply keeps per profile (view key `credit/<profile>`). */
export interface CreditRecord {
  profile: HexKey
  contributions: number
  uptime: number
  hosting: number
  support: number
  /** The last epoch in which the profile earned anything (for decay). */
  lastEpoch: number
}

/** One attestation kept as evidence (view key `evidence/<subject>/<kind>/<epoch>/<signer>`). */
export interface EvidenceRecord {
  kind: AttestKind
  subject: HexKey
  signer: HexKey
  epoch: number
  op: OpId
  ts: number
  /** Whether it added a credit (an uptime epoch already attested by another adds none). */
  counted: boolean
}

/** An achievement and the op that unlocked it (view key `achievement/<profile>/<id>`). */
export interface AchievementRecord {
  id: string
  profile: HexKey
  op: OpId
  ts: number
  /** The credit total of its kind when it was unlocked. */
  value: number
}

const pad = (n: number): string => n.toString().padStart(12, '0')

export const Keys = {
  system: 'sys',
  project: 'project',
  op: (id: OpId) => `op/${id}`,
  member: (profile: HexKey) => `member/${profile}`,
  writer: (writer: HexKey) => `writer/${writer}`,
  revoked: (profile: HexKey, device: HexKey) => `revoked/${profile}/${device}`,
  revokedPrefix: 'revoked/',
  memberPrefix: 'member/',
  memberIndex: 'members',
  post: (id: OpId) => `post/${id}`,
  feed: (seq: number) => `feed/${pad(seq)}`,
  feedPrefix: 'feed/',
  /** Layouts 2 and 3: a page of posts, by the number of its first post. */
  page: (start: number) => `page/${pad(start)}`,
  pagePrefix: 'page/',
  reply: (parent: OpId, seq: number) => `reply/${parent}/${pad(seq)}`,
  replyPrefix: (parent: OpId) => `reply/${parent}/`,
  task: (id: OpId) => `task/${id}`,
  taskOrder: (seq: number) => `tasks/${pad(seq)}`,
  taskOrderPrefix: 'tasks/',
  kv: (key: string) => `kv/${key}`,
  invite: (id: HexKey) => `invite/${id}`,
  invitePrefix: 'invite/',
  denied: (writer: HexKey) => `denied/${writer}`,
  indexing: 'indexing',
  kvPrefix: 'kv/',
  credit: (profile: HexKey) => `credit/${profile}`,
  creditPrefix: 'credit/',
  evidence: (subject: HexKey, kind: string, epoch: number, signer: HexKey) =>
    `evidence/${subject}/${kind}/${pad(epoch)}/${signer}`,
  evidencePrefix: (subject: HexKey) => `evidence/${subject}/`,
  budget: (signer: HexKey, epoch: number) => `budget/${signer}/${pad(epoch)}`,
  uptimeMark: (subject: HexKey, epoch: number) => `uptime/${subject}/${pad(epoch)}`,
  supported: (signer: HexKey) => `supported/${signer}`,
  achievement: (profile: HexKey, id: string) => `achievement/${profile}/${id}`,
  achievementPrefix: (profile: HexKey) => `achievement/${profile}/`,
  achievementsPrefix: 'achievement/',
  /** The kit's causal time of each writer block (runner.ts `CausalRecord`). */
  causal: (writer: HexKey, length: number) => `causal/${writer}/${pad(length)}`,
  skip: (seq: number) => `skip/${pad(seq)}`,
  skipPrefix: 'skip/'
} as const

/** Upper bound for a prefix range scan. */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
}

export function emptySystem(): SystemRecord {
  return { applied: 0, skipped: 0, posts: 0, tasks: 0, members: 0, clocks: {}, profileClocks: {} }
}
