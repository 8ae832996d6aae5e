/**
 * The project's apply: its rules for the base kit's runner, and one handler per op type in a
 * table the compiler checks is complete. Pure and deterministic: no clock, no randomness, no
 * network; a bad op is skipped with its reason, identically on every peer.
 */
import crypto from 'hypercore-crypto'
import type { ViewTx } from '../../autobase/tx.js'
import {
  Skip,
  createApply,
  dispatch,
  type ApplyFunction,
  type BaseRules,
  type Handlers,
  type HeadsReader,
  type UnexpectedListener
} from '../../autobase/runner.js'
import {
  Keys,
  emptySystem,
  paged,
  type ProjectRecord,
  type SystemRecord
} from '../../views/project.js'
import { projectCodec, type HexKey, type Op } from '../ops.js'
import { activeMember, authorOf, type Ctx, type MemberCtx } from './context.js'
import * as project from './project.js'
import * as members from './members.js'
import * as devices from './devices.js'
import * as content from './content.js'
import * as invites from './invites.js'
import * as credits from './credits.js'
import { finishIndexing } from './indexing.js'

/** Every op but project/init comes from a member of an initialised project. */
const handlers: Handlers<Exclude<Op, { type: 'project/init' }>, MemberCtx> = {
  'project/set': project.set,
  'project/archive': project.archive,
  'project/replicas': project.replicas,
  'credit/attest': credits.attest,
  'credits/decay': credits.decay,
  'member/add': members.add,
  'writer/add': members.addWriter,
  'invite/add': invites.add,
  'invite/revoke': invites.revoke,
  'indexing/step': async () => {}, // the step itself is taken at the end of the call
  'member/role': members.role,
  'member/remove': members.remove,
  'member/name': members.name,
  'member/card': members.card,
  'device/revoke': devices.revoke,
  'device/expire': devices.expire,
  'post/add': content.post,
  'task/add': content.addTask,
  'task/set': content.setTask,
  'kv/set': content.record,
  'kv/del': content.record
}

/** Posts and tasks are keyed by their op id: their own record marks them applied. */
function createsEntity(op: Op): boolean {
  return op.type === 'post/add' || op.type === 'task/add'
}

/**
 * Whether an op was applied or skipped before. Layouts 2 and 3 keep no record per post id (posts
 * live in pages): a writer block applied again is refused whole by its mark (the runner).
 */
async function seen(b: ViewTx, op: Op, sys: SystemRecord): Promise<boolean> {
  if (op.type === 'post/add') {
    return !paged(sys.layout) && ((await b.has(Keys.post(op.id))) || b.has(Keys.op(op.id)))
  }
  if (op.type === 'task/add') return (await b.has(Keys.task(op.id))) || b.has(Keys.op(op.id))
  return b.has(Keys.op(op.id))
}

async function applyOp(ctx: Ctx, op: Op): Promise<void> {
  if (op.type === 'project/init') return project.init(ctx, op)
  ctx.writer = await authorOf(ctx, op)
  const record = await ctx.b.get<ProjectRecord>(Keys.project)
  if (record === null) throw new Skip('project not initialised')
  const self = await activeMember(ctx.b, ctx.writer.profile)
  if (self === null) throw new Skip('writer is not a member')
  if (record.archived.value && !(op.type === 'project/archive' && !op.archived)) {
    throw new Skip('project is archived')
  }
  const member: MemberCtx = Object.assign(ctx, { writer: ctx.writer, project: record, self })
  await dispatch(handlers, member, op)
  if (credits.isContribution(op)) await credits.contribute(member, op)
}

export interface ProjectApplyOptions {
  /** The project's bootstrap key (hex): the creator's writer core, the only one that may init. */
  readonly bootstrap: HexKey
  /** Told of an op skipped as an unexpected error (a local warning). */
  readonly onUnexpected?: UnexpectedListener
  /** Reads the heads of a writer block (acks in the causal past, causal rule 2). */
  readonly headsOf?: HeadsReader
}

/** What apply tells this node alone: hints for its reads, never part of any state. */
export interface ProjectApplyLocal {
  /**
   * The number a post got where it was applied, and its page's first number (a reorder can
   * renumber: check on use).
   */
  readonly numbered?: (id: string, n: number, start: number) => void
}

export function createProjectApply(
  opts: ProjectApplyOptions,
  local: ProjectApplyLocal = {}
): ApplyFunction {
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
  const rules: BaseRules<Op, SystemRecord, Ctx> = {
    codec: projectCodec,
    systemKey: Keys.system,
    emptySystem,
    skipKey: Keys.skip,
    causalKey: Keys.causal,
    seen,
    compact: (sys) => paged(sys.layout),
    followAcks: (sys) => (sys.causal ?? 1) >= 2,
    context: (base) => ({
      ...base,
      writer: null,
      bootstrap: opts.bootstrap,
      discoveryKey: discoveryKey(),
      ...(local.numbered ? { numbered: local.numbered } : {})
    }),
    apply: applyOp,
    async applied(ctx, op) {
      ;(ctx.sys.seen ??= {})[ctx.author] = ctx.ts
      const w = ctx.writer
      if (w !== null && !w.delegated) {
        const clocks = ctx.sys.profileClocks
        clocks[w.profile] = Math.max(clocks[w.profile] ?? 0, op.ts)
      }
      if (!createsEntity(op)) {
        await ctx.b.put(Keys.op(op.id), { seq: ctx.sys.applied, writer: ctx.author })
      }
    },
    async skipped(b, sys, author, op) {
      await b.put(Keys.op(op.id), { seq: 0, writer: author, skipped: sys.skipped })
    },
    finish: finishIndexing
  }
  return createApply(rules, opts.onUnexpected, opts.headsOf)
}
