/**
 * Shape checks shared by every deterministic base's ops (projects, profiles, and the bases to
 * come). Pure: no clock, no randomness, no I/O; none of them throws.
 */

/** A 32-byte key as 64 lowercase hex characters. */
export type HexKey = string
/** A 16-byte op id as 32 lowercase hex characters. */
export type OpId = string
/** Base64 text of binary data (a proof, a grant or a sealed box). */
export type B64 = string
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue }

export type Obj = Record<string, unknown>

const HEX64 = /^[0-9a-f]{64}$/
const HEX32 = /^[0-9a-f]{32}$/
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function isOpId(v: unknown): v is OpId {
  return typeof v === 'string' && HEX32.test(v)
}

export function isHexKey(v: unknown): v is HexKey {
  return typeof v === 'string' && HEX64.test(v)
}

/** The op id a write saw as the current value (null: none). */
export function isPrev(v: unknown): v is OpId | null {
  return v === null || isOpId(v)
}

/** A writer's clock reading: whole ms since the epoch. */
export function isTs(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

/** Text of at most `max` UTF-16 units; not blank unless `allowEmpty`. */
export function isText(v: unknown, max: number, allowEmpty = false): v is string {
  return typeof v === 'string' && v.length <= max && (allowEmpty || v.trim().length > 0)
}

/**
 * What text from peers may contain. `line`: a name, a title, a key: no control character at
 * all. `prose`: a post, a description: newline and tab, no other control. Control characters
 * are C0 (U+0000-U+001F), DEL and C1 (U+0080-U+009F): printed raw they move the cursor,
 * recolour, retitle the window or fake lines, so apply refuses them on every peer.
 */
export type TextKind = 'line' | 'prose'

// eslint-disable-next-line no-control-regex
const LINE_CONTROLS = /[\u0000-\u001f\u007f-\u009f]/
// eslint-disable-next-line no-control-regex
const PROSE_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/

/**
 * Why `v` is not acceptable text of `kind`, at most `max` UTF-16 units and not blank unless
 * `allowEmpty`; null when it is. The reason is for people: it becomes the skip record and the
 * INVALID_INPUT message.
 */
export function textFault(
  v: unknown,
  max: number,
  kind: TextKind,
  allowEmpty = false
): string | null {
  if (typeof v !== 'string') return 'not text'
  if (v.length > max) return `longer than ${max} characters`
  if (!allowEmpty && v.trim().length === 0) return 'empty'
  if ((kind === 'line' ? LINE_CONTROLS : PROSE_CONTROLS).test(v)) {
    return kind === 'line'
      ? 'control characters are not allowed'
      : 'control characters are not allowed (newline and tab are)'
  }
  return null
}

/**
 * `v` as a line `textFault` accepts for control characters: each one becomes '?'. For text
 * written before apply refused them (a project name copied into the profile).
 */
export function lineWithoutControls(v: string): string {
  return v.replace(new RegExp(LINE_CONTROLS.source, 'g'), '?')
}

/** Text that `textFault` accepts. */
export function isTextOf(v: unknown, max: number, kind: TextKind, allowEmpty = false): v is string {
  return textFault(v, max, kind, allowEmpty) === null
}

/** The skip reason for a field that `isTextOf` refused: "bad name: longer than 100 characters". */
export function badText(
  label: string,
  v: unknown,
  max: number,
  kind: TextKind,
  allowEmpty = false
): string {
  return `bad ${label}: ${textFault(v, max, kind, allowEmpty) ?? 'not text'}`
}

/** Canonical, non-empty base64 of at most `maxBytes` bytes: one spelling per value. */
export function isB64(v: unknown, maxBytes: number): v is B64 {
  if (typeof v !== 'string' || v.length === 0) return false
  if (v.length > Math.ceil(maxBytes / 3) * 4 || !B64_RE.test(v)) return false
  // non-zero padding bits would give the same bytes a second spelling
  return Buffer.from(v, 'base64').toString('base64') === v
}

/**
 * Whether a parsed JSON value nests arrays and objects deeper than `limit`, found without
 * recursion. Any recursive walk of peer input (JSON.stringify included) must be bounded
 * first: a block nested thousands of levels deep overflows the stack.
 */
export function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number]
    if (typeof v !== 'object' || v === null) continue
    if (depth + 1 > limit) return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1])
  }
  return false
}

/**
 * `String(v)` for a peer's value in a skip reason, without throwing: `String` on an object
 * like `{"toString":1}` throws ("Cannot convert object to primitive value"), which once closed
 * a project on every peer. Deterministic: the same value gives the same text everywhere.
 * Call it only on values whose depth was bounded (arrays are joined recursively).
 */
export function printable(v: unknown): string {
  try {
    return String(v)
  } catch {
    return '[object]'
  }
}
