import { createRequire } from 'module'
import IdentityKey from 'keet-identity-key'
import sodium from 'sodium-universal'
import b4a from 'b4a'
import { FluxError } from '../errors.js'
import { encodeKey } from './keys.js'
import { boxKeyPairFromSeed, type BoxKeyPair } from './seal.js'
import type { KeyPair } from './keys.js'

export type { KeyPair }

/**
 * Keys every device of a profile holds, derived once from the identity: the profile's own
 * Autobase is announced under the discovery key pair and encrypted with `encryptionKey`.
 */
export interface ProfileSecrets {
  /**
   * The profile discovery key pair. Only a device that held the phrase (created or recovered
   * the profile) has its secret key; a linked device learns the public key from the profile.
   */
  discoveryKeyPair: { publicKey: Buffer; secretKey: Buffer | null }
  encryptionKey: Buffer
}

/** What one device keeps (only encrypted at rest, see keyfile.ts): never the identity secret. */
export interface DeviceKeys {
  /** The identity public key: the profile id. */
  profileId: Buffer
  device: KeyPair
  /**
   * keet-identity-key proof chaining `device.publicKey` to `profileId`; for a delegated device
   * (`delegated`), its delegation grant instead (see devices.ts `delegateDevice`).
   */
  deviceProof: Buffer
  /** A time-limited device: `deviceProof` is a grant and `secrets` is null. */
  delegated?: boolean
  /** Null on a device that was not given the profile's keys (e.g. a delegated one). */
  secrets: ProfileSecrets | null
}

/** Number of words in a Flux recovery phrase (256 bits of entropy, BIP-39). */
export const PHRASE_WORDS = 24

/**
 * The identity, alive only while a profile is created or recovered: it holds the identity
 * secret, so callers must `clear()` it as soon as the device is attested (see `withIdentity`).
 */
export class ProfileIdentity {
  readonly profileId: Buffer
  private id: IdentityKey | null

  private constructor(id: IdentityKey) {
    this.id = id
    this.profileId = b4a.from(id.identityPublicKey) as Buffer
  }

  /** Derive the identity from a recovery phrase; throws PHRASE_INVALID. */
  static async fromPhrase(phrase: string): Promise<ProfileIdentity> {
    const normalized = checkPhrase(phrase)
    let id: IdentityKey
    try {
      id = await IdentityKey.from({ mnemonic: normalized })
    } catch {
      throw invalidPhrase('the words do not form a valid phrase: check their spelling and order')
    }
    return new ProfileIdentity(id)
  }

  /** The profile id as people see it (z-base-32). */
  get profileIdText(): string {
    return encodeKey(this.profileId)
  }

  get cleared(): boolean {
    return this.id === null
  }

  /** A device proof for `devicePublicKey`, signed by the identity itself. */
  async attestDevice(devicePublicKey: Uint8Array): Promise<Buffer> {
    return this.live().bootstrap(devicePublicKey)
  }

  /** Copies of the profile's discovery key pair and data encryption key. */
  profileSecrets(): ProfileSecrets {
    const id = this.live()
    const derived = id.getProfileDiscoveryEncryptionKey()
    const secrets = {
      discoveryKeyPair: {
        publicKey: b4a.from(id.profileDiscoveryKeyPair.publicKey) as Buffer,
        secretKey: b4a.from(id.profileDiscoveryKeyPair.secretKey) as Buffer
      },
      encryptionKey: b4a.from(derived) as Buffer
    }
    sodium.sodium_memzero(derived)
    return secrets
  }

  /** An encryption key for any other profile-owned object, deterministic from the phrase. */
  encryptionKey(objectKey: Uint8Array): Buffer {
    const derived = this.live().getEncryptionKey(objectKey)
    const key = b4a.from(derived) as Buffer
    sodium.sodium_memzero(derived)
    return key
  }

  /**
   * The recovery box key pair (curve25519), deterministic from the phrase: project keys sealed
   * to its public key (`sealToRecovery`) can be opened only by someone holding the phrase.
   * Devices only ever hold the public key.
   */
  recoveryBoxKeyPair(): BoxKeyPair {
    const seed = this.encryptionKey(b4a.from('flux/recovery-box/v1'))
    try {
      return boxKeyPairFromSeed(seed)
    } finally {
      sodium.sodium_memzero(seed)
    }
  }

  /** Zero every secret the library lets us reach; the object is unusable afterwards. */
  clear(): void {
    if (this.id === null) return
    this.id.clear()
    // IdentityKey.clear() leaves the BIP-39 seed, from which everything can be re-derived
    sodium.sodium_memzero(this.id.keyChain.seed)
    this.id = null
  }

  private live(): IdentityKey {
    if (this.id === null) throw new FluxError('INTERNAL', 'the identity was already cleared')
    return this.id
  }
}

/** Run `fn` with the identity of `phrase`, clearing it afterwards whatever happens. */
export async function withIdentity<T>(
  phrase: string,
  fn: (identity: ProfileIdentity) => Promise<T> | T
): Promise<T> {
  const identity = await ProfileIdentity.fromPhrase(phrase)
  try {
    return await fn(identity)
  } finally {
    identity.clear()
  }
}

/** A fresh random ed25519 device key pair. */
export function createDeviceKeyPair(): KeyPair {
  const publicKey = b4a.alloc(sodium.crypto_sign_PUBLICKEYBYTES) as Buffer
  const secretKey = b4a.alloc(sodium.crypto_sign_SECRETKEYBYTES) as Buffer
  sodium.crypto_sign_keypair(publicKey, secretKey)
  return { publicKey, secretKey }
}

/**
 * Create a profile: a fresh 24-word phrase, and this device attested by it. The phrase is
 * returned once so it can be shown; nothing here keeps or writes it.
 */
export async function createProfile(): Promise<{ phrase: string; keys: DeviceKeys }> {
  const phrase = IdentityKey.generateMnemonic()
  const keys = await restoreProfile(phrase)
  return { phrase, keys }
}

/**
 * Rebuild the identity from a phrase and attest a new device for this machine. Gives the same
 * profile id as when the phrase was created; throws PHRASE_INVALID.
 */
export async function restoreProfile(phrase: string): Promise<DeviceKeys> {
  return withIdentity(phrase, async (identity) => {
    const device = createDeviceKeyPair()
    const deviceProof = await identity.attestDevice(device.publicKey)
    return {
      profileId: identity.profileId,
      device,
      deviceProof,
      secrets: identity.profileSecrets()
    }
  })
}

/**
 * A copy of device keys that survives `clearDeviceKeys` of the original: a node reopened in
 * the same process (after a full disk) runs on the copy while the closing one zeroes its own.
 */
export function copyDeviceKeys(keys: DeviceKeys): DeviceKeys {
  const copy = (b: Buffer): Buffer => b4a.from(b) as Buffer
  const secrets = keys.secrets
  return {
    ...keys,
    profileId: copy(keys.profileId),
    device: { publicKey: copy(keys.device.publicKey), secretKey: copy(keys.device.secretKey) },
    deviceProof: copy(keys.deviceProof),
    secrets: secrets && {
      discoveryKeyPair: {
        publicKey: copy(secrets.discoveryKeyPair.publicKey),
        secretKey: secrets.discoveryKeyPair.secretKey && copy(secrets.discoveryKeyPair.secretKey)
      },
      encryptionKey: copy(secrets.encryptionKey)
    }
  }
}

/** Zero the secret parts of device keys (when a node closes). */
export function clearDeviceKeys(keys: DeviceKeys): void {
  sodium.sodium_memzero(keys.device.secretKey)
  if (keys.secrets) {
    const secret = keys.secrets.discoveryKeyPair.secretKey
    if (secret) sodium.sodium_memzero(secret)
    sodium.sodium_memzero(keys.secrets.encryptionKey)
  }
}

/**
 * Normalize and check the shape of a phrase (count and known words) so a typo gets a precise
 * message; the checksum is checked when the identity is derived. Throws PHRASE_INVALID.
 */
export function checkPhrase(phrase: string): string {
  if (typeof phrase !== 'string') throw invalidPhrase('no phrase given')
  const words = phrase.trim().toLowerCase().split(/\s+/).filter(Boolean)
  if (words.length !== PHRASE_WORDS) {
    throw invalidPhrase(`it has ${words.length} words, expected ${PHRASE_WORDS}`)
  }
  const list = wordlist()
  if (list !== null) {
    // positions, not the words: error messages may end up in logs
    const unknown = words.flatMap((w, i) => (list.has(w) ? [] : [i + 1]))
    if (unknown.length > 0) {
      const which = unknown.length === 1 ? 'word' : 'words'
      throw invalidPhrase(`${which} ${unknown.join(', ')} not in the recovery word list`)
    }
  }
  return words.join(' ')
}

function invalidPhrase(why: string): FluxError {
  return new FluxError('PHRASE_INVALID', `not a valid recovery phrase: ${why}`)
}

let cachedWords: Set<string> | null | undefined

// The English BIP-39 list ships with bip39-mnemonic (keet-identity-key's own dependency). It is
// only used for better messages: without it, the checksum still rejects a wrong word.
function wordlist(): Set<string> | null {
  if (cachedWords !== undefined) return cachedWords
  try {
    const words: unknown = createRequire(import.meta.url)('bip39-mnemonic/wordlist/english.json')
    const ok = Array.isArray(words) && words.length === 2048
    cachedWords = ok ? new Set(words.filter((w): w is string => typeof w === 'string')) : null
  } catch {
    cachedWords = null
  }
  return cachedWords
}
