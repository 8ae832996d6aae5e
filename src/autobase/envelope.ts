/**
 * The envelope every op of every Flux base shares, and the decoding of a writer's block into
 * ops: `{ v, id, ts, type, ...body }` as JSON, one op per block or, where the base allows it,
 * a batch `{ v, batch: [op, ...] }` of ops appended together. A base names its own ops with a
 * {@link Codec}; everything here is pure and never throws on peer input.
 */
import { depthExceeds, printable, isObj, isOpId, isTs, type Obj, type OpId } from './shapes.js'

export interface Envelope {
  v: number
  id: OpId
  /** The writer's clock in ms since the epoch: a hint, never trusted (see DESIGN.md). */
  ts: number
}

/** What a base tells the kit about its ops. */
export interface Codec<O extends Envelope & { type: string }> {
  /** The op version this base reads and writes. */
  version: number
  /** Largest encoded op, in bytes (a larger one is skipped by every peer). */
  maxOpBytes: number
  /** Largest block, in bytes; also the largest batch. */
  maxBlockBytes: number
  /** Most ops one batch block may carry; 0: this base writes one op per block. */
  maxBatchOps: number
  /** Deepest nesting of arrays and objects an op may have. */
  maxDepth: number
  /** The body of an op (everything but the envelope), or why it is malformed. */
  body(o: Obj): Omit<O, keyof Envelope> | string
}

export type Validation<O> = { ok: true; op: O } | { ok: false; reason: string }

export function bad<O>(reason: string): Validation<O> {
  return { ok: false, reason }
}

/** Validate a decoded op: its envelope, then its body. Never throws. */
export function validateOp<O extends Envelope & { type: string }>(
  codec: Codec<O>,
  value: unknown
): Validation<O> {
  if (!isObj(value)) return bad('not an object')
  if (value.v !== codec.version) return bad(`unsupported op version ${printable(value.v)}`)
  if (!isOpId(value.id)) return bad('missing or malformed id')
  if (!isTs(value.ts)) return bad('missing or malformed ts')
  const body = codec.body(value)
  if (typeof body === 'string') return bad(body)
  return { ok: true, op: { v: codec.version, id: value.id, ts: value.ts, ...body } as O }
}

/**
 * Decode a writer's block into its ops, each judged on its own (a bad op in a batch is skipped,
 * its neighbours are not). Size and nesting are bounded before anything recursive walks it.
 */
export function decodeBlock<O extends Envelope & { type: string }>(
  codec: Codec<O>,
  block: unknown
): Validation<O>[] {
  if (!(block instanceof Uint8Array)) return [bad('not a binary block')]
  const limit = codec.maxBatchOps > 0 ? codec.maxBlockBytes : codec.maxOpBytes
  if (block.byteLength > limit) {
    return [bad(`oversized ${codec.maxBatchOps > 0 ? 'block' : 'op'} (${block.byteLength} bytes)`)]
  }
  let value: unknown
  try {
    // JSON.parse itself does not recurse; what walks the value afterwards is bounded below
    value = JSON.parse(
      Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('utf-8')
    )
  } catch {
    return [bad('not JSON')]
  }
  if (codec.maxBatchOps > 0 && isObj(value) && 'batch' in value) {
    if (value.v !== codec.version || !Array.isArray(value.batch)) return [bad('malformed batch')]
    if (value.batch.length === 0 || value.batch.length > codec.maxBatchOps) {
      return [bad(`batch of ${value.batch.length} ops`)]
    }
    return value.batch.map((op: unknown) => {
      if (depthExceeds(op, codec.maxDepth)) return bad('nested too deeply')
      const bytes = Buffer.byteLength(JSON.stringify(op) ?? '')
      return bytes > codec.maxOpBytes ? bad(`oversized op (${bytes} bytes)`) : validateOp(codec, op)
    })
  }
  if (block.byteLength > codec.maxOpBytes) {
    return [bad(`oversized op (${block.byteLength} bytes)`)]
  }
  if (depthExceeds(value, codec.maxDepth)) return [bad('nested too deeply')]
  return [validateOp(codec, value)]
}

/** Encode an op for appending. */
export function encodeOp(op: Envelope): Buffer {
  return Buffer.from(JSON.stringify(op), 'utf-8')
}

/** Join ops already encoded with {@link encodeOp} into one block, without encoding them again. */
export function joinBatch(version: number, encoded: Buffer[]): Buffer {
  if (encoded.length === 1) return encoded[0] as Buffer
  const parts: Buffer[] = [Buffer.from(`{"v":${version},"batch":[`)]
  encoded.forEach((op, i) => {
    if (i > 0) parts.push(COMMA)
    parts.push(op)
  })
  parts.push(CLOSE)
  return Buffer.concat(parts)
}

const COMMA = Buffer.from(',')
const CLOSE = Buffer.from(']}')
