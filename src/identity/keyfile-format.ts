// The key file's JSON layout and its binary parts, kept apart from the crypto and file I/O in
// keyfile.ts. Everything read from disk is checked field by field: a damaged file must fail
// here with KEYFILE_CORRUPT, never later with a TypeError deep in sodium.
import c from 'compact-encoding'
import type { Encoder } from 'compact-encoding'
import sodium from 'sodium-universal'
import b4a from 'b4a'
import { FluxError } from '../errors.js'
import { decodeKey, encodeKey } from './keys.js'
import { MAX_PROOF_BYTES, verifyDelegation, verifyDevice } from './devices.js'
import type { DeviceKeys } from './profile-keys.js'

export const KEYFILE_TYPE = 'flux-device-key'
export const KEYFILE_VERSION = 1

/** Argon2id cost. Stored in each file, so later versions can raise it without a format change. */
export interface KdfParams {
  alg: 'argon2id13'
  opslimit: number
  memlimit: number
}

/** A key file with its binary fields decoded. */
export interface KeyFileDocument {
  type: typeof KEYFILE_TYPE
  version: typeof KEYFILE_VERSION
  profile: { id: Buffer; name: string }
  /** `proof` is a delegation grant when `delegated` (a time-limited device). */
  device: { publicKey: Buffer; proof: Buffer; delegated: boolean }
  kdf: KdfParams & { salt: Buffer }
  cipher: { alg: 'xchacha20poly1305-ietf'; nonce: Buffer; check: Buffer; box: Buffer }
}

// Bounds on what a file may ask for: a tampered file must not make us allocate gigabytes.
const MAX_OPSLIMIT = 10
const MAX_MEMLIMIT = sodium.crypto_pwhash_MEMLIMIT_SENSITIVE
/** Longest profile name a key file holds. */
export const MAX_NAME = 200
const MAX_BOX = 1024

export function serializeKeyFile(doc: KeyFileDocument): string {
  const hex = (b: Buffer): string => b4a.toString(b, 'hex')
  const json = {
    type: doc.type,
    version: doc.version,
    profile: { id: encodeKey(doc.profile.id), name: doc.profile.name },
    device: {
      publicKey: encodeKey(doc.device.publicKey),
      proof: hex(doc.device.proof),
      ...(doc.device.delegated ? { delegated: true } : {})
    },
    kdf: { ...doc.kdf, salt: hex(doc.kdf.salt) },
    cipher: {
      ...doc.cipher,
      nonce: hex(doc.cipher.nonce),
      check: hex(doc.cipher.check),
      box: hex(doc.cipher.box)
    }
  }
  return JSON.stringify(json, null, 2) + '\n'
}

/** Parse and check a key file's text; throws KEYFILE_CORRUPT naming the first bad field. */
export function parseKeyFile(text: string): KeyFileDocument {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw corrupt('it is not a key file (not JSON, or cut short)')
  }
  const root = obj(json, 'the file')
  if (root.type !== KEYFILE_TYPE) throw corrupt('it is not a Flux key file')
  if (root.version !== KEYFILE_VERSION) {
    throw corrupt(`key file version ${String(root.version)} is not supported by this Flux`)
  }
  const profile = obj(root.profile, 'profile')
  const device = obj(root.device, 'device')
  const kdf = obj(root.kdf, 'kdf')
  const cipher = obj(root.cipher, 'cipher')
  if (kdf.alg !== 'argon2id13') throw corrupt('unknown key derivation')
  if (cipher.alg !== 'xchacha20poly1305-ietf') throw corrupt('unknown cipher')
  const name = profile.name
  if (typeof name !== 'string' || name.length > MAX_NAME) throw corrupt('bad profile.name')
  if (device.delegated !== undefined && device.delegated !== true) {
    throw corrupt('bad device.delegated')
  }
  return {
    type: KEYFILE_TYPE,
    version: KEYFILE_VERSION,
    profile: { id: key(profile.id, 'profile.id'), name },
    device: {
      publicKey: key(device.publicKey, 'device.publicKey'),
      proof: hex(device.proof, 'device.proof', 1, MAX_PROOF_BYTES + 64),
      delegated: device.delegated === true
    },
    kdf: {
      alg: 'argon2id13',
      opslimit: int(kdf.opslimit, 'kdf.opslimit', sodium.crypto_pwhash_OPSLIMIT_MIN, MAX_OPSLIMIT),
      memlimit: int(kdf.memlimit, 'kdf.memlimit', sodium.crypto_pwhash_MEMLIMIT_MIN, MAX_MEMLIMIT),
      salt: hex(kdf.salt, 'kdf.salt', sodium.crypto_pwhash_SALTBYTES)
    },
    cipher: {
      alg: 'xchacha20poly1305-ietf',
      nonce: hex(cipher.nonce, 'cipher.nonce', sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES),
      check: hex(cipher.check, 'cipher.check', 32),
      box: hex(cipher.box, 'cipher.box', 1, MAX_BOX)
    }
  }
}

/**
 * The public parts, bound to the box as additional data: changing the profile id, name,
 * device key, proof or KDF settings in the file makes the box fail to open.
 */
export function additionalData(doc: KeyFileDocument): Buffer {
  return b4a.from(c.encode(PublicParts, doc)) as Buffer
}

const SECRETS_VERSION = 1
const HAS_PROFILE_SECRETS = 1
/** Set when the discovery secret key is kept (else only its public key is). */
const HAS_DISCOVERY_SECRET = 2

/** Whether a key file's device proof (or grant) chains its device to its profile. */
export function proofMatches(doc: KeyFileDocument): boolean {
  const expect = { profileId: doc.profile.id, devicePublicKey: doc.device.publicKey }
  return doc.device.delegated
    ? verifyDelegation(doc.device.proof, expect) !== null
    : verifyDevice(doc.device.proof, expect) !== null
}

/** The sealed plaintext: device secret key, then (flagged) the profile's keys. */
export function encodeSecrets(keys: DeviceKeys): Buffer {
  const s = keys.secrets
  const discoverySecret = s?.discoveryKeyPair.secretKey ?? null
  const flags = s ? HAS_PROFILE_SECRETS | (discoverySecret ? HAS_DISCOVERY_SECRET : 0) : 0
  const state = c.state()
  for (const step of ['preencode', 'encode'] as const) {
    if (step === 'encode') state.buffer = b4a.alloc(state.end)
    c.uint[step](state, SECRETS_VERSION)
    c.fixed64[step](state, keys.device.secretKey)
    c.uint[step](state, flags)
    if (s) {
      if (discoverySecret) c.fixed64[step](state, discoverySecret)
      else c.fixed32[step](state, s.discoveryKeyPair.publicKey)
      c.fixed32[step](state, s.encryptionKey)
    }
  }
  return state.buffer as Buffer
}

/**
 * Rebuild the device keys from an opened box, with copies (the caller zeroes `plain`). Null if
 * the contents do not match the file's public parts: fail closed, never half a key.
 */
export function decodeSecrets(plain: Buffer, doc: KeyFileDocument): DeviceKeys | null {
  try {
    const state = c.state(0, plain.byteLength, plain)
    if (c.uint.decode(state) !== SECRETS_VERSION) return null
    const deviceSecret = b4a.from(c.fixed64.decode(state)) as Buffer
    const flags = c.uint.decode(state)
    if ((flags & ~(HAS_PROFILE_SECRETS | HAS_DISCOVERY_SECRET)) !== 0) return null
    if (flags === HAS_DISCOVERY_SECRET) return null
    let secrets: DeviceKeys['secrets'] = null
    if (flags & HAS_PROFILE_SECRETS) {
      let discoveryKeyPair: { publicKey: Buffer; secretKey: Buffer | null }
      if (flags & HAS_DISCOVERY_SECRET) {
        const discoverySecret = b4a.from(c.fixed64.decode(state)) as Buffer
        // an ed25519 secret key ends with its public key
        discoveryKeyPair = {
          publicKey: b4a.from(discoverySecret.subarray(32)) as Buffer,
          secretKey: discoverySecret
        }
      } else {
        discoveryKeyPair = {
          publicKey: b4a.from(c.fixed32.decode(state)) as Buffer,
          secretKey: null
        }
      }
      secrets = { discoveryKeyPair, encryptionKey: b4a.from(c.fixed32.decode(state)) as Buffer }
    }
    const ok =
      state.start === state.end &&
      b4a.equals(deviceSecret.subarray(32), doc.device.publicKey) &&
      proofMatches(doc)
    if (!ok) {
      sodium.sodium_memzero(deviceSecret)
      const discoverySecret = secrets?.discoveryKeyPair.secretKey
      if (discoverySecret) sodium.sodium_memzero(discoverySecret)
      if (secrets) sodium.sodium_memzero(secrets.encryptionKey)
      return null
    }
    return {
      profileId: b4a.from(doc.profile.id) as Buffer,
      device: { publicKey: b4a.from(doc.device.publicKey) as Buffer, secretKey: deviceSecret },
      deviceProof: b4a.from(doc.device.proof) as Buffer,
      ...(doc.device.delegated ? { delegated: true } : {}),
      secrets
    }
  } catch {
    return null
  }
}

const AD_TAG = `${KEYFILE_TYPE}/${KEYFILE_VERSION}`

const PublicParts: Encoder<KeyFileDocument> = {
  preencode(state, d) {
    c.string.preencode(state, AD_TAG)
    c.fixed32.preencode(state, d.profile.id)
    c.string.preencode(state, d.profile.name)
    c.fixed32.preencode(state, d.device.publicKey)
    c.buffer.preencode(state, d.device.proof)
    c.bool.preencode(state, d.device.delegated)
    c.string.preencode(state, d.kdf.alg)
    c.uint.preencode(state, d.kdf.opslimit)
    c.uint.preencode(state, d.kdf.memlimit)
    c.buffer.preencode(state, d.kdf.salt)
    c.string.preencode(state, d.cipher.alg)
  },
  encode(state, d) {
    c.string.encode(state, AD_TAG)
    c.fixed32.encode(state, d.profile.id)
    c.string.encode(state, d.profile.name)
    c.fixed32.encode(state, d.device.publicKey)
    c.buffer.encode(state, d.device.proof)
    c.bool.encode(state, d.device.delegated)
    c.string.encode(state, d.kdf.alg)
    c.uint.encode(state, d.kdf.opslimit)
    c.uint.encode(state, d.kdf.memlimit)
    c.buffer.encode(state, d.kdf.salt)
    c.string.encode(state, d.cipher.alg)
  },
  decode() {
    throw new Error('additional data is only encoded')
  }
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw corrupt(`bad ${what}`)
  return v as Record<string, unknown>
}

function key(v: unknown, what: string): Buffer {
  try {
    if (typeof v === 'string') return decodeKey(v)
  } catch {
    // fall through: a key file is not user input, so report it as damage
  }
  throw corrupt(`bad ${what}`)
}

function hex(v: unknown, what: string, min: number, max = min): Buffer {
  if (typeof v !== 'string' || !/^(?:[0-9a-f]{2})*$/.test(v)) throw corrupt(`bad ${what}`)
  const n = v.length / 2
  if (n < min || n > max) throw corrupt(`bad ${what}`)
  return b4a.from(v, 'hex') as Buffer
}

function int(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw corrupt(`bad ${what}`)
  }
  return v
}

function corrupt(why: string): FluxError {
  return new FluxError('KEYFILE_CORRUPT', `the profile key file is damaged: ${why}`)
}
