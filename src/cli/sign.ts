/** `flux sign` (as the profile, by the running node) and `flux verify` (anyone, no node needed). */
import { arg as argument, description, summary } from 'paparam'
import z32 from 'z32'
import { FluxError, isFluxError } from '../errors.js'
import { decodeKey, encodeKey } from '../identity/keys.js'
import { arg, callNode, usageError, verb, type Invocation } from './command.js'
import type { RevocationInfo } from '../api.js'

export const sign = verb(
  'sign',
  [
    summary('Sign a message as your profile; prints the signature'),
    description(
      'The running node signs with this device, which carries its proof: anyone can check it\n' +
        'with `flux verify <profile-id> <signature> <message>`.'
    ),
    argument('<message>', 'the text to sign')
  ],
  async (inv, out) => {
    const signed = await callNode(inv, 'profile.sign', { message: arg(inv, 'message') })
    if (!out.json) out.note(`signed as profile ${signed.profile} by device ${signed.device}`)
    out.result(signed, (s) => s.signature)
  }
)

/** What `flux verify` found; `reason` says why when not valid. */
export interface Verdict {
  valid: boolean
  kind: 'signature' | 'device' | 'delegation'
  profile: string
  device: string | null
  /** A delegate's end (ms), and the device that granted it. */
  expiresAt?: number
  grantedBy?: string
  reason?: string
  /**
   * Whether revocations were checked, by the node of --home: 'checked' (it knows the profile),
   * 'unknown-profile' (it knows nothing of it), 'no-node' (none runs). Set on a valid proof.
   */
  revocations?: 'checked' | 'unknown-profile' | 'no-node'
  /** The revocation that makes a valid proof count no more (z-base-32 ids). */
  revoked?: { device: string; by: string; at: number }
}

export const verify = verb(
  'verify',
  [
    summary("Check a signature, or a device's proof, against a profile (no node needed)"),
    description(
      'With a message: checks that <signature> (from `flux sign`) was made over it by a device\n' +
        'of the profile. Without: reads <signature> as a device proof (from `flux device proof`)\n' +
        'and checks the device belongs to the profile. Prints "valid: ..." and exits 0, or\n' +
        '"invalid: ..." and exits 1. Revocations live in the profile and its projects: the node\n' +
        'of --home is asked (a device it knows was revoked is "revoked: ...", exit 1); with no\n' +
        'node running, or one that knows nothing of the profile, the verdict says revocations\n' +
        'could not be checked.'
    ),
    argument('<profile-id>', 'the profile id (see `flux whoami`)'),
    argument('<signature>', 'a signature, or a device proof when no message is given'),
    argument('[message]', 'the signed message')
  ],
  async (inv, out) => {
    const profileText = arg(inv, 'profileId')
    const text = arg(inv, 'signature')
    const message = inv.args.message
    const profileId = decodeKey(profileText, 'profile id')
    const profile = encodeKey(profileId)
    let verdict: Verdict
    if (message !== undefined) {
      const { verifySignature } = await import('../identity/sign.js')
      const v = verifySignature(profileId, text, message)
      verdict = v.valid
        ? { valid: true, kind: 'signature', profile, device: encodeKey(v.devicePublicKey) }
        : { valid: false, kind: 'signature', profile, device: null, reason: v.reason }
    } else {
      verdict = await verifyProof(profileId, text)
    }
    verdict = await checkRevocation(inv, verdict)
    out.result(verdict, human)
    return verdict.valid ? 0 : 1
  }
)

/**
 * Ask the node of --home whether the device of a valid proof was revoked. A signature carries
 * no trustworthy time, so whatever a revoked device signed no longer counts, before or after.
 */
async function checkRevocation(inv: Invocation, v: Verdict): Promise<Verdict> {
  if (!v.valid || v.device === null) return v
  let r: RevocationInfo
  try {
    r = await callNode(inv, 'profile.revocation', { profile: v.profile, device: v.device })
  } catch (err) {
    if (isFluxError(err, 'NO_NODE')) return { ...v, revocations: 'no-node' }
    throw err
  }
  if (r.revoked === null) return { ...v, revocations: r.known ? 'checked' : 'unknown-profile' }
  const via = r.revoked.device === v.device ? '' : ` (it was linked through ${r.revoked.device})`
  return {
    ...v,
    valid: false,
    revocations: 'checked',
    revoked: r.revoked,
    reason:
      `device ${v.device} of profile ${v.profile} was revoked${via} at ` +
      `${new Date(r.revoked.at).toISOString()} by device ${r.revoked.by}: what it signed no longer counts`
  }
}

function human(v: Verdict): string {
  if (v.revoked) return `revoked: ${v.reason ?? 'the device was revoked'}`
  if (!v.valid) return `invalid: ${v.reason ?? 'not valid'}`
  const caveat =
    v.revocations === 'checked'
      ? ' (not revoked, as far as this node knows)'
      : v.revocations === 'unknown-profile'
        ? '; revocations not checked: this node knows nothing of the profile'
        : '; revocations could not be checked: no node runs here (`flux up`, or --home)'
  if (v.kind === 'signature') {
    return `valid: signed by device ${v.device} of profile ${v.profile}${caveat}`
  }
  if (v.kind === 'delegation') {
    const until = new Date(v.expiresAt ?? 0).toISOString()
    return `valid: ${v.device} is a delegate of profile ${v.profile} until ${until} (granted by device ${v.grantedBy})${caveat}`
  }
  return `valid: ${v.device} is a device of profile ${v.profile}${caveat}`
}

/** A device proof or a delegate's grant (z-base-32), checked against the profile. */
async function verifyProof(profileId: Buffer, text: string): Promise<Verdict> {
  const { decodeProof, verifyDelegation, verifyDevice } = await import('../identity/devices.js')
  const profile = encodeKey(profileId)
  const s = text.replace(/\s+/g, '')
  let bytes: Buffer | null = null
  if (s.length > 0 && s.length <= 8192 && /^[ybndrfg8ejkmcpqxot1uwisza345h769]+$/.test(s)) {
    try {
      bytes = z32.decode(s)
    } catch {
      bytes = null
    }
  }
  // a copy missing its tail decodes to fewer bytes: say so, rather than "invalid"
  if (bytes === null || z32.encode(bytes) !== s) {
    throw new FluxError(
      'SIGNATURE_MALFORMED',
      'this is neither a Flux signature nor a device proof (copied incompletely?)'
    )
  }
  const decoded = decodeProof(bytes)
  if (decoded !== null && decoded.data !== null) {
    throw usageError('this is a signature: give the message it signed as a third argument')
  }
  const invalid = (reason: string, kind: Verdict['kind'] = 'device'): Verdict => ({
    valid: false,
    kind,
    profile,
    device: null,
    reason
  })
  if (decoded !== null) {
    const mine = verifyDevice(bytes, { profileId })
    if (mine !== null) {
      return { valid: true, kind: 'device', profile, device: encodeKey(mine.devicePublicKey) }
    }
    const other = verifyDevice(bytes)
    return invalid(
      other !== null
        ? `a device of another profile (${encodeKey(other.profileId)})`
        : 'the device proof does not check out'
    )
  }
  const grant = verifyDelegation(bytes, { profileId })
  if (grant !== null) {
    const device = encodeKey(grant.devicePublicKey)
    if (grant.expiresAt <= Date.now()) {
      return {
        ...invalid(
          `the delegation of ${device} ended at ${new Date(grant.expiresAt).toISOString()}`,
          'delegation'
        ),
        device,
        expiresAt: grant.expiresAt
      }
    }
    return {
      valid: true,
      kind: 'delegation',
      profile,
      device,
      expiresAt: grant.expiresAt,
      grantedBy: encodeKey(grant.grantedBy)
    }
  }
  const other = verifyDelegation(bytes)
  return invalid(
    other !== null
      ? `a delegate of another profile (${encodeKey(other.profileId)})`
      : 'not a valid device proof or delegation of any profile'
  )
}
