/**
 * The key layout of a phonebook's Hyperbee view, its records, and the read queries over it.
 * The only code that knows the layout: apply writes through `PhonebookKeys`, everything else
 * reads through `PhonebookView`. A listing is a pure function of the view (expiry is judged on
 * the mesh clock kept in the view, never on the reader's clock), so every peer lists the same.
 */
import type Hyperbee from 'hyperbee'
import type { BaseSystem, SkipRecord } from '../autobase/runner.js'
import type { B64, HexKey } from '../autobase/shapes.js'
import { meshClock } from '../autobase/merge.js'
import { prefixEnd } from './project.js'

/** One node as it describes itself, signed by its swarm key. */
export interface SignedEntry {
  /** The node's swarm public key (its peer id, hex). */
  peer: HexKey
  /** keyed hash of its profile id (key: the phonebook key), or null without a profile. */
  profile: string | null
  /** Where it was reachable, as it saw itself ('host:port'); hints only. */
  hints: string[]
  /** Keyed hashes of the project keys it holds (key: the phonebook key). */
  projects: string[]
  /** Its clock when it signed (ms). */
  seen: number
  /** true: the node removed itself (a tombstone). */
  removed: boolean
  /** ed25519 signature by `peer` over the entry's statement (ops.ts). */
  sig: B64
}

export const SNAPSHOT_FORMAT = 'flux-phonebook/v1'

/** A phonebook's entries at one version, as their nodes signed them (export, import). */
export interface PhonebookSnapshot {
  format: typeof SNAPSHOT_FORMAT
  /** The phonebook key (hex): every entry is signed for it. */
  key: string
  /** The view version it was taken at, and the view's hash then (for people; not checked). */
  version: number
  hash: string
  entries: SignedEntry[]
}

/** An entry as the view keeps it. */
export interface EntryRecord extends SignedEntry {
  /** Last seen as every peer judges it: `seen`, clamped to its op's effective time. */
  at: number
  /** The slot it occupies (the phonebook holds at most `maxEntries` slots). */
  slot: number
  /** The writer core that carried it. */
  by: HexKey
}

export interface PhonebookSystem extends BaseSystem {
  /** Slots used so far (never more than the limit). */
  slots: number
  /** Where the search for an expired slot to reuse starts next. */
  cursor: number
  /** Writers added (the bootstrap included). */
  writers: number
  /** Entries each writer brought in for a peer not in the phonebook before. */
  carried: Record<string, number>
}

export interface WriterRecord {
  key: HexKey
  addedBy: HexKey | null
}

export type PhonebookSkipRecord = SkipRecord

const pad = (n: number): string => n.toString().padStart(12, '0')

export const PhonebookKeys = {
  system: 'sys',
  op: (id: string) => `op/${id}`,
  writer: (key: HexKey) => `writer/${key}`,
  entry: (peer: HexKey) => `entry/${peer}`,
  entryPrefix: 'entry/',
  slot: (n: number) => `slot/${pad(n)}`,
  skip: (seq: number) => `skip/${pad(seq)}`,
  skipPrefix: 'skip/'
} as const

export function emptyPhonebookSystem(): PhonebookSystem {
  return {
    applied: 0,
    skipped: 0,
    clocks: {},
    slots: 0,
    cursor: 0,
    writers: 0,
    carried: {}
  }
}

/** An entry not refreshed for this long (mesh time) is expired: listed no more, its slot reusable. */
export const ENTRY_TTL = 30 * 24 * 60 * 60 * 1000

/** Whether an entry is expired at this mesh time. */
export function isExpired(e: { at: number }, mesh: number): boolean {
  return e.at + ENTRY_TTL < mesh
}

export class PhonebookView {
  constructor(readonly bee: Hyperbee) {}

  async system(): Promise<PhonebookSystem> {
    const node = await this.bee.get(PhonebookKeys.system)
    return (node?.value as PhonebookSystem | undefined) ?? emptyPhonebookSystem()
  }

  /** The mesh clock of the view: the lower median of its writers' latest timestamps. */
  async mesh(): Promise<number> {
    return meshClock((await this.system()).clocks)
  }

  /** Live entries (not removed, not expired at the view's mesh time), by peer key. */
  async entries(opts: { all?: boolean } = {}): Promise<EntryRecord[]> {
    const mesh = await this.mesh()
    const out: EntryRecord[] = []
    const prefix = PhonebookKeys.entryPrefix
    for await (const e of this.bee.createReadStream({ gte: prefix, lt: prefixEnd(prefix) })) {
      const r = e.value as EntryRecord
      if (opts.all || (!r.removed && !isExpired(r, mesh))) out.push(r)
    }
    return out
  }

  async entry(peer: HexKey): Promise<EntryRecord | null> {
    return ((await this.bee.get(PhonebookKeys.entry(peer)))?.value as EntryRecord) ?? null
  }

  async writers(): Promise<WriterRecord[]> {
    const out: WriterRecord[] = []
    for await (const e of this.bee.createReadStream({ gte: 'writer/', lt: prefixEnd('writer/') })) {
      out.push(e.value as WriterRecord)
    }
    return out
  }

  /** Skipped ops per writer (hex): what each writer sent that every peer refused. */
  async strikes(): Promise<Record<string, number>> {
    const out: Record<string, number> = {}
    for (const s of await this.skips()) out[s.writer] = (out[s.writer] ?? 0) + 1
    return out
  }

  async skips(): Promise<PhonebookSkipRecord[]> {
    const out: PhonebookSkipRecord[] = []
    const prefix = PhonebookKeys.skipPrefix
    for await (const e of this.bee.createReadStream({ gte: prefix, lt: prefixEnd(prefix) })) {
      out.push(e.value as PhonebookSkipRecord)
    }
    return out
  }
}
