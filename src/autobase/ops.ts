/**
 * The operations a project's writers append, as a tagged union, and their validation.
 * Pure: no clock, no randomness, no I/O. Validation of shape happens here; rights and
 * references are checked in apply, against the view.
 */
import { isWriterProofShape, type WriterProof } from '../identity/writer-proof.js'

export const OP_VERSION = 1
/** Largest encoded op accepted, in bytes. Larger ops are skipped by every peer. */
export const MAX_OP_BYTES = 16 * 1024
/** Largest block (one op, or a batch of ops appended together) accepted, in bytes. */
export const MAX_BLOCK_BYTES = 1024 * 1024
/** Most ops one batch block may carry. */
export const MAX_BATCH_OPS = 1000
export const LIMITS = {
  name: 100,
  description: 2000,
  text: 4000,
  title: 200,
  kvKey: 200,
  kvValueBytes: 8 * 1024
} as const

export type Role = 'admin' | 'member'
export const ROLES: readonly Role[] = ['admin', 'member']

/** A 32-byte key as 64 lowercase hex characters (writer keys in ops). */
export type HexKey = string
/** A 16-byte op id as 32 lowercase hex characters. */
export type OpId = string

export type ProjectField = 'name' | 'description'
export type TaskField = 'title' | 'assignee' | 'done'
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue }

interface Envelope {
  v: number
  id: OpId
  /** Writer's clock in ms since the epoch: a hint, never trusted (see DESIGN.md). */
  ts: number
}

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

export type OpBody =
  | {
      type: 'project/init'
      name: string
      description: string
      public: boolean
      /** The creator's writer proof: this writer core belongs to that profile. */
      as: WriterProof
    }
  | { type: 'project/set'; field: ProjectField; value: string; prev: OpId | null }
  | { type: 'project/archive'; archived: boolean; prev: OpId | null }
  /** Adds a profile as a member, with its first writer. */
  | { type: 'member/add'; role: Role; invite: string | null; as: WriterProof }
  /** Adds another writer (device) of a profile that is already a member. */
  | { type: 'writer/add'; as: WriterProof }
  | { type: 'member/role'; profile: HexKey; role: Role }
  | { type: 'member/remove'; profile: HexKey }
  | { type: 'member/name'; name: string; prev: OpId | null }
  | { type: 'member/card'; card: ProfileCard }
  /** A device of the author's profile (and every device it attested) stops being accepted. */
  | { type: 'device/revoke'; device: HexKey }
  /** A delegate of the author's profile whose expiry the author's clock has passed. */
  | { type: 'device/expire'; device: HexKey }
  | { type: 'post/add'; text: string; replyTo: OpId | null }
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

export type Validation = { ok: true; op: Op } | { ok: false; reason: string }

const HEX64 = /^[0-9a-f]{64}$/
const HEX32 = /^[0-9a-f]{32}$/

type Obj = Record<string, unknown>

/** Decode and validate one block holding a single op. Never throws. */
export function decodeOp(block: unknown): Validation {
  const results = decodeBlock(block)
  return results.length === 1 ? (results[0] as Validation) : bad('not a single op')
}

/**
 * Decode and validate one block from a writer: a single op, or a batch `{ v, batch: [...] }`
 * of ops a node appended together (one block for many ops: fewer blocks to store and
 * replicate). Each op of a batch is judged on its own. Never throws.
 */
export function decodeBlock(block: unknown): Validation[] {
  if (!(block instanceof Uint8Array)) return [bad('not a binary block')]
  if (block.byteLength > MAX_BLOCK_BYTES)
    return [bad(`oversized block (${block.byteLength} bytes)`)]
  let value: unknown
  try {
    value = JSON.parse(
      Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('utf-8')
    )
  } catch {
    return [bad('not JSON')]
  }
  if (isObj(value) && 'batch' in value) {
    if (value.v !== OP_VERSION || !Array.isArray(value.batch)) return [bad('malformed batch')]
    if (value.batch.length === 0 || value.batch.length > MAX_BATCH_OPS) {
      return [bad(`batch of ${value.batch.length} ops`)]
    }
    return value.batch.map((op) => {
      const bytes = Buffer.byteLength(JSON.stringify(op) ?? '')
      return bytes > MAX_OP_BYTES ? bad(`oversized op (${bytes} bytes)`) : validateOp(op)
    })
  }
  if (block.byteLength > MAX_OP_BYTES) return [bad(`oversized op (${block.byteLength} bytes)`)]
  return [validateOp(value)]
}

/** Validate the shape of a decoded op. Never throws. */
export function validateOp(value: unknown): Validation {
  if (!isObj(value)) return bad('not an object')
  if (value.v !== OP_VERSION) return bad(`unsupported op version ${String(value.v)}`)
  if (!isOpId(value.id)) return bad('missing or malformed id')
  if (!isTs(value.ts)) return bad('missing or malformed ts')
  const body = validateBody(value)
  if (typeof body === 'string') return bad(body)
  return { ok: true, op: { v: OP_VERSION, id: value.id, ts: value.ts, ...body } as Op }
}

function validateBody(o: Obj): OpBody | string {
  switch (o.type) {
    case 'project/init':
      if (!isText(o.name, LIMITS.name)) return 'bad name'
      if (!isText(o.description, LIMITS.description, true)) return 'bad description'
      if (typeof o.public !== 'boolean') return 'bad public flag'
      if (!isWriterProofShape(o.as)) return 'bad writer proof'
      return {
        type: o.type,
        name: o.name,
        description: o.description,
        public: o.public,
        as: o.as
      }
    case 'project/set':
      if (o.field !== 'name' && o.field !== 'description') return 'bad field'
      if (!isText(o.value, LIMITS[o.field], o.field === 'description')) return 'bad value'
      if (!isPrev(o.prev)) return 'bad prev'
      return { type: o.type, field: o.field, value: o.value, prev: o.prev }
    case 'project/archive':
      if (typeof o.archived !== 'boolean') return 'bad archived flag'
      if (!isPrev(o.prev)) return 'bad prev'
      return { type: o.type, archived: o.archived, prev: o.prev }
    case 'member/add':
      if (!isWriterProofShape(o.as)) return 'bad writer proof'
      if (!isRole(o.role)) return 'bad role'
      if (o.invite !== null && !(typeof o.invite === 'string' && HEX64.test(o.invite)))
        return 'bad invite id'
      return { type: o.type, role: o.role, invite: o.invite, as: o.as }
    case 'writer/add':
      if (!isWriterProofShape(o.as)) return 'bad writer proof'
      return { type: o.type, as: o.as }
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
      if (!isText(o.name, LIMITS.name)) return 'bad name'
      if (!isPrev(o.prev)) return 'bad prev'
      return { type: o.type, name: o.name, prev: o.prev }
    case 'post/add':
      if (!isText(o.text, LIMITS.text)) return 'bad text'
      if (!isPrev(o.replyTo)) return 'bad replyTo'
      return { type: o.type, text: o.text, replyTo: o.replyTo }
    case 'task/add':
      if (!isText(o.title, LIMITS.title)) return 'bad title'
      if (o.assignee !== null && !isHexKey(o.assignee)) return 'bad assignee'
      return { type: o.type, title: o.title, assignee: o.assignee }
    case 'task/set':
      if (!isOpId(o.task)) return 'bad task id'
      if (!isPrev(o.prev)) return 'bad prev'
      if (o.field === 'title') {
        if (!isText(o.value, LIMITS.title)) return 'bad title'
      } else if (o.field === 'assignee') {
        if (o.value !== null && !isHexKey(o.value)) return 'bad assignee'
      } else if (o.field === 'done') {
        if (typeof o.value !== 'boolean') return 'bad done flag'
      } else return 'bad field'
      return { type: o.type, task: o.task, field: o.field, value: o.value, prev: o.prev }
    case 'kv/set': {
      if (!isText(o.key, LIMITS.kvKey)) return 'bad key'
      if (!isPrev(o.prev)) return 'bad prev'
      if (o.value === undefined) return 'missing value'
      if (Buffer.byteLength(JSON.stringify(o.value)) > LIMITS.kvValueBytes) return 'value too large'
      return { type: o.type, key: o.key, value: o.value as JsonValue, prev: o.prev }
    }
    case 'kv/del':
      if (!isText(o.key, LIMITS.kvKey)) return 'bad key'
      if (!isPrev(o.prev)) return 'bad prev'
      return { type: o.type, key: o.key, prev: o.prev }
    default:
      return `unknown op type ${JSON.stringify(String(o.type)).slice(0, 60)}`
  }
}

/** Encode an op for appending. */
export function encodeOp(op: Op): Buffer {
  return Buffer.from(JSON.stringify(op), 'utf-8')
}

/** Encode ops appended together as one block (a single op is encoded as itself). */
export function encodeBatch(ops: Op[]): Buffer {
  return joinBatch(ops.map(encodeOp))
}

/** Join ops already encoded with {@link encodeOp} into one block, without encoding them again. */
export function joinBatch(encoded: Buffer[]): Buffer {
  if (encoded.length === 1) return encoded[0] as Buffer
  const parts: Buffer[] = [Buffer.from(`{"v":${OP_VERSION},"batch":[`)]
  encoded.forEach((op, i) => {
    if (i > 0) parts.push(COMMA)
    parts.push(op)
  })
  parts.push(CLOSE)
  return Buffer.concat(parts)
}

const COMMA = Buffer.from(',')
const CLOSE = Buffer.from(']}')

function bad(reason: string): Validation {
  return { ok: false, reason }
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function isOpId(v: unknown): v is OpId {
  return typeof v === 'string' && HEX32.test(v)
}

export function isHexKey(v: unknown): v is HexKey {
  return typeof v === 'string' && HEX64.test(v)
}

function isPrev(v: unknown): v is OpId | null {
  return v === null || isOpId(v)
}

function isRole(v: unknown): v is Role {
  return v === 'admin' || v === 'member'
}

function isTs(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

function isText(v: unknown, max: number, allowEmpty = false): v is string {
  return typeof v === 'string' && v.length <= max && (allowEmpty || v.trim().length > 0)
}
