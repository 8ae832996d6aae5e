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
  let raw: Buffer
  try {
    raw = z32.decode(code.trim())
  } catch {
    throw new FluxError(
      'INVITE_MALFORMED',
      'this invite code is not valid z-base-32: check it was copied whole'
    )
  }
  if (raw[0] === LINK_VERSION) {
    throw new FluxError(
      'INVITE_MALFORMED',
      'this is a device link code, not a project invite: use `flux device join`'
    )
  }
  if (raw.byteLength < 2 || raw[0] !== VERSION) {
    throw new FluxError(
      'INVITE_MALFORMED',
      'this is not a Flux invite code (unknown format or version)'
    )
  }
  const invite = raw.subarray(1)
  try {
    const decoded = BlindPairing.decodeInvite(invite)
    return {
      id: decoded.id.toString('hex'),
      discoveryKey: decoded.discoveryKey,
      expires: decoded.expires,
      invite
    }
  } catch {
    throw new FluxError(
      'INVITE_MALFORMED',
      'this invite code is damaged or truncated: check it was copied whole'
    )
  }
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
  let raw: Buffer
  try {
    raw = z32.decode(code.trim())
  } catch {
    throw new FluxError(
      'LINK_MALFORMED',
      'this link code is not valid z-base-32: check it was copied whole'
    )
  }
  if (raw[0] === VERSION) {
    throw new FluxError(
      'LINK_MALFORMED',
      'this is a project invite, not a device link code: use `flux project join`'
    )
  }
  if (raw.byteLength < 66 || raw[0] !== LINK_VERSION) {
    throw new FluxError('LINK_MALFORMED', 'this is not a Flux device link code')
  }
  const invite = raw.subarray(65)
  try {
    const decoded = BlindPairing.decodeInvite(invite)
    return {
      id: decoded.id.toString('hex'),
      discoveryKey: decoded.discoveryKey,
      expires: decoded.expires,
      invite,
      profileId: Buffer.from(raw.subarray(1, 33)),
      discovery: Buffer.from(raw.subarray(33, 65))
    }
  } catch {
    throw new FluxError(
      'LINK_MALFORMED',
      'this link code is damaged or truncated: check it was copied whole'
    )
  }
}
