/**
 * Invite codes as people copy them: z-base-32 of a version byte followed by a
 * blind-pairing invite (seed, discovery key, expiry).
 */
import BlindPairing from 'blind-pairing'
import z32 from 'z32'
import { FluxError } from '../errors.js'

const VERSION = 1
/** Device link codes: version 2, the profile id, its discovery key, then the invite. */
const LINK_VERSION = 2

export interface DecodedInviteCode {
  /** Invite id (hex), as the member knows it. */
  id: string
  discoveryKey: Buffer
  /** Absolute expiry in ms since the epoch, 0 for none. */
  expires: number
  /** The raw blind-pairing invite. */
  invite: Buffer
}

export function encodeInviteCode(invite: Buffer): string {
  return z32.encode(Buffer.concat([Buffer.from([VERSION]), invite]))
}

/** Decode an invite code; throws INVITE_MALFORMED with a reason a person understands. */
export function decodeInviteCode(code: string): DecodedInviteCode {
  const raw = unwrap(code, 'project')
  return { ...openInvite(raw.subarray(1), 'project'), invite: raw.subarray(1) }
}

export interface DecodedLinkCode extends DecodedInviteCode {
  profileId: Buffer
  /** The profile discovery public key: the topic its devices and hosts meet on. */
  discovery: Buffer
}

export function encodeLinkCode(profileId: Buffer, discovery: Buffer, invite: Buffer): string {
  return z32.encode(Buffer.concat([Buffer.from([LINK_VERSION]), profileId, discovery, invite]))
}

/** Decode a device link code; throws LINK_MALFORMED with a reason a person understands. */
export function decodeLinkCode(code: string): DecodedLinkCode {
  const raw = unwrap(code, 'link')
  const invite = raw.subarray(65)
  return {
    ...openInvite(invite, 'link'),
    invite,
    profileId: Buffer.from(raw.subarray(1, 33)),
    discovery: Buffer.from(raw.subarray(33, 65))
  }
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

const KINDS = {
  project: {
    code: 'INVITE_MALFORMED',
    what: 'invite code',
    version: VERSION,
    min: 2,
    other: 'this is a device link code, not a project invite: use `flux device join`'
  },
  link: {
    code: 'LINK_MALFORMED',
    what: 'link code',
    version: LINK_VERSION,
    min: 66,
    other: 'this is a project invite, not a device link code: use `flux project join`'
  }
} as const

/** The bytes of a code of `kind`, its version checked (a code of the other kind says so). */
function unwrap(code: string, kind: Kind): Buffer {
  const k = KINDS[kind]
  const text = code.trim()
  let raw: Buffer
  try {
    raw = z32.decode(text)
  } catch {
    throw new FluxError(k.code, `this ${k.what} is not valid z-base-32: check it was copied whole`)
  }
  // z-base-32 decodes a code missing its last character into as many bytes, the last ones
  // zeroed: the expiry then read as long past ("expired"). One spelling per code: it must
  // encode back to itself.
  if (z32.encode(raw) !== text) {
    throw new FluxError(
      k.code,
      `this ${k.what} is incomplete or has extra characters: check it was copied whole`
    )
  }
  const other = kind === 'project' ? KINDS.link : KINDS.project
  if (raw[0] === other.version) throw new FluxError(k.code, k.other)
  if (raw.byteLength < k.min || raw[0] !== k.version) {
    throw new FluxError(k.code, `this is not a Flux ${k.what} (unknown format or version)`)
  }
  return raw
}

function openInvite(invite: Buffer, kind: Kind): Omit<DecodedInviteCode, 'invite'> {
  const k = KINDS[kind]
  try {
    const decoded = BlindPairing.decodeInvite(invite)
    return {
      id: decoded.id.toString('hex'),
      discoveryKey: decoded.discoveryKey,
      expires: decoded.expires
    }
  } catch {
    throw new FluxError(k.code, `this ${k.what} is damaged or truncated: check it was copied whole`)
  }
}
