import idEnc from 'hypercore-id-encoding'
import b4a from 'b4a'
import { FluxError } from '../errors.js'

/** An ed25519 key pair (64-byte libsodium secret key: seed followed by the public key). */
export interface KeyPair {
  publicKey: Buffer
  secretKey: Buffer
}

/** How people see a 32-byte key: z-base-32, 52 characters. */
export function encodeKey(key: Uint8Array): string {
  return idEnc.encode(key)
}

/** Parse a key a person typed or pasted (z-base-32 or hex); throws KEY_MALFORMED. */
export function decodeKey(text: string, what = 'key'): Buffer {
  const s = text.trim()
  let key: Buffer | null = null
  try {
    if (/^[0-9a-f]{64}$/i.test(s)) key = b4a.from(s, 'hex') as Buffer
    else if (s.length === 52) key = idEnc.decode(s)
  } catch {
    key = null
  }
  if (key === null || key.byteLength !== 32) {
    throw new FluxError(
      'KEY_MALFORMED',
      `"${short(s)}" is not a valid ${what} (expected 52 z-base-32 or 64 hex characters)`
    )
  }
  return key
}

/**
 * Whether text has the form of a key (52 z-base-32 or 64 hex characters), valid or not: such
 * text is parsed as a key, so a damaged one gets KEY_MALFORMED rather than "not found".
 */
export function looksLikeKey(text: string): boolean {
  const s = text.trim()
  return s.length === 52 || /^[0-9a-f]{64}$/i.test(s)
}

export function toHex(key: Uint8Array): string {
  return b4a.toString(key, 'hex')
}

export function fromHex(hex: string): Buffer {
  return b4a.from(hex, 'hex') as Buffer
}

function short(s: string): string {
  return s.length > 24 ? s.slice(0, 21) + '...' : s
}
