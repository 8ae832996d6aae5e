/**
 * Sealed boxes (libsodium `crypto_box_seal`): how a profile hands a project's encryption key to
 * one of its devices, or to the recovery box, through its own replicated Autobase. Anyone can
 * seal to a public key; only the holder of the matching secret key can open. Device keys are
 * ed25519 (signing) keys, converted to curve25519 for the box.
 */
import sodium from 'sodium-universal'
import b4a from 'b4a'
import { FluxError } from '../errors.js'
import type { KeyPair } from './keys.js'

/** A curve25519 (`crypto_box`) key pair: 32-byte public and 32-byte secret key. */
export interface BoxKeyPair {
  publicKey: Buffer
  secretKey: Buffer
}

/** Bytes a sealed box adds to its content (ephemeral public key and MAC). */
export const SEAL_OVERHEAD = sodium.crypto_box_SEALBYTES
/** Largest content sealed here: keys, not documents. Also bounds what `open*` will try. */
export const MAX_SEALED_DATA = 1024

/**
 * Seal `data` to a device, given its ed25519 public key. Throws INVALID_INPUT for a key that is
 * not a valid ed25519 public key, or data larger than MAX_SEALED_DATA.
 */
export function sealToDevice(deviceEd25519PublicKey: Uint8Array, data: Uint8Array): Buffer {
  const pk = deviceBoxPublicKey(deviceEd25519PublicKey)
  try {
    return seal(pk, data)
  } finally {
    sodium.sodium_memzero(pk)
  }
}

/** Open a box sealed to this device; null for anything that does not open (never throws). */
export function openFromDevice(device: KeyPair, sealed: unknown): Buffer | null {
  if (!isBytes(device?.publicKey, 32) || !isBytes(device?.secretKey, 64)) return null
  const pk = b4a.alloc(sodium.crypto_box_PUBLICKEYBYTES) as Buffer
  const sk = b4a.alloc(sodium.crypto_box_SECRETKEYBYTES) as Buffer
  try {
    sodium.crypto_sign_ed25519_pk_to_curve25519(pk, device.publicKey)
    sodium.crypto_sign_ed25519_sk_to_curve25519(sk, device.secretKey)
    return open({ publicKey: pk, secretKey: sk }, sealed)
  } catch {
    return null
  } finally {
    sodium.sodium_memzero(sk)
  }
}

/** Seal `data` to the profile's recovery box (its curve25519 public key). Throws INVALID_INPUT. */
export function sealToRecovery(recoveryPublicKey: Uint8Array, data: Uint8Array): Buffer {
  if (!isBytes(recoveryPublicKey, sodium.crypto_box_PUBLICKEYBYTES)) {
    throw new FluxError('INVALID_INPUT', 'the recovery public key must be 32 bytes')
  }
  return seal(recoveryPublicKey, data)
}

/** Open a box sealed to the recovery box; null for anything that does not open (never throws). */
export function openRecovery(recovery: BoxKeyPair, sealed: unknown): Buffer | null {
  return open(recovery, sealed)
}

/**
 * The box key pair for a 32-byte seed (deterministic). The caller owns the seed and zeroes it;
 * used by `ProfileIdentity.recoveryBoxKeyPair()`.
 */
export function boxKeyPairFromSeed(seed: Uint8Array): BoxKeyPair {
  if (!isBytes(seed, sodium.crypto_box_SEEDBYTES)) {
    throw new FluxError('INTERNAL', `a box seed is ${sodium.crypto_box_SEEDBYTES} bytes`)
  }
  const publicKey = b4a.alloc(sodium.crypto_box_PUBLICKEYBYTES) as Buffer
  const secretKey = b4a.alloc(sodium.crypto_box_SECRETKEYBYTES) as Buffer
  sodium.crypto_box_seed_keypair(publicKey, secretKey, seed)
  return { publicKey, secretKey }
}

/** The curve25519 public key of a device (ed25519) key; throws INVALID_INPUT. */
export function deviceBoxPublicKey(deviceEd25519PublicKey: Uint8Array): Buffer {
  if (!isBytes(deviceEd25519PublicKey, 32)) {
    throw new FluxError('INVALID_INPUT', 'the device public key must be 32 bytes')
  }
  const pk = b4a.alloc(sodium.crypto_box_PUBLICKEYBYTES) as Buffer
  try {
    sodium.crypto_sign_ed25519_pk_to_curve25519(pk, deviceEd25519PublicKey)
  } catch {
    throw new FluxError('INVALID_INPUT', 'the device public key is not a valid ed25519 key')
  }
  return pk
}

function seal(pk: Uint8Array, data: Uint8Array): Buffer {
  if (!(data instanceof Uint8Array) || data.byteLength > MAX_SEALED_DATA) {
    throw new FluxError('INVALID_INPUT', `sealed data must be at most ${MAX_SEALED_DATA} bytes`)
  }
  const out = b4a.alloc(data.byteLength + SEAL_OVERHEAD) as Buffer
  sodium.crypto_box_seal(out, data, pk)
  return out
}

function open(keys: BoxKeyPair, sealed: unknown): Buffer | null {
  if (!isBytes(keys?.publicKey, sodium.crypto_box_PUBLICKEYBYTES)) return null
  if (!isBytes(keys?.secretKey, sodium.crypto_box_SECRETKEYBYTES)) return null
  if (!(sealed instanceof Uint8Array)) return null
  if (sealed.byteLength < SEAL_OVERHEAD || sealed.byteLength > MAX_SEALED_DATA + SEAL_OVERHEAD) {
    return null
  }
  const out = b4a.alloc(sealed.byteLength - SEAL_OVERHEAD) as Buffer
  try {
    return sodium.crypto_box_seal_open(out, sealed, keys.publicKey, keys.secretKey) ? out : null
  } catch {
    return null
  }
}

function isBytes(v: unknown, length: number): v is Uint8Array {
  return v instanceof Uint8Array && v.byteLength === length
}
