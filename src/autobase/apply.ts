/**
 * apply: folds linearized ops into the project view. Pure and deterministic: no clock,
 * no randomness, no network. Never throws on peer input: a bad op is recorded as skipped,
 * identically on every peer, and the project keeps working.
 */
import type Autobase from 'autobase'
import type Hyperbee from 'hyperbee'
import crypto from 'hypercore-crypto'
import { decodeBlock, type HexKey, type Op, type Role, type Validation } from './ops.js'
import { effectiveTs, wins, type Register } from './merge.js'
import { verifyWriterProof, type VerifiedWriter } from '../identity/writer-proof.js'
import { isDelegationActive } from '../identity/devices.js'
import {
  Keys,
  emptySystem,
  type KvRecord,
  type MemberRecord,
  type RevokedRecord,
  type WriterRecord,
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
  /** The writer core the op came from. */
  author: HexKey
  /** The profile and device behind that writer (null only for project/init). */
  writer: WriterRecord | null
  /** Effective timestamp of the op being applied. */
  ts: number
  bootstrap: HexKey
  /** The project's discovery key: writer proofs are signed for it. */
  discoveryKey: Buffer
}

export interface ApplyOptions {
  /** The project's bootstrap key (hex): the creator's writer core, the only one that may init. */
  bootstrap: HexKey
}

export function createApply(opts: ApplyOptions) {
  let discovery: { bootstrap: HexKey; key: Buffer } | null = null
  const discoveryKey = (): Buffer => {
    if (discovery === null || discovery.bootstrap !== opts.bootstrap) {
      discovery = {
        bootstrap: opts.bootstrap,
        key: crypto.discoveryKey(Buffer.from(opts.bootstrap, 'hex'))
      }
    }
    return discovery.key
  }
  return async function apply(
    nodes: Autobase.ApplyNode[],
    view: Hyperbee,
    host: Autobase.ApplyHost
  ): Promise<void> {
    const b = new ViewTx(view.batch())
    const sys = (await b.get<SystemRecord>(Keys.system)) ?? emptySystem()
    for (const node of nodes) {
      // acks carry no value; an empty block reads as null on peers but not on its writer
      if (!(node.value instanceof Uint8Array) || node.value.byteLength === 0) continue
      const author = node.from.key.toString('hex')
      for (const decoded of decodeBlock(node.value)) {
        await applyOne(b, host, sys, author, opts.bootstrap, discoveryKey(), decoded)
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
  discoveryKey: Buffer,
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
  if (createsEntity(op) && (await b.has(Keys.op(op.id)))) return // a skipped post or task
  const ctx: Ctx = {
    b,
    host,
    sys,
    author,
    writer: null,
    ts: effectiveTs(op.ts, sys.clocks),
    bootstrap,
    discoveryKey
  }
  try {
    if (op.type !== 'project/init') ctx.writer = await authorOf(b, sys, author, op)
    await applyOp(ctx, op)
  } catch (err) {
    if (err instanceof Skip) {
      await skip(b, sys, author, op, err.reason)
      // a skipped op replayed after a crash must not be counted twice either
      await b.put(Keys.op(op.id), { seq: 0, writer: author, skipped: sys.skipped })
      return
    }
    throw err
  }
  sys.applied++
  sys.clocks[author] = Math.max(sys.clocks[author] ?? 0, op.ts)
  const w = ctx.writer
  if (w !== null && !w.delegated) {
    sys.profileClocks[w.profile] = Math.max(sys.profileClocks[w.profile] ?? 0, op.ts)
  }
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

/**
 * Who wrote an op: the writer record of its core, which must be live (its member not removed,
 * no key of its device chain revoked, a delegate's grant not expired). Skips otherwise.
 */
async function authorOf(
  b: Batch,
  sys: SystemRecord,
  author: HexKey,
  op: Op
): Promise<WriterRecord> {
  const w = await b.get<WriterRecord>(Keys.writer(author))
  if (w === null) throw new Skip('writer is not a member')
  if (await isRevoked(b, w.profile, w.chain)) throw new Skip('device revoked')
  if (w.removed) throw new Skip('writer is not a member')
  if (w.delegated) {
    const profileClock = sys.profileClocks[w.profile] ?? 0
    const active = isDelegationActive(
      { expiresAt: w.expiresAt ?? 0 },
      { opTimestamp: op.ts, profileClock }
    )
    if (!active) throw new Skip('delegation expired')
  }
  return w
}

async function isRevoked(b: Batch, profile: HexKey, chain: HexKey[]): Promise<boolean> {
  for (const device of chain) {
    if (await b.has(Keys.revoked(profile, device))) return true
  }
  return false
}

/** Check a writer proof carried by an op: valid, for this project, its chain not revoked. */
async function verified(ctx: Ctx, proof: unknown): Promise<VerifiedWriter> {
  const v = verifyWriterProof(proof, ctx.discoveryKey)
  if (v === null) throw new Skip('invalid writer proof')
  if (await isRevoked(ctx.b, v.profile, v.chain)) throw new Skip('device revoked')
  return v
}

function writerRecord(ctx: Ctx, v: VerifiedWriter): WriterRecord {
  return {
    writer: v.writer,
    profile: v.profile,
    device: v.device,
    delegated: v.delegated,
    expiresAt: v.expiresAt,
    chain: v.chain,
    addedAt: ctx.ts,
    removed: false
  }
}

/** The author's profile (every op but project/init has one). */
function me(ctx: Ctx): WriterRecord {
  if (ctx.writer === null) throw new Skip('writer is not a member')
  return ctx.writer
}

function reg<T>(ctx: Ctx, op: Op, value: T): Register<T> {
  return { value, id: op.id, ts: ctx.ts, by: ctx.writer?.profile ?? ctx.author }
}

async function applyOp(ctx: Ctx, op: Op): Promise<void> {
  const { b } = ctx
  const project = await b.get<ProjectRecord>(Keys.project)

  if (op.type === 'project/init') {
    if (project !== null) throw new Skip('project already initialised')
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
    return
  }

  if (project === null) throw new Skip('project not initialised')
  const author = me(ctx)
  const self = await activeMember(b, author.profile)
  if (self === null) throw new Skip('writer is not a member')

  if (project.archived.value) {
    if (!(op.type === 'project/archive' && !op.archived)) throw new Skip('project is archived')
  }

  switch (op.type) {
    case 'project/set': {
      requireRole(self, 'admin')
      const current = project[op.field]
      if (wins(current, { id: op.id, ts: ctx.ts, prev: op.prev })) {
        project[op.field] = reg(ctx, op, op.value)
        await b.put(Keys.project, project)
      }
      return
    }
    case 'project/archive': {
      requireRole(self, 'admin')
      if (wins(project.archived, { id: op.id, ts: ctx.ts, prev: op.prev })) {
        project.archived = reg(ctx, op, op.archived)
        await b.put(Keys.project, project)
      }
      return
    }
    case 'member/add': {
      if (op.role === 'admin') requireRole(self, 'admin')
      const v = await verified(ctx, op.as)
      const existing = await b.get<MemberRecord>(Keys.member(v.profile))
      if (existing !== null && !existing.removed) throw new Skip('already a member')
      if (await liveWriter(b, v.writer)) throw new Skip('writer already added')
      const record: MemberRecord = {
        profile: v.profile,
        role: op.role,
        name: existing?.name ?? null,
        addedBy: author.profile,
        addedAt: ctx.ts,
        invite: op.invite,
        removed: false,
        card: existing?.card ?? null,
        writers: [...new Set([...(existing?.writers ?? []), v.writer])]
      }
      await b.put(Keys.member(v.profile), record)
      await b.put(Keys.writer(v.writer), writerRecord(ctx, v))
      await indexMember(b, v.profile)
      ctx.sys.members++
      await ctx.host.addWriter(Buffer.from(v.writer, 'hex'), { indexer: false })
      return
    }
    case 'writer/add': {
      // the authority is the proof itself: any member may carry another profile's device in
      const v = await verified(ctx, op.as)
      const target = await activeMember(b, v.profile)
      if (target === null) throw new Skip('that profile is not a member')
      // several members may carry the same request at once: the first one counts, the others
      // change nothing (not an error: each carrier acted correctly on what it knew)
      if (await liveWriter(b, v.writer)) return
      if (!target.writers.includes(v.writer)) target.writers.push(v.writer)
      await b.put(Keys.member(v.profile), target)
      await b.put(Keys.writer(v.writer), writerRecord(ctx, v))
      await ctx.host.addWriter(Buffer.from(v.writer, 'hex'), { indexer: false })
      return
    }
    case 'member/role': {
      requireRole(self, 'admin')
      const target = await activeMember(b, op.profile)
      if (target === null) throw new Skip('target is not a member')
      if (target.role === op.role) return
      if (target.role === 'admin' && (await countAdmins(b)) <= 1)
        throw new Skip('cannot demote the last admin')
      target.role = op.role
      await b.put(Keys.member(op.profile), target)
      return
    }
    case 'member/remove': {
      if (op.profile !== author.profile) requireRole(self, 'admin')
      const target = await activeMember(b, op.profile)
      if (target === null) throw new Skip('target is not a member')
      if (op.profile === project.creator)
        throw new Skip('the creator (the project indexer) cannot be removed')
      if (target.role === 'admin' && (await countAdmins(b)) <= 1)
        throw new Skip('cannot remove the last admin')
      target.removed = true
      await b.put(Keys.member(op.profile), target)
      ctx.sys.members--
      for (const key of target.writers) {
        const w = await b.get<WriterRecord>(Keys.writer(key))
        if (w === null || w.removed) continue
        w.removed = true
        await b.put(Keys.writer(key), w)
        await ctx.host.removeWriter(Buffer.from(key, 'hex'))
      }
      return
    }
    case 'member/name': {
      if (wins(self.name, { id: op.id, ts: ctx.ts, prev: op.prev })) {
        self.name = reg(ctx, op, op.name)
        await b.put(Keys.member(author.profile), self)
      }
      return
    }
    case 'member/card': {
      self.card = op.card
      await b.put(Keys.member(author.profile), self)
      return
    }
    case 'device/revoke': {
      if (author.delegated) throw new Skip('a delegated device cannot revoke devices')
      if (op.device !== author.device && author.chain.includes(op.device)) {
        throw new Skip('a device cannot revoke a device it was linked through')
      }
      const key = Keys.revoked(author.profile, op.device)
      if (await b.has(key)) throw new Skip('device already revoked')
      const record: RevokedRecord = {
        profile: author.profile,
        device: op.device,
        by: author.device,
        at: ctx.ts
      }
      await b.put(key, record)
      // its writers stay in the Autobase (their blocks are still linearized, so a revoked
      // device that keeps writing is skipped the same way everywhere) but are marked removed
      for (const w of await writersOf(b, self)) {
        if (w.removed || !w.chain.includes(op.device)) continue
        w.removed = true
        await b.put(Keys.writer(w.writer), w)
      }
      return
    }
    case 'device/expire': {
      if (author.delegated) throw new Skip('a delegated device cannot end delegations')
      let ended = 0
      for (const w of await writersOf(b, self)) {
        if (w.removed || !w.delegated || w.device !== op.device) continue
        if (op.ts < (w.expiresAt ?? 0)) throw new Skip('the delegation has not expired yet')
        w.removed = true
        await b.put(Keys.writer(w.writer), w)
        ended++
      }
      if (ended === 0) throw new Skip('no live delegation for that device')
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
        author: author.profile,
        device: author.device,
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
        createdBy: author.profile,
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

async function liveWriter(b: Batch, writer: HexKey): Promise<boolean> {
  const w = await b.get<WriterRecord>(Keys.writer(writer))
  return w !== null && !w.removed
}

async function writersOf(b: Batch, member: MemberRecord): Promise<WriterRecord[]> {
  const out: WriterRecord[] = []
  for (const key of member.writers) {
    const w = await b.get<WriterRecord>(Keys.writer(key))
    if (w !== null) out.push(w)
  }
  return out
}

async function activeMember(b: Batch, profile: HexKey): Promise<MemberRecord | null> {
  const m = await b.get<MemberRecord>(Keys.member(profile))
  return m === null || m.removed ? null : m
}

function requireRole(me: MemberRecord, role: Role): void {
  if (role === 'admin' && me.role !== 'admin') throw new Skip('requires the admin role')
}

async function countAdmins(b: Batch): Promise<number> {
  let n = 0
  for (const profile of await memberIndex(b)) {
    const m = await activeMember(b, profile)
    if (m !== null && m.role === 'admin') n++
  }
  return n
}

/** Every profile ever added, in order (a batch cannot range-scan, and members are few). */
async function memberIndex(b: Batch): Promise<HexKey[]> {
  return (await b.get<HexKey[]>(Keys.memberIndex)) ?? []
}

async function indexMember(b: Batch, profile: HexKey): Promise<void> {
  const index = await memberIndex(b)
  if (index.includes(profile)) return
  index.push(profile)
  await b.put(Keys.memberIndex, index)
}
