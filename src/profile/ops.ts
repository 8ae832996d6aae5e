/**
 * The operations a profile's devices append to the profile Autobase, as a tagged union, and
 * their validation (the profile's codec for the base kit). Pure: no clock, no randomness, no
 * I/O. Shapes are checked here; proofs, rights and references are checked in apply.
 *
 * One op per block, JSON, at most MAX_PROFILE_OP_BYTES. Keys are lowercase hex; proofs,
 * grants and sealed boxes are canonical base64.
 */
import type { Codec, Envelope, Validation } from '../autobase/envelope.js'
import {
  printable,
  isB64,
  isHexKey,
  isObj,
  isPrev,
  isTextOf,
  badText,
  type B64,
  type HexKey,
  type Obj,
  type OpId
} from '../autobase/shapes.js'
import type { SealedKeys } from '../views/profile.js'
import { MAX_PROOF_BYTES } from '../identity/devices.js'
import { MAX_SEALED_DATA, SEAL_OVERHEAD } from '../identity/seal.js'

export type { B64, HexKey, OpId, SealedKeys }

export const PROFILE_OP_VERSION = 1
/** Largest block (one op) accepted, in bytes. Larger blocks are skipped by every peer. */
export const MAX_PROFILE_OP_BYTES = 16 * 1024
export const PROFILE_LIMITS = {
  name: 100,
  /** Device proofs and delegation grants (a grant is a proof plus a few bytes). */
  proofBytes: MAX_PROOF_BYTES + 64,
  sealedBytes: MAX_SEALED_DATA + SEAL_OVERHEAD
} as const

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

export type ProfileValidation = Validation<ProfileOp>

/** The profile's ops for the base kit: one op per block, flat records. */
export const profileCodec: Codec<ProfileOp> = {
  version: PROFILE_OP_VERSION,
  maxOpBytes: MAX_PROFILE_OP_BYTES,
  maxBlockBytes: MAX_PROFILE_OP_BYTES,
  maxBatchOps: 0,
  maxDepth: 4,
  body: (o) => validateBody(o) as Omit<ProfileOp, keyof Envelope> | string
}

function validateBody(o: Obj): ProfileOpBody | string {
  switch (o.type) {
    case 'profile/init':
      if (!isHexKey(o.profile)) return 'bad profile id'
      if (!isHexKey(o.discovery)) return 'bad discovery key'
      if (!isHexKey(o.recovery)) return 'bad recovery key'
      if (!isTextOf(o.name, PROFILE_LIMITS.name, 'line'))
        return badText('name', o.name, PROFILE_LIMITS.name, 'line')
      if (!isHexKey(o.device)) return 'bad device key'
      if (!isB64(o.proof, PROFILE_LIMITS.proofBytes)) return 'bad device proof'
      if (!isTextOf(o.deviceName, PROFILE_LIMITS.name, 'line', true))
        return badText('device name', o.deviceName, PROFILE_LIMITS.name, 'line', true)
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
      if (!isTextOf(o.name, PROFILE_LIMITS.name, 'line'))
        return badText('name', o.name, PROFILE_LIMITS.name, 'line')
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
      if (!isTextOf(o.name, PROFILE_LIMITS.name, 'line', true))
        return badText('device name', o.name, PROFILE_LIMITS.name, 'line', true)
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
      // exactly 64 bytes: sodium throws on a shorter signature, and apply must never throw
      if (
        !isB64(o.proof, PROFILE_LIMITS.proofBytes) ||
        !isB64(o.sig, 64) ||
        fromB64(o.sig).length !== 64
      )
        return 'bad proof or signature'
      return { type: o.type, device: o.device, proof: o.proof, sig: o.sig }
    case 'project/add': {
      if (!isHexKey(o.key)) return 'bad project key'
      if (!isTextOf(o.name, PROFILE_LIMITS.name, 'line', true))
        return badText('project name', o.name, PROFILE_LIMITS.name, 'line', true)
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
      return `unknown op type ${JSON.stringify(printable(o.type)).slice(0, 60)}`
  }
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

/** What a recovering device signs: this base, and the writer core it adds. */
export function recoveryStatement(base: Uint8Array, writer: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from('flux/profile-recover/v1'), base, writer])
}
