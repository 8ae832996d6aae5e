/**
 * Running a blind-pairing candidate to its answer, shared by project invites and device links.
 * The library never rejects `pairing` on a denial (it keeps polling): a denial is a 'rejected'
 * event, raced here with the answer and a timeout.
 */
import type BlindPairing from 'blind-pairing'
import { withTimeout } from '../util/clock.js'
import { FluxError, type FluxErrorCode } from '../errors.js'

export interface PairingAnswer {
  key: Buffer
  encryptionKey: Buffer | null
}

/** What a failed pairing is called, for one kind of code (a project invite, a device link). */
export interface PairingErrors {
  used: [FluxErrorCode, string]
  expired: [FluxErrorCode, string]
  /** Denied by the other side, or an answer that could not be used. */
  rejected: [FluxErrorCode, string]
  /** Prefix of the message for any other failure (the library's own message follows). */
  failed: string
  timeout: string
  /** The message when the ask is cancelled (CANCELLED). */
  cancelled?: string
}

/**
 * Ask with `invite` and `userData`; resolves with the answer. A denial (the library's
 * INVITE_USED, INVITE_EXPIRED, PAIRING_REJECTED) or any other failure becomes the FluxError
 * named in `errors`; no answer in `timeout` ms is TIMEOUT; `signal` aborted is CANCELLED.
 * The candidate is closed in every case: the library allows one per project at a time, and an
 * abandoned one would refuse every new ask ("Active candidate already exist") until it ends.
 */
export async function askToPair(
  pairing: BlindPairing,
  invite: Buffer,
  userData: Buffer,
  timeout: number,
  errors: PairingErrors,
  signal?: AbortSignal
): Promise<PairingAnswer> {
  if (signal?.aborted) throw cancelled(errors)
  const candidate = pairing.addCandidate({ invite, userData })
  let result: { key: Buffer; encryptionKey: Buffer | null } | null
  let onAbort: (() => void) | null = null
  try {
    const denied = new Promise<never>((_, reject) => candidate.request.on('rejected', reject))
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(cancelled(errors))
      signal?.addEventListener('abort', onAbort, { once: true })
    })
    const answer = Promise.race([candidate.pairing, denied, aborted])
    result = await withTimeout(answer, timeout, errors.timeout)
  } catch (err) {
    throw pairingError(err, errors)
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort)
    await candidate.close().catch(() => {})
  }
  if (!result) throw new FluxError(errors.rejected[0], 'the pairing ended without an answer')
  return { key: result.key, encryptionKey: result.encryptionKey }
}

function cancelled(errors: PairingErrors): FluxError {
  return new FluxError('CANCELLED', errors.cancelled ?? 'cancelled before any answer')
}

function pairingError(err: unknown, errors: PairingErrors): FluxError {
  if (err instanceof FluxError) return err
  const code = (err as { code?: string } | null)?.code
  const named =
    code === 'INVITE_USED'
      ? errors.used
      : code === 'INVITE_EXPIRED'
        ? errors.expired
        : code === 'PAIRING_REJECTED'
          ? errors.rejected
          : null
  if (named !== null) return new FluxError(named[0], named[1])
  return new FluxError(
    errors.rejected[0],
    `${errors.failed}: ${(err as Error)?.message ?? String(err)}`
  )
}

/**
 * Open a pairing request with the public key of the invite it names; a request that does not
 * open (not made with that invite) is denied, and null returned.
 */
export function openRequest(req: BlindPairing.MemberRequest, publicKeyHex: string): Buffer | null {
  try {
    return req.open(Buffer.from(publicKeyHex, 'hex'))
  } catch {
    req.deny({ status: 1 })
    return null
  }
}

/**
 * Whether an invite this node issued can admit no one more, judged on the node's clock: its
 * expiry passed, or its uses are spent. The status is what blind-pairing tells the candidate.
 */
export function spent(
  invite: { expires: number; uses: number; used: number },
  now: number
): { status: number; reason: 'expired' | 'used' } | null {
  if (invite.expires <= now) return { status: 3, reason: 'expired' }
  if (invite.used >= invite.uses) return { status: 2, reason: 'used' }
  return null
}
