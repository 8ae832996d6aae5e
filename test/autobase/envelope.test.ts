import test from 'brittle'
import { decodeBlock, encodeOp, joinBatch, type Codec } from '../../src/autobase/envelope.js'
import { depthExceeds, isB64, type Obj } from '../../src/autobase/shapes.js'

type Note = { v: number; id: string; ts: number; type: 'note'; text: string }

const codec: Codec<Note> = {
  version: 1,
  maxOpBytes: 1024,
  maxBlockBytes: 8192,
  maxBatchOps: 10,
  maxDepth: 4,
  body: (o: Obj) =>
    o.type === 'note' && typeof o.text === 'string' ? { type: 'note', text: o.text } : 'bad note'
}
const note = (n: number, extra: Record<string, unknown> = {}) =>
  ({
    v: 1,
    id: n.toString(16).padStart(32, '0'),
    ts: n,
    type: 'note',
    text: `n${n}`,
    ...extra
  }) as Note

test('envelope - the kit decodes single ops and batches, judging each op on its own', (t) => {
  const one = decodeBlock(codec, encodeOp(note(1)))
  t.alike(one, [{ ok: true, op: note(1) }], 'a single op')
  const batch = decodeBlock(
    codec,
    joinBatch(1, [encodeOp(note(1)), Buffer.from('{"v":1}'), encodeOp(note(3))])
  )
  t.alike(
    batch.map((r) => (r.ok ? r.op.text : r.reason)),
    ['n1', 'missing or malformed id', 'n3'],
    'a bad op in a batch is skipped, its neighbours are not'
  )
  const noBatches = decodeBlock(
    { ...codec, maxBatchOps: 0 },
    joinBatch(1, [encodeOp(note(1)), encodeOp(note(2))])
  )
  t.ok(
    noBatches.length === 1 && !noBatches[0]!.ok,
    'a base without batches reads a batch as one bad op'
  )
})

test('envelope - nesting is bounded before anything recursive walks peer input', (t) => {
  const deep = (n: number): unknown => {
    let v: unknown = 'x'
    for (let i = 0; i < n; i++) v = [v]
    return v
  }
  const ok = decodeBlock(codec, encodeOp(note(1, { extra: deep(2) })))
  t.ok(ok[0]!.ok, 'shallow nesting is fine')
  const poison = Buffer.from(
    `{"v":1,"id":"${'0'.repeat(32)}","ts":1,"type":"note","text":"x","x":${'['.repeat(6000)}${']'.repeat(6000)}}`
  )
  const big = { ...codec, maxOpBytes: 64 * 1024, maxBlockBytes: 64 * 1024 }
  const r = decodeBlock(big, poison)
  t.ok(
    r.length === 1 && !r[0]!.ok && r[0]!.reason === 'nested too deeply',
    'a 6000-deep op is one bad op, no stack overflow'
  )
  const inBatch = decodeBlock(big, joinBatch(1, [encodeOp(note(1)), poison]))
  t.alike(
    inBatch.map((x) => (x.ok ? 'ok' : x.reason)),
    ['ok', 'nested too deeply'],
    'in a batch: only that op'
  )
  t.ok(depthExceeds(deep(5), 4) && !depthExceeds(deep(3), 4), 'the depth bound is exact')
  t.ok(!depthExceeds(deep(100_000), 200_000), 'and iterative: 100k levels do not overflow')
})

test('envelope - canonical base64 only', (t) => {
  t.ok(isB64('AAAA', 3))
  t.absent(isB64('AAB=', 2), 'non-zero padding bits: a second spelling')
  t.absent(isB64('', 3), 'empty')
  t.absent(isB64('AAAAAAAA', 3), 'too long')
})
