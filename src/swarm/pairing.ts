/**
 * Running a blind-pairing candidate to its answer, shared by project invites and device links.
 * The library never rejects `pairing` on a denial (it keeps polling): a denial is a 'rejected'
 * event, raced here with the answer and a timeout.
 */
import type BlindPairing from 'blind-pairing'
import { withTimeout } from '../util/timeout.js'

export interface PairingAnswer {
  key: Buffer
  encryptionKey: Buffer | null
}

/**
 * Ask with `invite` and `userData`. Resolves with the answer or null (the pairing ended without
 * one); rejects with the library's error (its `code`: INVITE_USED, INVITE_EXPIRED,
 * PAIRING_REJECTED) for callers to map, or FluxError TIMEOUT with `timeoutMessage`.
 */
export async function askToPair(
  pairing: BlindPairing,
  invite: Buffer,
  userData: Buffer,
  timeout: number,
  timeoutMessage: string
): Promise<PairingAnswer | null> {
  const candidate = pairing.addCandidate({ invite, userData })
  try {
    const denied = new Promise<never>((_, reject) => candidate.request.on('rejected', reject))
    const result = await withTimeout(
      Promise.race([candidate.pairing, denied]),
      timeout,
      timeoutMessage
    )
    return result ? { key: result.key, encryptionKey: result.encryptionKey } : null
  } finally {
    await candidate.close().catch(() => {})
  }
}
