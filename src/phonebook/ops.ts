/**
 * The phonebook's ops, as a tagged union, and their validation (its codec for the base kit);
 * the signed entry every node writes about itself: its statement, signing and checking, and
 * the salted hashes it carries. Pure: no clock, no randomness, no I/O.
 *
 * The entry's signature is the authority: any writer may carry any node's entry, and every
 * peer's apply accepts it only if the node it describes signed it, for this phonebook.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import type { Codec, Envelope } from '../autobase/envelope.js'
import { isB64, isHexKey, isObj, isTs, type HexKey, type Obj } from '../autobase/shapes.js'
import type { SignedEntry } from '../views/phonebook.js'

export type { SignedEntry }

export const PHONEBOOK_OP_VERSION = 1

/** The bounds every peer applies (DESIGN.md "Phonebooks and auto-connect"). */
export const PHONEBOOK_LIMITS = {
  /** Slots: entries and tombstones together. */
  maxEntries: 1024,
  /** Largest entry, as JSON. */
  maxEntryBytes: 2048,
  /** Largest op (a block): larger ones are skipped before they are parsed. */
  maxOpBytes: 4096,
  hints: 4,
  hintChars: 64,
  projects: 32,
  /** A node's entry is replaced only by one signed at least this much later (ms). */
  minRefresh: 60_000,
  /** New peers one writer may bring in (its own entry included). */
  carriedPerWriter: 64,
  /** Writers of one phonebook. */
  maxWriters: 256,
  /** How many slots a new entry looks at for an expired one to reuse, when all are taken. */
  reuseScan: 8
} as const

export type PhonebookLimits = { readonly [K in keyof typeof PHONEBOOK_LIMITS]: number }

export type PhonebookOpBody =
  { type: 'writer/add'; key: HexKey } | { type: 'entry/put'; entry: SignedEntry }

export type PhonebookOp = Envelope & PhonebookOpBody

const HASH = /^[0-9a-f]{32}$/
const HINT = /^[0-9A-Za-z.:[\]-]+$/

/** The shape of a signed entry (not its signature), or why it is malformed. */
export function checkEntry(
  v: unknown,
  limits: PhonebookLimits = PHONEBOOK_LIMITS
): SignedEntry | string {
  if (!isObj(v)) return 'entry: not an object'
  if (!isHexKey(v.peer)) return 'entry: bad peer'
  if (!(v.profile === null || (typeof v.profile === 'string' && HASH.test(v.profile)))) {
    return 'entry: bad profile hash'
  }
  if (!Array.isArray(v.hints) || v.hints.length > limits.hints) return 'entry: bad hints'
  for (const h of v.hints) {
    if (typeof h !== 'string' || h.length > limits.hintChars || !HINT.test(h)) {
      return 'entry: bad hint'
    }
  }
  if (!Array.isArray(v.projects) || v.projects.length > limits.projects) {
    return 'entry: bad projects'
  }
  for (const p of v.projects)
    if (typeof p !== 'string' || !HASH.test(p)) return 'entry: bad project hash'
  if (!isTs(v.seen)) return 'entry: bad seen'
  if (typeof v.removed !== 'boolean') return 'entry: bad removed'
  if (!isB64(v.sig, 64)) return 'entry: bad sig'
  return {
    peer: v.peer,
    profile: v.profile as string | null,
    hints: [...(v.hints as string[])],
    projects: [...(v.projects as string[])],
    seen: v.seen,
    removed: v.removed,
    sig: v.sig
  }
}

export const phonebookCodec: Codec<PhonebookOp> = {
  version: PHONEBOOK_OP_VERSION,
  maxOpBytes: PHONEBOOK_LIMITS.maxOpBytes,
  maxBlockBytes: PHONEBOOK_LIMITS.maxOpBytes,
  maxBatchOps: 0,
  maxDepth: 4,
  body(o: Obj): PhonebookOpBody | string {
    switch (o.type) {
      case 'writer/add':
        return isHexKey(o.key) ? { type: 'writer/add', key: o.key } : 'writer/add: bad key'
      case 'entry/put': {
        const entry = checkEntry(o.entry)
        return typeof entry === 'string' ? entry : { type: 'entry/put', entry }
      }
      default:
        return 'unknown op type'
    }
  }
}

const STATEMENT = 'flux/phonebook-entry/v1'

/**
 * What a node signs: the phonebook key (so an entry cannot be replayed into another
 * phonebook) and every field but the signature, in one fixed order.
 */
export function entryStatement(book: Buffer, e: Omit<SignedEntry, 'sig'>): Buffer {
  const fields = [e.peer, e.profile, e.hints, e.projects, e.seen, e.removed]
  return b4a.from(`${STATEMENT}\n${b4a.toString(book, 'hex')}\n${JSON.stringify(fields)}`) as Buffer
}

/** Sign an entry with the node's swarm key pair (its public key must be `e.peer`). */
export function signEntry(
  book: Buffer,
  e: Omit<SignedEntry, 'sig'>,
  secretKey: Buffer
): SignedEntry {
  const sig = b4a.alloc(sodium.crypto_sign_BYTES) as Buffer
  sodium.crypto_sign_detached(sig, entryStatement(book, e), secretKey)
  return { ...e, sig: b4a.toString(sig, 'base64') }
}

/** Whether the node the entry describes signed it, for this phonebook. Never throws. */
export function verifyEntry(book: Buffer, e: SignedEntry): boolean {
  try {
    const sig = b4a.from(e.sig, 'base64') as Buffer
    if (sig.byteLength !== sodium.crypto_sign_BYTES) return false
    const { sig: _sig, ...rest } = e
    return sodium.crypto_sign_verify_detached(
      sig,
      entryStatement(book, rest),
      b4a.from(e.peer, 'hex') as Buffer
    )
  } catch {
    return false
  }
}

/**
 * A salted hash (16 bytes, hex): of a profile id or a project key, keyed by the phonebook key,
 * so that entries of two phonebooks cannot be joined on it and only a holder of the project key
 * can recognise a project.
 */
export function saltedHash(value: Buffer, book: Buffer): string {
  const out = b4a.alloc(16) as Buffer
  sodium.crypto_generichash(out, value, book)
  return b4a.toString(out, 'hex')
}
