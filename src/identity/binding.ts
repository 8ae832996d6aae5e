/**
 * A device binding something to itself: the device (or a delegate, holding a grant instead of
 * a proof) signs a statement with its own key, and carries its proof, so anyone can check the
 * whole chain from the profile id down to what it signed. Writer proofs bind a project writer
 * core; peer proofs bind the node's swarm key. No network, no clock: expiry and revocation are
 * judged by whoever checks, against what it knows.
 */
import sodium from 'sodium-universal'
import b4a from 'b4a'
import { verifyDelegation, verifyDevice } from './devices.js'
import type { DeviceKeys } from './profile-keys.js'
import { toHex } from './keys.js'

export interface Binding {
  profile: Uint8Array
  device: Uint8Array
  /** The device proof (full device) or the delegation grant (delegate). */
  proof: Uint8Array
  delegated: boolean
  /** The device's signature over the statement. */
  sig: Uint8Array
}

/** What a valid binding shows. */
export interface VerifiedBinding {
  profile: string
  device: string
  delegated: boolean
  /** Null for a full device. */
  expiresAt: number | null
  /** Device keys (hex) from the one the identity attested down to the signer. */
  chain: string[]
}

/** Sign `statement` as this device: the parts a binding carries (keys in hex). */
export function bindToDevice(
  keys: DeviceKeys,
  statement: Uint8Array
): { profile: string; device: string; proof: Buffer; delegated: boolean; sig: Buffer } {
  const sig = b4a.alloc(sodium.crypto_sign_BYTES) as Buffer
  sodium.crypto_sign_detached(sig, statement, keys.device.secretKey)
  return {
    profile: toHex(keys.profileId),
    device: toHex(keys.device.publicKey),
    proof: keys.deviceProof,
    delegated: keys.delegated === true,
    sig
  }
}

/** Verify a binding of `statement`: null for anything but a valid chain and signature. */
export function verifyBinding(b: Binding, statement: Uint8Array): VerifiedBinding | null {
  try {
    if (b.sig.byteLength !== sodium.crypto_sign_BYTES) return null
    if (b.profile.byteLength !== 32 || b.device.byteLength !== 32) return null
    if (!sodium.crypto_sign_verify_detached(b.sig, statement, b.device)) return null
    const expect = { profileId: b.profile, devicePublicKey: b.device }
    const base = { profile: toHex(b.profile), device: toHex(b.device) }
    if (b.delegated) {
      const grant = verifyDelegation(b.proof, expect)
      if (grant === null) return null
      return { ...base, delegated: true, expiresAt: grant.expiresAt, chain: grant.chain.map(toHex) }
    }
    const dev = verifyDevice(b.proof, expect)
    if (dev === null) return null
    return { ...base, delegated: false, expiresAt: null, chain: dev.chain.map(toHex) }
  } catch {
    return null
  }
}
