/**
 * Invite codes as people copy them: z-base-32 of a version byte, the payload and a checksum.
 *
 * - Version 3, a project invite: the blind-pairing invite (seed, discovery key, expiry), the
 *   display name of the member who made it, then a checksum.
 * - Version 4, a device link code: the profile id, its discovery key, the invite, a checksum.
 * - Versions 1 and 2 are the same two codes from before the checksum (no name): refused with
 *   a message saying so (ask for a new code), since a change inside one could not be caught.
 *
 * The checksum is the first 4 bytes of a BLAKE2b hash of everything before it: a code with a
 * character changed, missing or added is refused at once as damaged (INVITE_CORRUPT,
 * LINK_CORRUPT) instead of waiting out a join that no member can answer.
 */
import BlindPairing from 'blind-pairing'
import c from 'compact-encoding'
import crypto from 'hypercore-crypto'
import z32 from 'z32'
import { FluxError, type FluxErrorCode } from '../errors.js'

const LEGACY_INVITE = 1
const LEGACY_LINK = 2
const INVITE = 3
const LINK = 4
const CHECKSUM = 4
/** The maker's name in a code is cut to this many UTF-8 bytes: codes stay short to copy. */
export const MAKER_NAME_BYTES = 32

export interface DecodedInviteCode {
  /** Invite id (hex), as the member knows it. */
  id: string
  discoveryKey: Buffer
  /** Absolute expiry in ms since the epoch, 0 for none. */
  expires: number
  /** The raw blind-pairing invite. */
  invite: Buffer
  /** The display name of the member who made it, as the code says (null when it names none). */
  maker: string | null
}

/** An invite code for `invite`, naming its maker (`maker`, cut to MAKER_NAME_BYTES). */
export function encodeInviteCode(invite: Buffer, maker: string | null = null): string {
  const body = Buffer.concat([
    Buffer.from([INVITE]),
    c.encode(c.buffer, invite),
    c.encode(c.string, cleanName(maker ?? ''))
  ])
  return z32.encode(withChecksum(body))
}

/** Decode an invite code; throws INVITE_MALFORMED or INVITE_CORRUPT with a reason a person understands. */
export function decodeInviteCode(code: string): DecodedInviteCode {
  const raw = unwrap(code, 'project')
  const parsed = parseInvite(raw)
  if (parsed === null) throw damaged('project')
  return parsed
}

export interface DecodedLinkCode extends Omit<DecodedInviteCode, 'maker'> {
  profileId: Buffer
  /** The profile discovery public key: the topic its devices and hosts meet on. */
  discovery: Buffer
}

export function encodeLinkCode(profileId: Buffer, discovery: Buffer, invite: Buffer): string {
  const body = Buffer.concat([
    Buffer.from([LINK]),
    profileId,
    discovery,
    c.encode(c.buffer, invite)
  ])
  return z32.encode(withChecksum(body))
}

/** Decode a device link code; throws LINK_MALFORMED or LINK_CORRUPT with a reason a person understands. */
export function decodeLinkCode(code: string): DecodedLinkCode {
  const raw = unwrap(code, 'link')
  const parsed = parseLink(raw)
  if (parsed === null) throw damaged('link')
  return parsed
}

/**
 * Why a code is refused as expired, judged by this machine's clock: a joiner whose clock runs
 * years ahead sees every code as expired, so the message says which clock judged and how to
 * tell (issue 10).
 */
export function expiredMessage(what: string, expires: number, now: number, fix: string): string {
  const at = new Date(expires).toISOString()
  return (
    `this ${what} expired at ${at} by this machine's clock (it says ${new Date(now).toISOString()}): ` +
    `${fix}; if this machine's clock is wrong, set it right and try again`
  )
}

type Kind = 'project' | 'link'

interface KindInfo {
  malformed: FluxErrorCode
  corrupt: FluxErrorCode
  what: string
  versions: readonly number[]
  other: string
}

const KINDS: Record<Kind, KindInfo> = {
  project: {
    malformed: 'INVITE_MALFORMED',
    corrupt: 'INVITE_CORRUPT',
    what: 'invite code',
    versions: [INVITE],
    other: 'this is a device link code, not a project invite: use `flux device join`'
  },
  link: {
    malformed: 'LINK_MALFORMED',
    corrupt: 'LINK_CORRUPT',
    what: 'link code',
    versions: [LINK],
    other: 'this is a project invite, not a device link code: use `flux project join`'
  }
}

function damaged(kind: Kind): FluxError {
  const k = KINDS[kind]
  return new FluxError(
    k.corrupt,
    `this ${k.what} is damaged (a character is wrong, missing or extra): check you copied all of it`
  )
}

/**
 * The bytes of a code that may be of `kind`. Text that is not a code at all, or a code of the
 * other kind, is malformed; a code of this kind with anything wrong in it is damaged. "Of this
 * kind" is judged by the version byte, or by length when a damaged character hit the version.
 */
function unwrap(code: string, kind: Kind): Buffer {
  const k = KINDS[kind]
  const text = code.trim().toLowerCase()
  // every Flux code is far longer; shorter text is something else pasted by mistake
  const long = text.length >= 40 && /^[a-z0-9]+$/.test(text)
  let raw: Buffer
  try {
    raw = z32.decode(text)
  } catch {
    if (long) throw damaged(kind)
    throw new FluxError(k.malformed, `this is not a Flux ${k.what}: check it was copied whole`)
  }
  const ours = raw.byteLength > 0 && k.versions.includes(raw[0] as number)
  // z-base-32 decodes a code missing its last character into as many bytes, the last ones
  // zeroed. One spelling per code: it must encode back to itself.
  if (z32.encode(raw) !== text) {
    if (long || ours) throw damaged(kind)
    throw new FluxError(k.malformed, `this is not a Flux ${k.what}: check it was copied whole`)
  }
  if (ours) return raw
  if (isLegacy(raw)) {
    throw new FluxError(
      k.malformed,
      `this code was made by an older Flux, before codes carried a checksum: ask for a new ${k.what} (\`${kind === 'project' ? 'flux project invite' : 'flux device link'}\` on an updated node)`
    )
  }
  const isOther = kind === 'project' ? parseLink(raw) !== null : parseInvite(raw) !== null
  if (isOther) throw new FluxError(k.malformed, k.other)
  if (checksumOk(raw)) {
    throw new FluxError(k.malformed, `this ${k.what} was made by a newer Flux: update Flux`)
  }
  if (long) throw damaged(kind)
  throw new FluxError(k.malformed, `this is not a Flux ${k.what} (unknown format or version)`)
}

function withChecksum(body: Buffer): Buffer {
  return Buffer.concat([body, crypto.hash(body).subarray(0, CHECKSUM)])
}

function checksumOk(raw: Buffer): boolean {
  if (raw.byteLength <= CHECKSUM + 1) return false
  const body = raw.subarray(0, raw.byteLength - CHECKSUM)
  return crypto
    .hash(body)
    .subarray(0, CHECKSUM)
    .equals(raw.subarray(raw.byteLength - CHECKSUM))
}

/** The body of a checksummed code, or null when the checksum does not match. */
function checked(raw: Buffer): Buffer | null {
  return checksumOk(raw) ? raw.subarray(0, raw.byteLength - CHECKSUM) : null
}

/** Whether `raw` is a whole code of the kind made before the checksum (versions 1 and 2). */
function isLegacy(raw: Buffer): boolean {
  if (raw[0] === LEGACY_INVITE) return openInvite(raw.subarray(1)) !== null
  if (raw[0] === LEGACY_LINK) return raw.byteLength >= 66 && openInvite(raw.subarray(65)) !== null
  return false
}

function parseInvite(raw: Buffer): DecodedInviteCode | null {
  if (raw[0] !== INVITE) return null
  const body = checked(raw)
  if (body === null) return null
  try {
    const state = c.state(1, body.byteLength, body)
    const bytes = c.buffer.decode(state)
    const invite = bytes === null ? null : Buffer.from(bytes)
    const maker = c.string.decode(state)
    if (state.start !== state.end || invite === null) return null
    const opened = openInvite(invite)
    return opened === null ? null : { ...opened, invite, maker: cleanName(maker) || null }
  } catch {
    return null
  }
}

function parseLink(raw: Buffer): DecodedLinkCode | null {
  if (raw[0] !== LINK) return null
  const body = checked(raw)
  if (body === null || body.byteLength < 66) return null
  let invite: Buffer | null
  try {
    const state = c.state(65, body.byteLength, body)
    const bytes = c.buffer.decode(state)
    invite = bytes === null ? null : Buffer.from(bytes)
    if (state.start !== state.end) return null
  } catch {
    return null
  }
  if (invite === null) return null
  const opened = openInvite(invite)
  if (opened === null) return null
  return {
    ...opened,
    invite,
    profileId: Buffer.from(body.subarray(1, 33)),
    discovery: Buffer.from(body.subarray(33, 65))
  }
}

/**
 * The blind-pairing invite in a code, or null. Flux invites always carry a discovery key and
 * an expiry and nothing else: anything more or less (the library reads past neither end) is
 * damage.
 */
function openInvite(invite: Buffer): Omit<DecodedInviteCode, 'invite' | 'maker'> | null {
  const flags = invite[1]
  if (invite[0] !== 1 || flags === undefined || (flags & ~3) !== 0 || (flags & 1) === 0) return null
  if (invite.byteLength !== 2 + 32 + 32 + ((flags & 2) !== 0 ? 4 : 0)) return null
  try {
    const decoded = BlindPairing.decodeInvite(invite)
    return {
      id: decoded.id.toString('hex'),
      discoveryKey: decoded.discoveryKey,
      expires: decoded.expires
    }
  } catch {
    return null
  }
}

/** A name fit for a code and a terminal: no control characters, at most MAKER_NAME_BYTES. */
function cleanName(name: string): string {
  let out = name.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim()
  while (Buffer.byteLength(out) > MAKER_NAME_BYTES) out = [...out].slice(0, -1).join('')
  return out
}
