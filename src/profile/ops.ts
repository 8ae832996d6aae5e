/**
 * The operations a profile's devices append to the profile Autobase, as a tagged union, and
 * their validation. Pure: no clock, no randomness, no I/O. Shapes are checked here; proofs,
 * rights and references are checked in apply, against the view.
 *
 * One op per block, JSON, at most MAX_PROFILE_OP_BYTES. Keys are lowercase hex; proofs,
 * grants and sealed boxes are canonical base64.
 */
import { isHexKey, isOpId, type HexKey, type OpId } from '../autobase/ops.js'
import { MAX_PROOF_BYTES } from '../identity/devices.js'
import { MAX_SEALED_DATA, SEAL_OVERHEAD } from '../identity/seal.js'

export type { HexKey, OpId }

export const PROFILE_OP_VERSION = 1
/** Largest block (one op) accepted, in bytes. Larger blocks are skipped by every peer. */
export const MAX_PROFILE_OP_BYTES = 16 * 1024
export const PROFILE_LIMITS = {
  name: 100,
  /** Device proofs and delegation grants (a grant is a proof plus a few bytes). */
  proofBytes: MAX_PROOF_BYTES + 64,
  sealedBytes: MAX_SEALED_DATA + SEAL_OVERHEAD
} as const

/** Base64 text of binary data (a proof, a grant or a sealed box). */
export type B64 = string
/** Sealed copies of one key, by recipient device (hex ed25519 public key). */
export type SealedKeys = Record<HexKey, B64>

interface Envelope {
  v: number
  id: OpId
  /** Writer's clock in ms since the epoch: a hint, never trusted. */
  ts: number
}

export type ProfileOpBody =
  | {
      type: 'profile/init'
      /** The profile id (identity public key). */
      profile: HexKey
      /** The profile discovery public key. */
      discovery: HexKey
      /** The recovery box public key (curve25519). */
      recovery: HexKey
      name: string
      /** The first device, attested by the identity, writing through the bootstrap core. */
      device: HexKey
      proof: B64
      deviceName: string
    }
  | { type: 'profile/name'; name: string; prev: OpId | null }
  | {
      type: 'device/add'
      device: HexKey
      /** Exactly one of `proof` (a full device) and `grant` (a delegated device). */
      proof: B64 | null
      grant: B64 | null
      /** Its writer core, if it writes to the profile; always null for a delegate. */
      writer: HexKey | null
      name: string
    }
  | { type: 'device/revoke'; device: HexKey }
  /**
   * A device attested by the identity itself (recovery from the phrase) adds its own writer,
   * appended optimistically: `sig` is the device's signature over `recoveryStatement`.
   */
  | { type: 'device/recover'; device: HexKey; proof: B64; sig: B64 }
  | {
      type: 'project/add'
      key: HexKey
      name: string
      /** The project encryption key sealed to devices; {} for a public project. */
      keys: SealedKeys
      /** The project encryption key sealed to the recovery box. */
      recovery: B64 | null
      public: boolean
    }
  | { type: 'project/keys'; key: HexKey; keys: SealedKeys }
  | { type: 'project/remove'; key: HexKey }

export type ProfileOp = Envelope & ProfileOpBody
export type ProfileOpType = ProfileOpBody['type']

export type ProfileValidation = { ok: true; op: ProfileOp } | { ok: false; reason: string }

type Obj = Record<string, unknown>

/** Decode and validate one block from a profile writer. Never throws. */
export function decodeProfileBlock(block: unknown): ProfileValidation {
  if (!(block instanceof Uint8Array)) return bad('not a binary block')
  if (block.byteLength > MAX_PROFILE_OP_BYTES) {
    return bad(`oversized op (${block.byteLength} bytes)`)
  }
  let value: unknown
  try {
    value = JSON.parse(
      Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('utf-8')
    )
  } catch {
    return bad('not JSON')
  }
  return validateProfileOp(value)
}

/** Validate the shape of a decoded op. Never throws. */
export function validateProfileOp(value: unknown): ProfileValidation {
  if (!isObj(value)) return bad('not an object')
  if (value.v !== PROFILE_OP_VERSION) return bad(`unsupported op version ${String(value.v)}`)
  if (!isOpId(value.id)) return bad('missing or malformed id')
  if (!isTs(value.ts)) return bad('missing or malformed ts')
  const body = validateBody(value)
  if (typeof body === 'string') return bad(body)
  return { ok: true, op: { v: PROFILE_OP_VERSION, id: value.id, ts: value.ts, ...body } }
}

function validateBody(o: Obj): ProfileOpBody | string {
  switch (o.type) {
    case 'profile/init':
      if (!isHexKey(o.profile)) return 'bad profile id'
      if (!isHexKey(o.discovery)) return 'bad discovery key'
      if (!isHexKey(o.recovery)) return 'bad recovery key'
      if (!isText(o.name, PROFILE_LIMITS.name)) return 'bad name'
      if (!isHexKey(o.device)) return 'bad device key'
      if (!isB64(o.proof, PROFILE_LIMITS.proofBytes)) return 'bad device proof'
      if (!isText(o.deviceName, PROFILE_LIMITS.name, true)) return 'bad device name'
      return {
        type: o.type,
        profile: o.profile,
        discovery: o.discovery,
        recovery: o.recovery,
        name: o.name,
        device: o.device,
        proof: o.proof,
        deviceName: o.deviceName
      }
    case 'profile/name':
      if (!isText(o.name, PROFILE_LIMITS.name)) return 'bad name'
      if (!isPrev(o.prev)) return 'bad prev'
      return { type: o.type, name: o.name, prev: o.prev }
    case 'device/add': {
      if (!isHexKey(o.device)) return 'bad device key'
      const proof = o.proof === null || isB64(o.proof, PROFILE_LIMITS.proofBytes)
      const grant = o.grant === null || isB64(o.grant, PROFILE_LIMITS.proofBytes)
      if (!proof) return 'bad device proof'
      if (!grant) return 'bad delegation grant'
      if ((o.proof === null) === (o.grant === null)) return 'needs exactly one of proof and grant'
      if (o.writer !== null && !isHexKey(o.writer)) return 'bad writer key'
      if (o.grant !== null && o.writer !== null) return 'a delegated device cannot be a writer'
      if (!isText(o.name, PROFILE_LIMITS.name, true)) return 'bad device name'
      return {
        type: o.type,
        device: o.device,
        proof: o.proof as B64 | null,
        grant: o.grant as B64 | null,
        writer: o.writer,
        name: o.name
      }
    }
    case 'device/revoke':
      if (!isHexKey(o.device)) return 'bad device key'
      return { type: o.type, device: o.device }
    case 'device/recover':
      if (!isHexKey(o.device)) return 'bad device key'
      if (!isB64(o.proof, PROFILE_LIMITS.proofBytes) || !isB64(o.sig, 64))
        return 'bad proof or signature'
      return { type: o.type, device: o.device, proof: o.proof, sig: o.sig }
    case 'project/add': {
      if (!isHexKey(o.key)) return 'bad project key'
      if (!isText(o.name, PROFILE_LIMITS.name, true)) return 'bad project name'
      const keys = sealedKeys(o.keys)
      if (keys === null) return 'bad sealed keys'
      if (o.recovery !== null && !isB64(o.recovery, PROFILE_LIMITS.sealedBytes)) {
        return 'bad recovery box'
      }
      if (typeof o.public !== 'boolean') return 'bad public flag'
      return {
        type: o.type,
        key: o.key,
        name: o.name,
        keys,
        recovery: o.recovery,
        public: o.public
      }
    }
    case 'project/keys': {
      if (!isHexKey(o.key)) return 'bad project key'
      const keys = sealedKeys(o.keys)
      if (keys === null) return 'bad sealed keys'
      return { type: o.type, key: o.key, keys }
    }
    case 'project/remove':
      if (!isHexKey(o.key)) return 'bad project key'
      return { type: o.type, key: o.key }
    default:
      return `unknown op type ${JSON.stringify(String(o.type)).slice(0, 60)}`
  }
}

/** Encode an op for appending (one op per block). */
export function encodeProfileOp(op: ProfileOp): Buffer {
  return Buffer.from(JSON.stringify(op), 'utf-8')
}

/** Binary to the base64 text ops carry. */
export function toB64(bytes: Uint8Array): B64 {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/** Base64 text from a validated op back to bytes. */
export function fromB64(text: B64): Buffer {
  return Buffer.from(text, 'base64')
}

function sealedKeys(v: unknown): SealedKeys | null {
  if (!isObj(v)) return null
  const out: SealedKeys = {}
  for (const [device, sealed] of Object.entries(v)) {
    if (!isHexKey(device) || !isB64(sealed, PROFILE_LIMITS.sealedBytes)) return null
    out[device] = sealed
  }
  return out
}

function bad(reason: string): ProfileValidation {
  return { ok: false, reason }
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isPrev(v: unknown): v is OpId | null {
  return v === null || isOpId(v)
}

function isTs(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

function isText(v: unknown, max: number, allowEmpty = false): v is string {
  return typeof v === 'string' && v.length <= max && (allowEmpty || v.trim().length > 0)
}

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Canonical, non-empty base64 of at most `maxBytes` bytes: one spelling per value. */
function isB64(v: unknown, maxBytes: number): v is B64 {
  if (typeof v !== 'string' || v.length === 0) return false
  if (v.length > Math.ceil(maxBytes / 3) * 4 || !B64_RE.test(v)) return false
  // non-zero padding bits would give the same bytes a second spelling
  return Buffer.from(v, 'base64').toString('base64') === v
}

/** What a recovering device signs: this base, and the writer core it adds. */
export function recoveryStatement(base: Uint8Array, writer: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from('flux/profile-recover/v1'), base, writer])
}
