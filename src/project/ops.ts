/**
 * The operations a project's writers append, as a tagged union, and their validation (the
 * project's codec for the base kit). Pure: no clock, no randomness, no I/O. Validation of
 * shape happens here; rights and references are checked in apply, against the view.
 */
import { isWriterProofShape, type WriterProof } from '../identity/writer-proof.js'
import type { Codec, Envelope, Validation as KitValidation } from '../autobase/envelope.js'
import {
  printable,
  isHexKey,
  isObj,
  isOpId,
  isPrev,
  isTextOf,
  badText,
  type HexKey,
  type JsonValue,
  type Obj,
  type OpId
} from '../autobase/shapes.js'
import type { ProfileCard, Role } from '../views/project.js'
import { ATTEST_KINDS, MAX_DECAY, type AttestKind } from './credits.js'

export type { HexKey, JsonValue, OpId, ProfileCard, Role }

export const OP_VERSION = 1
/** Largest encoded op accepted, in bytes. Larger ops are skipped by every peer. */
export const MAX_OP_BYTES = 16 * 1024
/** Largest block (one op, or a batch of ops appended together) accepted, in bytes. */
export const MAX_BLOCK_BYTES = 1024 * 1024
/** Most ops one batch block may carry. */
export const MAX_BATCH_OPS = 1000
/** Deepest nesting an op may have (a record's JSON value included). */
export const MAX_DEPTH = 64
export const LIMITS = {
  name: 100,
  description: 2000,
  text: 4000,
  title: 200,
  kvKey: 200,
  kvValueBytes: 8 * 1024
} as const

export const ROLES: readonly Role[] = ['admin', 'member']

/** What an invite recorded in the project allows (see `invite/add`). */
export interface InviteTerms {
  /** The blind-pairing invite id (hex): what a joiner's request names. */
  id: HexKey
  /** The invite's public key (hex): any member opens a request with it. */
  publicKey: HexKey
  role: Role
  uses: number
  /** Absolute expiry (ms since the epoch), judged against the admitting op's time. */
  expires: number
}

export type ProjectField = 'name' | 'description'

/** Replicas a project keeps unless an admin says otherwise, and the most it may ask for. */
export const DEFAULT_REPLICAS = 3
export const MAX_REPLICAS = 16
export type TaskField = 'title' | 'assignee' | 'done'

export type OpBody =
  | {
      type: 'project/init'
      name: string
      description: string
      public: boolean
      /** The creator's writer proof: this writer core belongs to that profile. */
      as: WriterProof
      /** The view layout (src/views/project.ts `LAYOUT`; absent: 1, as before it was set). */
      layout?: 2 | 3
      /**
       * How an op's merge time is bounded by its causal past (src/views/project.ts `CAUSAL`):
       * 2 follows acks (blocks without ops) through their own heads; 3 also lets two clamped
       * writes tie within MAX_CLOCK_SKEW (merge.ts `wins`); absent: 1, as before.
       */
      causal?: 2 | 3
    }
  | { type: 'project/set'; field: ProjectField; value: string; prev: OpId | null }
  | { type: 'project/archive'; archived: boolean; prev: OpId | null }
  /**
   * Evidence for another member's credits (src/project/credits.ts): the author saw `subject`
   * online in `epoch`, checked that it hosts the project, or was helped by it to join. `project`
   * (the project key) ties it to this project.
   */
  | { type: 'credit/attest'; kind: AttestKind; subject: HexKey; epoch: number; project: HexKey }
  /** Percent of credits taken off per idle epoch (0: no decay): an admin sets it. */
  | { type: 'credits/decay'; percent: number; prev: OpId | null }
  /** How many full live copies (replicas) the project's group keeps: an admin sets it. */
  | { type: 'project/replicas'; replicas: number; prev: OpId | null }
  /** Adds a profile as a member, with its first writer. */
  | { type: 'member/add'; role: Role; invite: string | null; as: WriterProof }
  /** Adds another writer (device) of a profile that is already a member. */
  | { type: 'writer/add'; as: WriterProof }
  /**
   * Records an invite in the project, so that any member can admit with it: its id and public
   * key (blind-pairing), the role it gives, how many uses and until when. Uses are counted by
   * apply, on every peer.
   */
  | { type: 'invite/add'; invite: InviteTerms }
  /** Revokes an invite: no member/add with it counts from then on. */
  | { type: 'invite/revoke'; invite: HexKey }
  /** Changes nothing: lets apply take an indexer hand-over step that awaits an apply call. */
  | { type: 'indexing/step' }
  | { type: 'member/role'; profile: HexKey; role: Role }
  | { type: 'member/remove'; profile: HexKey }
  | { type: 'member/name'; name: string; prev: OpId | null }
  | { type: 'member/card'; card: ProfileCard }
  /** A device of the author's profile (and every device it attested) stops being accepted. */
  | { type: 'device/revoke'; device: HexKey }
  /** A delegate of the author's profile whose expiry the author's clock has passed. */
  | { type: 'device/expire'; device: HexKey }
  /** `replyAt`: the number of the post replied to (layouts 2 and 3 find posts by number). */
  | { type: 'post/add'; text: string; replyTo: OpId | null; replyAt?: number }
  | { type: 'task/add'; title: string; assignee: HexKey | null }
  | {
      type: 'task/set'
      task: OpId
      field: TaskField
      value: string | boolean | null
      prev: OpId | null
    }
  | { type: 'kv/set'; key: string; value: JsonValue; prev: OpId | null }
  | { type: 'kv/del'; key: string; prev: OpId | null }

export type Op = Envelope & OpBody
export type OpType = OpBody['type']

export type { WriterProof }

export type Validation = KitValidation<Op>

/** The project's ops for the base kit (envelope, batches, limits). */
export const projectCodec: Codec<Op> = {
  version: OP_VERSION,
  maxOpBytes: MAX_OP_BYTES,
  maxBlockBytes: MAX_BLOCK_BYTES,
  maxBatchOps: MAX_BATCH_OPS,
  maxDepth: MAX_DEPTH,
  body: (o) => validateBody(o) as Omit<Op, keyof Envelope> | string
}

function validateBody(o: Obj): OpBody | string {
  switch (o.type) {
    case 'project/init':
      if (!isTextOf(o.name, LIMITS.name, 'line'))
        return badText('name', o.name, LIMITS.name, 'line')
      if (!isTextOf(o.description, LIMITS.description, 'prose', true))
        return badText('description', o.description, LIMITS.description, 'prose', true)
      if (typeof o.public !== 'boolean') return 'bad public flag'
      if (!isWriterProofShape(o.as)) return 'bad writer proof'
      if (o.layout !== undefined && o.layout !== 2 && o.layout !== 3) return 'unknown view layout'
      if (o.causal !== undefined && o.causal !== 2 && o.causal !== 3) return 'unknown causal rule'
      return {
        type: o.type,
        name: o.name,
        description: o.description,
        public: o.public,
        as: o.as,
        ...(o.layout === 2 || o.layout === 3 ? { layout: o.layout } : {}),
        ...(o.causal === 2 || o.causal === 3 ? { causal: o.causal } : {})
      }
    case 'project/set': {
      if (o.field !== 'name' && o.field !== 'description') return 'bad field'
      const kind = o.field === 'description' ? 'prose' : 'line'
      const empty = o.field === 'description'
      if (!isTextOf(o.value, LIMITS[o.field], kind, empty)) {
        return badText(o.field, o.value, LIMITS[o.field], kind, empty)
      }
      if (!isPrev(o.prev)) return 'bad prev'
      return { type: o.type, field: o.field, value: o.value, prev: o.prev }
    }
    case 'project/replicas':
      if (!Number.isInteger(o.replicas) || (o.replicas as number) < 1) return 'bad replicas'
      if ((o.replicas as number) > MAX_REPLICAS) return 'bad replicas'
      if (!isPrev(o.prev)) return 'bad prev'
      return { type: o.type, replicas: o.replicas as number, prev: o.prev }
    case 'credit/attest':
      if (!ATTEST_KINDS.includes(o.kind as AttestKind)) return 'bad kind'
      if (!isHexKey(o.subject) || !isHexKey(o.project)) return 'bad key'
      if (!Number.isSafeInteger(o.epoch) || (o.epoch as number) < 0) return 'bad epoch'
      return {
        type: o.type,
        kind: o.kind as AttestKind,
        subject: o.subject,
        epoch: o.epoch as number,
        project: o.project
      }
    case 'credits/decay':
      if (!Number.isInteger(o.percent) || (o.percent as number) < 0) return 'bad percent'
      if ((o.percent as number) > MAX_DECAY) return 'bad percent'
      if (!isPrev(o.prev)) return 'bad prev'
      return { type: o.type, percent: o.percent as number, prev: o.prev }
    case 'project/archive':
      if (typeof o.archived !== 'boolean') return 'bad archived flag'
      if (!isPrev(o.prev)) return 'bad prev'
      return { type: o.type, archived: o.archived, prev: o.prev }
    case 'member/add':
      if (!isWriterProofShape(o.as)) return 'bad writer proof'
      if (!isRole(o.role)) return 'bad role'
      if (o.invite !== null && !isHexKey(o.invite)) return 'bad invite id'
      return { type: o.type, role: o.role, invite: o.invite, as: o.as }
    case 'writer/add':
      if (!isWriterProofShape(o.as)) return 'bad writer proof'
      return { type: o.type, as: o.as }
    case 'invite/add': {
      const i = o.invite
      if (!isObj(i) || Object.keys(i).length !== 5) return 'bad invite'
      if (!isHexKey(i.id) || !isHexKey(i.publicKey)) return 'bad invite keys'
      if (!isRole(i.role)) return 'bad role'
      if (!Number.isSafeInteger(i.uses) || (i.uses as number) < 1 || (i.uses as number) > 1000) {
        return 'bad uses'
      }
      if (!Number.isSafeInteger(i.expires) || (i.expires as number) < 0) return 'bad expiry'
      const invite: InviteTerms = {
        id: i.id,
        publicKey: i.publicKey,
        role: i.role,
        uses: i.uses as number,
        expires: i.expires as number
      }
      return { type: o.type, invite }
    }
    case 'invite/revoke':
      if (!isHexKey(o.invite)) return 'bad invite id'
      return { type: o.type, invite: o.invite }
    case 'indexing/step':
      return { type: o.type }
    case 'member/role':
      if (!isHexKey(o.profile)) return 'bad profile id'
      if (!isRole(o.role)) return 'bad role'
      return { type: o.type, profile: o.profile, role: o.role }
    case 'member/remove':
      if (!isHexKey(o.profile)) return 'bad profile id'
      return { type: o.type, profile: o.profile }
    case 'member/card': {
      const card = o.card as Obj
      if (
        !isObj(card) ||
        !isHexKey(card.discovery) ||
        !isHexKey(card.base) ||
        typeof card.sig !== 'string' ||
        card.sig.length > 1000 ||
        Object.keys(card).length !== 3
      )
        return 'bad profile card'
      return { type: o.type, card: { discovery: card.discovery, base: card.base, sig: card.sig } }
    }
    case 'device/revoke':
    case 'device/expire':
      if (!isHexKey(o.device)) return 'bad device key'
      return { type: o.type, device: o.device }
    case 'member/name':
      if (!isTextOf(o.name, LIMITS.name, 'line'))
        return badText('name', o.name, LIMITS.name, 'line')
      if (!isPrev(o.prev)) return 'bad prev'
      return { type: o.type, name: o.name, prev: o.prev }
    case 'post/add':
      if (!isTextOf(o.text, LIMITS.text, 'prose'))
        return badText('text', o.text, LIMITS.text, 'prose')
      if (!isPrev(o.replyTo)) return 'bad replyTo'
      if (
        o.replyAt !== undefined &&
        !(Number.isSafeInteger(o.replyAt) && (o.replyAt as number) > 0)
      )
        return 'bad replyAt'
      return {
        type: o.type,
        text: o.text,
        replyTo: o.replyTo,
        ...(o.replyAt !== undefined ? { replyAt: o.replyAt as number } : {})
      }
    case 'task/add':
      if (!isTextOf(o.title, LIMITS.title, 'line'))
        return badText('title', o.title, LIMITS.title, 'line')
      if (o.assignee !== null && !isHexKey(o.assignee)) return 'bad assignee'
      return { type: o.type, title: o.title, assignee: o.assignee }
    case 'task/set':
      if (!isOpId(o.task)) return 'bad task id'
      if (!isPrev(o.prev)) return 'bad prev'
      if (o.field === 'title') {
        if (!isTextOf(o.value, LIMITS.title, 'line'))
          return badText('title', o.value, LIMITS.title, 'line')
      } else if (o.field === 'assignee') {
        if (o.value !== null && !isHexKey(o.value)) return 'bad assignee'
      } else if (o.field === 'done') {
        if (typeof o.value !== 'boolean') return 'bad done flag'
      } else return 'bad field'
      return { type: o.type, task: o.task, field: o.field, value: o.value, prev: o.prev }
    case 'kv/set': {
      if (!isTextOf(o.key, LIMITS.kvKey, 'line')) return badText('key', o.key, LIMITS.kvKey, 'line')
      if (!isPrev(o.prev)) return 'bad prev'
      if (o.value === undefined) return 'missing value'
      if (Buffer.byteLength(JSON.stringify(o.value)) > LIMITS.kvValueBytes) return 'value too large'
      return { type: o.type, key: o.key, value: o.value as JsonValue, prev: o.prev }
    }
    case 'kv/del':
      if (!isTextOf(o.key, LIMITS.kvKey, 'line')) return badText('key', o.key, LIMITS.kvKey, 'line')
      if (!isPrev(o.prev)) return 'bad prev'
      return { type: o.type, key: o.key, prev: o.prev }
    default:
      return `unknown op type ${JSON.stringify(printable(o.type)).slice(0, 60)}`
  }
}

function isRole(v: unknown): v is Role {
  return v === 'admin' || v === 'member'
}
