import fs from 'fs/promises'
import path from 'path'
import sodium from 'sodium-universal'
import b4a from 'b4a'
import { FluxError } from '../errors.js'
import type { DeviceKeys } from './profile-keys.js'
import {
  KEYFILE_TYPE,
  KEYFILE_VERSION,
  MAX_NAME,
  additionalData,
  decodeSecrets,
  encodeSecrets,
  parseKeyFile,
  proofMatches,
  serializeKeyFile,
  type KdfParams,
  type KeyFileDocument
} from './keyfile-format.js'

export type { KdfParams, KeyFileDocument } from './keyfile-format.js'

/** Argon2id, libsodium MODERATE limits: about 0.43 s on this project's 2-core test machine. */
export const KDF_MODERATE: KdfParams = {
  alg: 'argon2id13',
  opslimit: sodium.crypto_pwhash_OPSLIMIT_MODERATE,
  memlimit: sodium.crypto_pwhash_MEMLIMIT_MODERATE
}

/** Argon2id, libsodium INTERACTIVE limits: about 0.08 s here. For tests and weak machines. */
export const KDF_INTERACTIVE: KdfParams = {
  alg: 'argon2id13',
  opslimit: sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE,
  memlimit: sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE
}

/** Argon2id, libsodium SENSITIVE limits (1 GiB of memory, seconds): for a key file kept long. */
export const KDF_SENSITIVE: KdfParams = {
  alg: 'argon2id13',
  opslimit: sodium.crypto_pwhash_OPSLIMIT_SENSITIVE,
  memlimit: sodium.crypto_pwhash_MEMLIMIT_SENSITIVE
}

/** The contents of a key file once unlocked. */
export interface UnlockedProfile {
  name: string
  keys: DeviceKeys
}

export interface SaveOptions {
  /** Key derivation cost; stored in the file, so it can change from one save to the next. */
  kdf?: KdfParams
  /** Replace an existing key file (otherwise PROFILE_EXISTS). */
  overwrite?: boolean
}

/**
 * Write the device's keys to `file`, the secrets sealed under `passphrase` (Argon2id, then
 * XChaCha20-Poly1305 with the public parts as additional data). Written atomically, mode 0600.
 */
export async function saveKeyFile(
  file: string,
  profile: UnlockedProfile,
  passphrase: string,
  opts: SaveOptions = {}
): Promise<void> {
  const { keys, name } = profile
  const kdf = opts.kdf ?? KDF_MODERATE
  if (typeof name !== 'string' || name.length > MAX_NAME) {
    throw new FluxError(
      'INVALID_INPUT',
      `a profile name is a string of at most ${MAX_NAME} characters`
    )
  }
  const delegated = keys.delegated === true
  const publicDoc = {
    profile: { id: keys.profileId },
    device: { publicKey: keys.device.publicKey, proof: keys.deviceProof, delegated }
  } as KeyFileDocument
  if (!proofMatches(publicDoc)) {
    throw new FluxError('DEVICE_PROOF_INVALID', 'the device proof does not match these keys')
  }
  if (!opts.overwrite && (await keyFileExists(file))) {
    throw new FluxError('PROFILE_EXISTS', `a profile key file already exists at ${file}`)
  }
  const salt = random(sodium.crypto_pwhash_SALTBYTES)
  const nonce = random(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
  const doc: KeyFileDocument = {
    type: KEYFILE_TYPE,
    version: KEYFILE_VERSION,
    profile: { id: keys.profileId, name },
    device: { publicKey: keys.device.publicKey, proof: keys.deviceProof, delegated },
    kdf: { ...kdf, salt },
    cipher: {
      alg: 'xchacha20poly1305-ietf',
      nonce,
      check: b4a.alloc(32) as Buffer,
      box: b4a.alloc(0) as Buffer
    }
  }
  const { key, check } = await deriveKey(passphrase, doc.kdf)
  let plain: Buffer | null = null
  try {
    plain = encodeSecrets(keys)
    const box = b4a.alloc(
      plain.byteLength + sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES
    ) as Buffer
    sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      box,
      plain,
      additionalData(doc),
      null,
      nonce,
      key
    )
    doc.cipher.check = check
    doc.cipher.box = box
  } finally {
    if (plain) sodium.sodium_memzero(plain)
    sodium.sodium_memzero(key)
  }
  await writeAtomic(file, serializeKeyFile(doc), opts.overwrite === true)
}

/**
 * Unlock the key file with `passphrase`. Errors, all leaving the file untouched: NO_PROFILE
 * (no file), PASSPHRASE_WRONG, KEYFILE_CORRUPT (tampered, truncated, not a key file: nothing
 * is half-loaded), KEYFILE_IO (the file system refused).
 */
export async function loadKeyFile(file: string, passphrase: string): Promise<UnlockedProfile> {
  const doc = parseKeyFile(await readKeyFileText(file))
  const { key, check } = await deriveKey(passphrase, doc.kdf)
  // the check value tells a wrong passphrase apart from a damaged box (both fail to decrypt)
  const right = sodium.sodium_memcmp(check, doc.cipher.check)
  sodium.sodium_memzero(check)
  if (!right) {
    sodium.sodium_memzero(key)
    throw new FluxError('PASSPHRASE_WRONG', 'wrong passphrase for this profile')
  }
  const box = doc.cipher.box
  const min = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES
  const plain = b4a.alloc(Math.max(0, box.byteLength - min)) as Buffer
  try {
    if (box.byteLength < min) throw corrupt('the sealed keys are truncated')
    try {
      sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
        plain,
        null,
        box,
        additionalData(doc),
        doc.cipher.nonce,
        key
      )
    } catch {
      throw corrupt('the sealed keys or the profile details were changed')
    }
    const keys = decodeSecrets(plain, doc)
    if (keys === null) throw corrupt('the sealed keys do not match the device and profile')
    return { name: doc.profile.name, keys }
  } finally {
    sodium.sodium_memzero(plain)
    sodium.sodium_memzero(key)
  }
}

/**
 * Re-seal the key file under a new passphrase (and, optionally, new KDF limits). Throws as
 * `loadKeyFile` does; on any error the old file stays as it was.
 */
export async function changePassphrase(
  file: string,
  oldPassphrase: string,
  newPassphrase: string,
  opts: { kdf?: KdfParams } = {}
): Promise<void> {
  const profile = await loadKeyFile(file, oldPassphrase)
  await saveKeyFile(file, profile, newPassphrase, { kdf: opts.kdf, overwrite: true })
}

/**
 * The public parts of a key file, without the passphrase: for prompts ("passphrase for Ada")
 * only. They are not authenticated until `loadKeyFile` succeeds.
 */
export async function readKeyFileInfo(
  file: string
): Promise<{ profileId: Buffer; name: string; devicePublicKey: Buffer }> {
  const doc = parseKeyFile(await readKeyFileText(file))
  return {
    profileId: doc.profile.id,
    name: doc.profile.name,
    devicePublicKey: doc.device.publicKey
  }
}

async function deriveKey(
  passphrase: string,
  kdf: KdfParams & { salt: Buffer }
): Promise<{ key: Buffer; check: Buffer }> {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new FluxError('INVALID_INPUT', 'a passphrase is required')
  }
  // NFC so that the same passphrase typed on another system derives the same key
  const pw = b4a.from(passphrase.normalize('NFC'), 'utf8') as Buffer
  const out = b4a.alloc(64) as Buffer
  try {
    await sodium.crypto_pwhash_async(
      out,
      pw,
      kdf.salt,
      kdf.opslimit,
      kdf.memlimit,
      sodium.crypto_pwhash_ALG_ARGON2ID13
    )
    const key = b4a.from(out.subarray(0, 32)) as Buffer
    const check = b4a.alloc(32) as Buffer
    sodium.crypto_generichash(check, out.subarray(32))
    return { key, check }
  } finally {
    sodium.sodium_memzero(pw)
    sodium.sodium_memzero(out)
  }
}

async function readKeyFileText(file: string): Promise<string> {
  try {
    const stat = await fs.stat(file)
    if (!stat.isFile()) throw new FluxError('KEYFILE_IO', `${file} is not a file`)
    // a key file is a few KiB: do not read a huge file someone put in its place
    if (stat.size > 64 * 1024) throw corrupt('the file is far too large to be a key file')
    return await fs.readFile(file, 'utf8')
  } catch (err) {
    if (err instanceof FluxError) throw err
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      throw new FluxError(
        'NO_PROFILE',
        'no profile on this device yet (create one with `flux init`)'
      )
    }
    throw new FluxError('KEYFILE_IO', `cannot read the key file ${file} (${code ?? 'error'})`)
  }
}

// Write to a temporary file beside the target, flush, then rename: a crash leaves either the
// old file or the new one, never half of one. The temporary file is created 0600, so the key
// file is never readable by others, not even for a moment. Without `overwrite`, link() instead
// of rename(): it fails if another process created the file since we checked.
async function writeAtomic(file: string, text: string, overwrite: boolean): Promise<void> {
  const tmp = `${file}.${b4a.toString(random(6), 'hex')}.tmp`
  try {
    const handle = await fs.open(tmp, 'wx', 0o600)
    try {
      await handle.writeFile(text, 'utf8')
      await handle.sync()
    } finally {
      await handle.close()
    }
    if (overwrite) await fs.rename(tmp, file)
    else await fs.link(tmp, file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') {
      throw new FluxError('PROFILE_EXISTS', `a profile key file already exists at ${file}`)
    }
    throw new FluxError('KEYFILE_IO', `cannot write the key file ${file} (${code ?? 'error'})`)
  } finally {
    await fs.rm(tmp, { force: true })
  }
  await syncDir(path.dirname(file))
}

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await fs.open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // some platforms cannot fsync a directory; the rename is still atomic there
  }
}

/** Whether a key file (or anything else) is at `file`; nothing is read. */
export async function keyFileExists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file)
    return true
  } catch {
    return false
  }
}

function random(n: number): Buffer {
  const buf = b4a.alloc(n) as Buffer
  sodium.randombytes_buf(buf)
  return buf
}

function corrupt(why: string): FluxError {
  return new FluxError('KEYFILE_CORRUPT', `the profile key file is damaged: ${why}`)
}
