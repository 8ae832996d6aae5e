import IdentityKey from 'keet-identity-key'
import z32 from 'z32'
import c from 'compact-encoding'
import type { Encoder } from 'compact-encoding'
import b4a from 'b4a'
import { FluxError } from '../errors.js'
import { decodeKey } from './keys.js'
import { decodeProof, verifyDevice } from './devices.js'
import type { KeyPair } from './profile-keys.js'

/** The outcome of checking a signature; `reason` is for people, not for branching. */
export type SignatureVerdict =
  | {
      valid: true
      profileId: Buffer
      /** The device that signed, and its chain back to the profile (for revocation checks). */
      devicePublicKey: Buffer
      chain: Buffer[]
    }
  | { valid: false; reason: string }

const SIGN_TAG = 'flux/sign/v1'

/**
 * Sign `message` as the profile: the device key signs, and the signature carries the device
 * proof so anyone can check it chains to the profile id. Returns one z-base-32 string.
 * Throws DEVICE_PROOF_INVALID if `deviceProof` does not belong to `device`.
 */
export function signMessage(
  message: string | Uint8Array,
  device: KeyPair,
  deviceProof: Buffer
): string {
  if (verifyDevice(deviceProof, { devicePublicKey: device.publicKey }) === null) {
    throw new FluxError('DEVICE_PROOF_INVALID', 'this device holds no valid proof to sign with')
  }
  return z32.encode(IdentityKey.attestData(signable(message), device, deviceProof))
}

/**
 * Check that `signature` was made over `message` by a device of the profile `profileId`.
 * A well-formed but wrong signature (other profile, changed message, forged device) gives
 * `{ valid: false }`; text that is not a signature at all throws SIGNATURE_MALFORMED, and a
 * malformed profile id KEY_MALFORMED. Revocation is not known here: check `chain` against the
 * profile's revocations when that matters.
 */
export function verifySignature(
  profileId: string | Uint8Array,
  signature: string,
  message: string | Uint8Array
): SignatureVerdict {
  const expected = typeof profileId === 'string' ? decodeKey(profileId, 'profile id') : profileId
  if (!(expected instanceof Uint8Array) || expected.byteLength !== 32) {
    throw new FluxError('KEY_MALFORMED', 'a profile id is 32 bytes')
  }
  const proof = parseSignature(signature)
  const decoded = decodeProof(proof)
  if (decoded === null) throw malformed()
  if (decoded.identity === null || !b4a.equals(decoded.identity, expected)) {
    return { valid: false, reason: 'signed for another profile' }
  }
  // Flux never signs with the identity itself (its secret is not kept), only with devices
  if (decoded.chain.length === 0) return { valid: false, reason: 'not signed by a device' }
  let info: IdentityKey.VerifiedProof | null = null
  try {
    info = IdentityKey.verify(proof, signable(message), { expectedIdentity: expected })
  } catch {
    info = null
  }
  if (info === null) {
    return { valid: false, reason: 'the signature does not match this message and profile' }
  }
  return {
    valid: true,
    profileId: b4a.from(info.identityPublicKey) as Buffer,
    devicePublicKey: b4a.from(info.devicePublicKey) as Buffer,
    chain: decoded.chain.map((link) => b4a.from(link.publicKey) as Buffer)
  }
}

/**
 * The bytes of a signature string; throws SIGNATURE_MALFORMED for anything that is not a
 * canonical z-base-32 encoding of a signed proof. Whitespace (from line-wrapped copies) is ignored.
 */
export function parseSignature(text: string): Buffer {
  if (typeof text !== 'string') throw malformed()
  const s = text.replace(/\s+/g, '')
  if (s.length === 0 || s.length > 4096 || !/^[ybndrfg8ejkmcpqxot1uwisza345h769]+$/.test(s)) {
    throw malformed()
  }
  let bytes: Buffer
  try {
    bytes = z32.decode(s)
  } catch {
    throw malformed()
  }
  // a truncated copy decodes to a shorter buffer: reject it here rather than as "invalid"
  if (z32.encode(bytes) !== s) throw malformed()
  const decoded = decodeProof(bytes)
  if (decoded === null || decoded.data === null) throw malformed()
  return b4a.from(bytes) as Buffer
}

function malformed(): FluxError {
  return new FluxError('SIGNATURE_MALFORMED', 'this is not a Flux signature (copied incompletely?)')
}

// Domain-separated from delegation grants (devices.ts) and anything else Flux attests.
function signable(message: string | Uint8Array): Buffer {
  const bytes = typeof message === 'string' ? b4a.from(message, 'utf8') : message
  return b4a.from(c.encode(Signed, bytes)) as Buffer
}

const Signed: Encoder<Uint8Array> = {
  preencode(state, m) {
    c.string.preencode(state, SIGN_TAG)
    c.buffer.preencode(state, m)
  },
  encode(state, m) {
    c.string.encode(state, SIGN_TAG)
    c.buffer.encode(state, m)
  },
  decode() {
    throw new Error('signed messages are only encoded')
  }
}
