/**
 * Read queries over a project's view. Everything a person or the CLI sees of a project is
 * read through here.
 */
import type Hyperbee from 'hyperbee'
import sodium from 'sodium-universal'
import {
  Keys,
  type AchievementRecord,
  type CreditRecord,
  type EvidenceRecord,
  emptySystem,
  prefixEnd,
  pagePosts,
  paged,
  type DeniedRecord,
  type IndexingRecord,
  type InviteRecord,
  type KvRecord,
  type MemberRecord,
  type RevokedRecord,
  type WriterRecord,
  type PostRecord,
  type ProjectRecord,
  type SkipRecord,
  type SystemRecord,
  type TaskRecord
} from './project.js'

/** How many post numbers a view remembers before it starts again (layouts 2 and 3). */
const MAX_REMEMBERED = 8192

export class ProjectView {
  constructor(readonly bee: Hyperbee) {}

  private async value<T>(key: string): Promise<T | null> {
    const node = await this.bee.get(key)
    return node === null ? null : (node.value as T)
  }

  private async prefix<T>(
    prefix: string,
    opts: { limit?: number; reverse?: boolean } = {}
  ): Promise<T[]> {
    const out: T[] = []
    const range: Hyperbee.Range = { gte: prefix, lt: prefixEnd(prefix) }
    if (opts.limit !== undefined) range.limit = opts.limit
    if (opts.reverse) range.reverse = true
    for await (const entry of this.bee.createReadStream(range)) out.push(entry.value as T)
    return out
  }

  project(): Promise<ProjectRecord | null> {
    return this.value<ProjectRecord>(Keys.project)
  }

  async system(): Promise<SystemRecord> {
    return (await this.value<SystemRecord>(Keys.system)) ?? emptySystem()
  }

  member(profile: string): Promise<MemberRecord | null> {
    return this.value<MemberRecord>(Keys.member(profile))
  }

  writer(writer: string): Promise<WriterRecord | null> {
    return this.value<WriterRecord>(Keys.writer(writer))
  }

  revoked(profile: string, device: string): Promise<RevokedRecord | null> {
    return this.value<RevokedRecord>(Keys.revoked(profile, device))
  }

  invite(id: string): Promise<InviteRecord | null> {
    return this.value<InviteRecord>(Keys.invite(id))
  }

  /** Every invite recorded in the project, in id order. */
  invites(): Promise<InviteRecord[]> {
    return this.prefix<InviteRecord>(Keys.invitePrefix)
  }

  /** Why a joiner's writer was refused after a member let it in, if it was. */
  denied(writer: string): Promise<DeniedRecord | null> {
    return this.value<DeniedRecord>(Keys.denied(writer))
  }

  /** Who may index the project, ranked by apply. */
  indexing(): Promise<IndexingRecord | null> {
    return this.value<IndexingRecord>(Keys.indexing)
  }

  /** Every device revoked in the project (by any profile). */
  revocations(): Promise<RevokedRecord[]> {
    return this.prefix<RevokedRecord>(Keys.revokedPrefix)
  }

  members(): Promise<MemberRecord[]> {
    return this.prefix<MemberRecord>(Keys.memberPrefix)
  }

  /** The view layout (src/views/project.ts `LAYOUT`): set at init, never changed after. */
  private async layout(): Promise<number> {
    if (this.layoutSeen !== null) return this.layoutSeen
    const sys = await this.value<SystemRecord>(Keys.system)
    const layout = sys?.layout ?? 1
    if (sys !== null && (await this.project()) !== null) this.layoutSeen = layout
    return layout
  }

  private layoutSeen: number | null = null

  /** Layouts 2 and 3: the pages of posts, each with the number of its first post. */
  private async *pages(reverse = false): AsyncGenerator<{ start: number; posts: PostRecord[] }> {
    const range = { gte: Keys.pagePrefix, lt: prefixEnd(Keys.pagePrefix), reverse }
    for await (const e of this.bee.createReadStream(range)) {
      yield { start: Number(e.key.slice(Keys.pagePrefix.length)), posts: pagePosts(e.value) ?? [] }
    }
  }

  /** Layouts 2 and 3: post number `n` (posts are numbered from 1 in feed order). */
  private async postNumber(n: number): Promise<PostRecord | null> {
    const range = { gte: Keys.pagePrefix, lte: Keys.page(n), reverse: true, limit: 1 }
    for await (const e of this.bee.createReadStream(range)) {
      const start = Number(e.key.slice(Keys.pagePrefix.length))
      return pagePosts(e.value)?.[n - start] ?? null
    }
    return null
  }

  /**
   * A post and its number (posts are numbered from 1 in feed order). Layouts 2 and 3 learn the
   * numbers of posts from their pages, newest first, in one scan shared by concurrent callers
   * (the read-backs of a burst), and checks a number again on use: a reorder can renumber.
   */
  async postAt(id: string): Promise<{ post: PostRecord; n: number } | null> {
    if (!paged(await this.layout())) {
      const post = await this.post(id)
      return post === null ? null : { post, n: 0 }
    }
    const known = async (): Promise<{ post: PostRecord; n: number } | null> => {
      const at = this.numbers.get(id)
      if (at === undefined) return null
      const { n, start } = at
      // the page that held it: one record, not a search for the page below the number
      const post = (await this.page(start))?.[n - start] ?? null
      if (post?.id === id) return { post, n }
      this.numbers.clear() // renumbered by a reorder: learn them again
      return null
    }
    let found = await known()
    // a scan already running may have started before this post was applied: then one more
    if (found === null && this.learning !== null) found = await this.learning.then(known)
    if (found === null) found = await this.learnNumbers().then(known)
    return found
  }

  /**
   * The posts of the page whose first post is number `start`. Concurrent readers of one page
   * (the read-backs of a burst) share one read while it runs; nothing is kept after it.
   */
  private page(start: number): Promise<PostRecord[] | null> {
    let read = this.pageReads.get(start)
    if (read === undefined) {
      read = this.value<unknown>(Keys.page(start)).then(pagePosts)
      const done = (): void => void this.pageReads.delete(start)
      read.then(done, done)
      this.pageReads.set(start, read)
    }
    return read
  }

  private readonly pageReads = new Map<number, Promise<PostRecord[] | null>>()

  /**
   * The number a post got where this node applied it, and its page's first number (apply's
   * hint): the read-back of a post just written finds it without a scan of the pages. Checked
   * on use like every number.
   */
  hint(id: string, n: number, start: number): void {
    if (this.numbers.size > MAX_REMEMBERED) this.numbers.clear()
    this.numbers.set(id, { n, start })
  }

  /**
   * Post numbers by id, with the first number of the page that held each (layouts 2 and 3),
   * learnt by {@link learnNumbers} or hinted.
   */
  private readonly numbers = new Map<string, { n: number; start: number }>()
  private learning: Promise<void> | null = null

  /** Read pages newest first until one holds nothing new (a scan running is joined). */
  private learnNumbers(): Promise<void> {
    this.learning ??= (async () => {
      if (this.numbers.size > MAX_REMEMBERED) this.numbers.clear()
      for await (const page of this.pages(true)) {
        let fresh = false
        page.posts.forEach((post, i) => {
          const n = page.start + i
          // a post known at another number (or page) was moved by a reorder: not yet known
          const was = this.numbers.get(post.id)
          if (was?.n === n && was.start === page.start) return
          this.numbers.set(post.id, { n, start: page.start })
          fresh = true
        })
        if (!fresh) break
      }
    })().finally(() => {
      this.learning = null
    })
    return this.learning
  }

  async post(id: string): Promise<PostRecord | null> {
    if (paged(await this.layout())) return (await this.postAt(id))?.post ?? null
    return this.value<PostRecord>(Keys.post(id))
  }

  /** Posts in feed order (the order every peer applied them), newest last. */
  async feed(opts: { limit?: number } = {}): Promise<PostRecord[]> {
    if (paged(await this.layout())) {
      const limit = opts.limit ?? Infinity
      const out: PostRecord[] = []
      for await (const page of this.pages(true)) {
        for (let i = page.posts.length - 1; i >= 0 && out.length < limit; i--) {
          out.push(page.posts[i] as PostRecord)
        }
        if (out.length >= limit) break
      }
      return out.reverse()
    }
    const ids = await this.prefix<string>(Keys.feedPrefix, { reverse: true, ...opts })
    const posts = await Promise.all(ids.reverse().map((id) => this.post(id)))
    return posts.filter((p): p is PostRecord => p !== null)
  }

  async replies(id: string): Promise<PostRecord[]> {
    const refs = await this.prefix<string | number>(Keys.replyPrefix(id))
    const posts = await Promise.all(
      refs.map((r) => (typeof r === 'number' ? this.postNumber(r) : this.post(r)))
    )
    return posts.filter((p): p is PostRecord => p !== null)
  }

  task(id: string): Promise<TaskRecord | null> {
    return this.value<TaskRecord>(Keys.task(id))
  }

  async tasks(): Promise<TaskRecord[]> {
    const ids = await this.prefix<string>(Keys.taskOrderPrefix)
    const tasks = await Promise.all(ids.map((id) => this.task(id)))
    return tasks.filter((t): t is TaskRecord => t !== null)
  }

  /** Ids of posts or tasks starting with a prefix (at most `limit`). */
  async idsByPrefix(kind: 'post' | 'task', prefix: string, limit = 2): Promise<string[]> {
    const out: string[] = []
    if (kind === 'post' && paged(await this.layout())) {
      for await (const page of this.pages(true)) {
        for (const p of page.posts) {
          if (p.id.startsWith(prefix) && out.length < limit && !out.includes(p.id)) out.push(p.id)
        }
        if (out.length >= limit) break
      }
      return out
    }
    const start = kind === 'post' ? Keys.post(prefix) : Keys.task(prefix)
    for await (const e of this.bee.createReadStream({ gte: start, lt: prefixEnd(start), limit })) {
      out.push(e.key.slice(start.length - prefix.length))
    }
    return out
  }

  kv(key: string): Promise<KvRecord | null> {
    return this.value<KvRecord>(Keys.kv(key))
  }

  async kvList(): Promise<Array<{ key: string; record: KvRecord }>> {
    const out: Array<{ key: string; record: KvRecord }> = []
    const range = { gte: Keys.kvPrefix, lt: prefixEnd(Keys.kvPrefix) }
    for await (const e of this.bee.createReadStream(range)) {
      const record = e.value as KvRecord
      if (!record.deleted) out.push({ key: e.key.slice(Keys.kvPrefix.length), record })
    }
    return out
  }

  /** Why an op was skipped, or null if it was not (or is not applied yet). */
  async rejection(opId: string): Promise<string | null> {
    const mark = await this.value<{ skipped?: number }>(Keys.op(opId))
    if (!mark?.skipped) return null
    return (await this.value<SkipRecord>(Keys.skip(mark.skipped)))?.reason ?? null
  }

  /** A profile's credit counters as apply keeps them (null: none yet). */
  credit(profile: string): Promise<CreditRecord | null> {
    return this.value<CreditRecord>(Keys.credit(profile))
  }

  credits(): Promise<CreditRecord[]> {
    return this.prefix<CreditRecord>(Keys.creditPrefix)
  }

  /** The attestations about a profile, oldest epoch first. */
  evidence(subject: string): Promise<EvidenceRecord[]> {
    return this.prefix<EvidenceRecord>(Keys.evidencePrefix(subject))
  }

  /** Whether `signer` attested `kind` about `subject` for `epoch` already. */
  async hasEvidence(
    subject: string,
    kind: string,
    epoch: number,
    signer: string
  ): Promise<boolean> {
    return (await this.value(Keys.evidence(subject, kind, epoch, signer))) !== null
  }

  /** Whether `profile` attested the member who let it in already. */
  async supported(profile: string): Promise<boolean> {
    return (await this.value(Keys.supported(profile))) !== null
  }

  /** Achievements unlocked (of one profile, or of everyone). */
  achievements(profile?: string): Promise<AchievementRecord[]> {
    return this.prefix<AchievementRecord>(
      profile === undefined ? Keys.achievementsPrefix : Keys.achievementPrefix(profile)
    )
  }

  skipped(opts: { limit?: number } = {}): Promise<SkipRecord[]> {
    return this.prefix<SkipRecord>(Keys.skipPrefix, opts)
  }

  /**
   * A digest of the whole view: every key and value, in key order. Two peers with the same
   * state have the same hash, whatever the internal layout of their cores.
   */
  async stateHash(): Promise<string> {
    // Cached per exact view state: length plus Merkle tree hash (a reorder can rewrite the
    // view to the same length with other content, so the length alone is not enough). The
    // view can change while it is read (a reorder truncates it, under a snapshot too): a
    // digest counts only if the state is the same after the read as before it.
    let hash = ''
    for (let attempt = 0; attempt < 5; attempt++) {
      const at = await this.stateId()
      if (this.hashCache?.at === at) return this.hashCache.hash
      hash = await viewDigest(this.bee)
      if ((await this.stateId()) !== at) continue
      this.hashCache = { at, hash }
      return hash
    }
    return hash // a view that keeps changing: the latest digest, not cached
  }

  /** The view's exact state: its length and Merkle tree hash. */
  private async stateId(): Promise<string> {
    const core = this.bee.core
    const length = core.length
    return `${length}:${length > 0 ? (await core.treeHash(length)).toString('hex') : ''}`
  }

  private hashCache: { at: string; hash: string } | null = null
}

/**
 * A digest of every key and value of a Hyperbee, in key order: equal for two views that hold
 * the same state, whatever the internal layout of their cores.
 */
export async function viewDigest(bee: Hyperbee): Promise<string> {
  const parts: Buffer[] = []
  for await (const e of bee.createReadStream()) {
    parts.push(Buffer.from(e.key + '\u0000' + JSON.stringify(e.value) + '\u0000'))
  }
  const out = Buffer.alloc(32)
  sodium.crypto_generichash(out, Buffer.concat(parts))
  return out.toString('hex')
}
