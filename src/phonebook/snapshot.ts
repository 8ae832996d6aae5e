/**
 * Phonebook snapshots (`flux phonebook export` / `import`): every entry of a phonebook at one
 * version, exactly as its node signed it, so that whoever reads a snapshot can check each entry
 * without trusting whoever wrote the file. Pure: no I/O.
 */
import b4a from 'b4a'
import { isHexKey, isObj } from '../autobase/shapes.js'
import { PHONEBOOK_LIMITS, checkEntry, verifyEntry, type SignedEntry } from './ops.js'
import { SNAPSHOT_FORMAT, type PhonebookSnapshot } from '../views/phonebook.js'

export { SNAPSHOT_FORMAT }
export type { PhonebookSnapshot }

/** A snapshot of these entries. */
export function makeSnapshot(
  key: Buffer,
  version: number,
  hash: string,
  entries: SignedEntry[]
): PhonebookSnapshot {
  const signed = entries.map((e) => ({
    peer: e.peer,
    profile: e.profile,
    hints: e.hints,
    projects: e.projects,
    seen: e.seen,
    removed: e.removed,
    sig: e.sig
  }))
  return { format: SNAPSHOT_FORMAT, key: b4a.toString(key, 'hex'), version, hash, entries: signed }
}

/**
 * Check a snapshot read from a file: its shape, and every entry's shape and signature. All or
 * nothing: the first bad entry makes it refused, with the reason (one tampered entry means the
 * file cannot be trusted as a whole).
 */
export function verifySnapshot(value: unknown): PhonebookSnapshot | string {
  if (!isObj(value)) return 'not a phonebook snapshot (not a JSON object)'
  if (value.format !== SNAPSHOT_FORMAT)
    return `not a phonebook snapshot (format ${String(value.format)})`
  if (!isHexKey(value.key)) return 'the snapshot has no valid phonebook key'
  if (!Number.isSafeInteger(value.version) || typeof value.hash !== 'string') {
    return 'the snapshot has no valid version or hash'
  }
  if (!Array.isArray(value.entries)) return 'the snapshot has no entries list'
  if (value.entries.length > PHONEBOOK_LIMITS.maxEntries) {
    return `the snapshot has ${value.entries.length} entries (a phonebook holds at most ${PHONEBOOK_LIMITS.maxEntries})`
  }
  const key = b4a.from(value.key, 'hex') as Buffer
  const entries: SignedEntry[] = []
  const seen = new Set<string>()
  for (const [i, raw] of value.entries.entries()) {
    const entry = checkEntry(raw)
    if (typeof entry === 'string') return `entry ${i + 1}: ${entry.replace(/^entry: /, '')}`
    if (!verifyEntry(key, entry))
      return `entry ${i + 1}: its signature does not hold (tampered, or not signed by ${entry.peer.slice(0, 12)}… for this phonebook)`
    if (seen.has(entry.peer)) return `entry ${i + 1}: a second entry for the same node`
    seen.add(entry.peer)
    entries.push(entry)
  }
  return {
    format: SNAPSHOT_FORMAT,
    key: value.key,
    version: value.version as number,
    hash: value.hash,
    entries
  }
}
