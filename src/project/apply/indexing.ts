/**
 * At the end of each apply call: who is around (an indexer's core grew: it acked or wrote), who
 * may index (re-ranked when membership changed), and one step towards the wanted indexers
 * (src/project/indexers.ts). An apply call is one writer's atomic batch, the same on every
 * peer, and the system Autobase hands apply is linearized the same way: every peer takes the
 * same steps at the same places.
 */
import type Autobase from 'autobase'
import b4a from 'b4a'
import { meshClock } from '../../autobase/merge.js'
import type { ViewTx } from '../../autobase/tx.js'
import {
  Keys,
  type IndexingRecord,
  type MemberRecord,
  type SystemRecord,
  type WriterRecord
} from '../../views/project.js'
import { chooseIndexers, nextStep, presentTime, type Candidate } from '../indexers.js'
import type { HexKey } from '../ops.js'

/** Mark that tells the end of the call that membership changed: rank the candidates again. */
export const MEMBERSHIP = 'membership'

const hex = (key: Uint8Array): HexKey => b4a.toString(key, 'hex')

export async function finishIndexing(
  b: ViewTx,
  sys: SystemRecord,
  host: Autobase.ApplyHost,
  marks: Set<string>
): Promise<void> {
  const now = meshClock(sys.clocks)
  const seen = (sys.seen ??= {})
  const lengths = (sys.indexerLengths ??= {})
  const active: HexKey[] = []
  for (const idx of host.system.indexers) {
    const key = hex(idx.key)
    active.push(key)
    if (idx.length > (lengths[key] ?? 0)) {
      lengths[key] = idx.length
      seen[key] = Math.max(seen[key] ?? 0, now)
    }
  }
  for (const key of Object.keys(lengths)) if (!active.includes(key)) delete lengths[key]
  let record = await b.get<IndexingRecord>(Keys.indexing)
  if (record === null || marks.has(MEMBERSHIP)) {
    record = { candidates: await rank(b) }
    await b.put(Keys.indexing, record)
  }
  for (const c of record.candidates) seen[c.writer] ??= now // a new candidate: seen as it came
  const pending = host.system.pendingIndexers.map(hex)
  const wanted = chooseIndexers(record.candidates, seen, presentTime(record.candidates, seen))
  const step = nextStep(active, pending, wanted)
  if (step === null) return
  for (const writer of step.writers) {
    const key = b4a.from(writer, 'hex') as Buffer
    if (step.kind === 'add') {
      await host.addWriter(key, { indexer: true })
      continue
    }
    const w = await b.get<WriterRecord>(Keys.writer(writer))
    const member = w === null ? null : await b.get<MemberRecord>(Keys.member(w.profile))
    if (member !== null && !member.removed) {
      // still a member (away, revoked, outranked): it goes on as a plain writer
      await host.addWriter(key, { indexer: false })
    } else if (host.removeable(key)) {
      await host.removeWriter(key)
    }
  }
}

/** Every active member's first full-device writer, in the order members joined. */
async function rank(b: ViewTx): Promise<Candidate[]> {
  const index = (await b.get<HexKey[]>(Keys.memberIndex)) ?? []
  const out: Candidate[] = []
  for (const [order, profile] of index.entries()) {
    const m = await b.get<MemberRecord>(Keys.member(profile))
    if (m === null || m.removed) continue
    for (const writer of m.writers) {
      const w = await b.get<WriterRecord>(Keys.writer(writer))
      if (w === null || w.removed || w.delegated) continue
      out.push({ writer, profile, admin: m.role === 'admin', order })
      break
    }
  }
  return out
}
