import test from 'brittle'
import { MAX_OP_BYTES, MAX_BLOCK_BYTES, projectCodec, type Op } from '../../src/project/ops.js'
import * as kit from '../../src/autobase/envelope.js'
import { shapeOnlyProof } from '../helpers/fixtures.js'

// the project's ops through the base kit's envelope decoding
const decodeBlock = (block: unknown) => kit.decodeBlock(projectCodec, block)
const validateOp = (value: unknown) => kit.validateOp(projectCodec, value)
const encodeOp = (op: Op) => kit.encodeOp(op)
const encodeBatch = (ops: Op[]) => kit.joinBatch(projectCodec.version, ops.map(kit.encodeOp))
/** A block that must hold exactly one op. */
function decodeOp(block: unknown): kit.Validation<Op> {
  const results = decodeBlock(block)
  return results.length === 1 ? (results[0] as kit.Validation<Op>) : kit.bad('not a single op')
}

const id = 'ab'.repeat(16)
const base = { v: 1, id, ts: 1 }
// validation only checks a writer proof's form (apply verifies it)
const as = shapeOnlyProof

test('ops - valid ops of every kind pass', (t) => {
  const ops = [
    { ...base, type: 'project/init', name: 'x', description: '', public: false, as },
    ...([2, 3] as const).map((causal) => ({
      ...base,
      type: 'project/init',
      name: 'x',
      description: '',
      public: false,
      as,
      layout: 3,
      causal
    })),
    { ...base, type: 'post/add', text: 'hi', replyTo: null },
    { ...base, type: 'task/add', title: 'do it', assignee: null },
    { ...base, type: 'task/set', task: id, field: 'done', value: true, prev: null },
    { ...base, type: 'kv/set', key: 'k', value: { a: [1, 2] }, prev: null },
    { ...base, type: 'member/add', role: 'member', invite: null, as },
    { ...base, type: 'writer/add', as },
    { ...base, type: 'member/remove', profile: 'cd'.repeat(32) },
    { ...base, type: 'device/revoke', device: 'cd'.repeat(32) },
    { ...base, type: 'device/expire', device: 'cd'.repeat(32) },
    {
      ...base,
      type: 'member/card',
      card: { discovery: 'cd'.repeat(32), base: 'ef'.repeat(32), sig: 'abc' }
    }
  ]
  for (const op of ops) {
    const r = decodeOp(encodeOp(op as Op))
    t.ok(r.ok, `${op.type} is valid`)
  }
})

test('ops - bad shape, unknown type, bad version, oversized and non-JSON are rejected with a reason', (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ ...base, type: 'post/add' }, /bad text/],
    [{ ...base, type: 'nope' }, /unknown op type/],
    [{ ...base, v: 2, type: 'post/add', text: 'x', replyTo: null }, /version/],
    [{ v: 1, ts: 1, type: 'post/add', text: 'x', replyTo: null }, /id/],
    [{ ...base, type: 'task/set', task: id, field: 'owner', value: 'x', prev: null }, /bad field/],
    [{ ...base, type: 'post/add', text: '', replyTo: null }, /bad text/],
    [[1, 2, 3], /not an object/],
    [{ ...base, type: 'member/add', role: 'member', invite: null, as: { ...as, sig: 1 } }, /proof/],
    [{ ...base, type: 'writer/add', as: { ...as, extra: true } }, /proof/],
    [
      { ...base, type: 'project/init', name: 'x', description: '', public: false, as, causal: 4 },
      /unknown causal rule/
    ],
    [
      { ...base, type: 'project/init', name: 'x', description: '', public: false, as, layout: 4 },
      /unknown view layout/
    ]
  ]
  for (const [value, reason] of cases) {
    const r = validateOp(value)
    t.ok(!r.ok && reason.test(r.reason), `rejected: ${!r.ok ? r.reason : 'accepted!'}`)
  }
  const bigOp = { ...base, type: 'post/add', text: 'x'.repeat(MAX_OP_BYTES), replyTo: null }
  const big = decodeOp(Buffer.from(JSON.stringify(bigOp)))
  t.ok(!big.ok && /oversized op/.test(big.reason), 'oversized op rejected')
  const huge = decodeBlock(Buffer.alloc(MAX_BLOCK_BYTES + 1, 0x20))
  t.ok(
    huge.length === 1 && !huge[0]!.ok && /oversized block/.test(huge[0]!.reason),
    'oversized block rejected'
  )
  const junk = decodeOp(Buffer.from([0xff, 0x00, 0x12]))
  t.ok(!junk.ok && /JSON/.test(junk.reason), 'non-JSON rejected')
})

test('ops - a batch block: each op judged on its own', (t) => {
  const good = { ...base, type: 'post/add', text: 'in a batch', replyTo: null } as Op
  const bad = { ...base, id: 'cd'.repeat(16), type: 'post/add', text: '', replyTo: null } as Op
  const results = decodeBlock(encodeBatch([good, bad, { ...good, id: 'ef'.repeat(16) }]))
  t.alike(
    results.map((r) => r.ok),
    [true, false, true],
    'the bad op is rejected, its neighbours are not'
  )
  const malformed = decodeBlock(Buffer.from(JSON.stringify({ v: 1, batch: 'nope' })))
  t.ok(malformed.length === 1 && !malformed[0]!.ok, 'a malformed batch is one invalid op')
  t.is(decodeBlock(encodeBatch([good])).length, 1, 'a batch of one is encoded as the op itself')
})
