import IdentityKey from 'keet-identity-key'
import { ProofEncoding, type DecodedProof } from 'keet-identity-key/lib/encoding.js'
import c from 'compact-encoding'
import type { Encoder } from 'compact-encoding'
import b4a from 'b4a'
import { FluxError } from '../errors.js'
import type { KeyPair } from './profile-keys.js'

/** Proofs come from peers: anything larger than a few links is not one of ours. */
export const MAX_PROOF_BYTES = 2048
/** Longest device chain accepted (identity → device → linked device → ...). */
export const MAX_CHAIN = 8

/** A device proof that checked out. */
export interface VerifiedDevice {
  profileId: Buffer
  devicePublicKey: Buffer
  /**
   * Device keys from the one the identity attested down to this one. A revocation of any of
   * them covers this device too, since each was attested by the one before it.
   */
  chain: Buffer[]
  /** When the identity attested the chain's first device (ms, whole seconds). */
  epoch: number
}

/** What a caller expects a proof to show; omitted fields are not checked. */
export interface ProofExpectation {
  profileId?: Uint8Array
  devicePublicKey?: Uint8Array
}

/** A time-limited device (`flux device delegate --for`), see DESIGN.md "Delegated devices". */
export interface VerifiedDelegation {
  profileId: Buffer
  devicePublicKey: Buffer
  /** Ops with a timestamp at or after this (ms) are not accepted, see `isDelegationActive`. */
  expiresAt: number
  /** The full device that granted it, and its chain (revoking any of them ends the grant). */
  grantedBy: Buffer
  chain: Buffer[]
}

const DELEGATION_TAG = 'flux/delegation/v1'

/** Decode a proof from untrusted bytes: canonical encoding, bounded size, or null. */
export function decodeProof(proof: unknown): DecodedProof | null {
  if (!(proof instanceof Uint8Array) || proof.byteLength > MAX_PROOF_BYTES) return null
  try {
    const decoded = ProofEncoding.decode(c.state(0, proof.byteLength, proof))
    if (decoded.version !== 1 || decoded.identity === null) return null
    if (decoded.chain.length > MAX_CHAIN) return null
    // one encoding per proof: trailing bytes or odd varints would give one proof many spellings
    if (!b4a.equals(c.encode(ProofEncoding, decoded), proof)) return null
    return decoded
  } catch {
    return null
  }
}

/**
 * Check that `proof` chains `devicePublicKey` to the profile `profileId`. Returns the verified
 * facts, or null for anything else (wrong profile, wrong device, forged link, garbage); never
 * throws. The identity itself is never a device: a proof must hold at least one link.
 */
export function verifyDevice(proof: unknown, expect: ProofExpectation = {}): VerifiedDevice | null {
  const decoded = decodeProof(proof)
  if (decoded === null || decoded.data !== null || decoded.chain.length === 0) return null
  if (!validExpectation(expect)) return null
  try {
    const info = IdentityKey.verify(b4a.from(proof as Uint8Array) as Buffer, null, {
      expectedIdentity: expect.profileId,
      expectedDevice: expect.devicePublicKey
    })
    if (info === null) return null
    return {
      profileId: copy(info.identityPublicKey),
      devicePublicKey: copy(info.devicePublicKey),
      chain: decoded.chain.map((link) => copy(link.publicKey)),
      epoch: decoded.epoch
    }
  } catch {
    return null
  }
}

/**
 * Attest a further device of the same profile (device linking): `parent` is an existing device
 * and `parentProof` its own proof. Throws DEVICE_PROOF_INVALID if that proof does not belong
 * to `parent`, INVALID_INPUT for a malformed key.
 */
export function attestDevice(
  newDevicePublicKey: Uint8Array,
  parent: KeyPair,
  parentProof: Buffer
): Buffer {
  checkKey(newDevicePublicKey, 'device public key')
  const verified = verifyDevice(parentProof, { devicePublicKey: parent.publicKey })
  if (verified === null) {
    throw new FluxError('DEVICE_PROOF_INVALID', 'this device holds no valid proof to attest with')
  }
  if (verified.chain.length >= MAX_CHAIN) {
    throw new FluxError('DEVICE_PROOF_INVALID', `device chains are limited to ${MAX_CHAIN} links`)
  }
  return IdentityKey.attestDevice(newDevicePublicKey, parent, parentProof)
}

/**
 * Grant `delegatePublicKey` the right to act for the profile until `expiresAt` (ms since the
 * epoch). The delegate is deliberately not attested as a device: its only authority is this
 * grant, so it can never present an unlimited device proof. Returns the encoded grant.
 */
export function delegateDevice(
  delegatePublicKey: Uint8Array,
  grantor: KeyPair,
  grantorProof: Buffer,
  expiresAt: number
): Buffer {
  checkKey(delegatePublicKey, 'device public key')
  if (!Number.isSafeInteger(expiresAt) || expiresAt <= 0) {
    throw new FluxError('INVALID_INPUT', 'a delegation needs an expiry time')
  }
  if (verifyDevice(grantorProof, { devicePublicKey: grantor.publicKey }) === null) {
    throw new FluxError('DEVICE_PROOF_INVALID', 'this device holds no valid proof to delegate with')
  }
  const statement = delegationStatement(delegatePublicKey, expiresAt)
  const proof = IdentityKey.attestData(statement, grantor, grantorProof)
  return b4a.from(c.encode(Grant, { device: delegatePublicKey, expiresAt, proof })) as Buffer
}

/** Check a delegation grant; null for anything invalid (never throws). Expiry is not judged here. */
export function verifyDelegation(
  grant: unknown,
  expect: ProofExpectation = {}
): VerifiedDelegation | null {
  if (!(grant instanceof Uint8Array) || grant.byteLength > MAX_PROOF_BYTES + 64) return null
  if (!validExpectation(expect)) return null
  try {
    const g = c.decode(Grant, grant)
    if (!b4a.equals(c.encode(Grant, g), grant)) return null
    if (expect.devicePublicKey && !b4a.equals(g.device, expect.devicePublicKey)) return null
    const decoded = decodeProof(g.proof)
    if (decoded === null || decoded.data === null || decoded.chain.length === 0) return null
    const statement = delegationStatement(g.device, g.expiresAt)
    const info = IdentityKey.verify(b4a.from(g.proof) as Buffer, statement, {
      expectedIdentity: expect.profileId
    })
    if (info === null) return null
    return {
      profileId: copy(info.identityPublicKey),
      devicePublicKey: copy(g.device),
      expiresAt: g.expiresAt,
      grantedBy: copy(info.devicePublicKey),
      chain: decoded.chain.map((link) => copy(link.publicKey))
    }
  } catch {
    return null
  }
}

/**
 * Whether a delegated device's op is still accepted, judged only from replicated data so that
 * every peer agrees (DESIGN.md): the op's own timestamp and the profile clock (the highest op
 * timestamp applied so far from the profile's full devices) must both be before the expiry.
 */
export function isDelegationActive(
  delegation: { expiresAt: number },
  at: { opTimestamp: number; profileClock: number }
): boolean {
  const { opTimestamp, profileClock } = at
  if (!Number.isFinite(opTimestamp) || !Number.isFinite(profileClock)) return false
  return opTimestamp < delegation.expiresAt && profileClock < delegation.expiresAt
}

// Domain-separated from message signatures (sign.ts), so a signed message can never be
// replayed as a grant or the other way round.
function delegationStatement(device: Uint8Array, expiresAt: number): Buffer {
  return b4a.from(c.encode(Statement, { device, expiresAt })) as Buffer
}

const Statement: Encoder<{ device: Uint8Array; expiresAt: number }> = {
  preencode(state, s) {
    c.string.preencode(state, DELEGATION_TAG)
    c.fixed32.preencode(state, s.device)
    c.uint.preencode(state, s.expiresAt)
  },
  encode(state, s) {
    c.string.encode(state, DELEGATION_TAG)
    c.fixed32.encode(state, s.device)
    c.uint.encode(state, s.expiresAt)
  },
  decode() {
    throw new Error('statements are only encoded')
  }
}

interface GrantFields {
  device: Uint8Array
  expiresAt: number
  proof: Uint8Array
}

const GRANT_VERSION = 1

const Grant: Encoder<GrantFields> = {
  preencode(state, g) {
    c.uint.preencode(state, GRANT_VERSION)
    c.fixed32.preencode(state, g.device)
    c.uint.preencode(state, g.expiresAt)
    c.buffer.preencode(state, g.proof)
  },
  encode(state, g) {
    c.uint.encode(state, GRANT_VERSION)
    c.fixed32.encode(state, g.device)
    c.uint.encode(state, g.expiresAt)
    c.buffer.encode(state, g.proof)
  },
  decode(state) {
    if (c.uint.decode(state) !== GRANT_VERSION) throw new Error('unknown grant version')
    const device = c.fixed32.decode(state)
    const expiresAt = c.uint.decode(state)
    const proof = c.buffer.decode(state)
    if (proof === null) throw new Error('grant without proof')
    if (state.start !== state.end) throw new Error('trailing bytes')
    return { device, expiresAt, proof }
  }
}

function validExpectation(expect: ProofExpectation): boolean {
  const ok = (k: unknown): boolean =>
    k === undefined || (k instanceof Uint8Array && k.length === 32)
  return ok(expect.profileId) && ok(expect.devicePublicKey)
}

function checkKey(key: unknown, what: string): void {
  if (!(key instanceof Uint8Array) || key.byteLength !== 32) {
    throw new FluxError('INVALID_INPUT', `the ${what} must be 32 bytes`)
  }
}

function copy(buf: Uint8Array): Buffer {
  return b4a.from(buf) as Buffer
}
