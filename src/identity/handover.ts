/**
 * What a node needs to run as a profile made or recovered from a recovery phrase, derived in
 * the `flux` client: the phrase (the identity secret) never crosses the control socket and
 * never enters the running node. The node gets a device attested by the identity, the
 * profile's keys, and the recovery box key pair (the public key for a new profile; the pair
 * to open sealed project keys when recovering), and checks that they hold together.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import sodium from 'sodium-universal'
import { FluxError } from '../errors.js'
import { verifyDevice } from './devices.js'
import {
  clearDeviceKeys,
  createDeviceKeyPair,
  createProfile,
  withIdentity,
  type DeviceKeys
} from './profile-keys.js'
import type { BoxKeyPair } from './seal.js'

export interface ProfileMaterial {
  keys: DeviceKeys
  /** The recovery box: the public key always; the secret key only when recovering. */
  box: { publicKey: Buffer; secretKey: Buffer | null }
}

const VERSION = 1

/** A new profile: its phrase (shown once, by the client) and what the node needs. */
export async function newProfileMaterial(): Promise<{ phrase: string; material: ProfileMaterial }> {
  const { phrase, keys } = await createProfile()
  const publicKey = await withIdentity(phrase, (identity) => {
    const box = identity.recoveryBoxKeyPair()
    sodium.sodium_memzero(box.secretKey)
    return box.publicKey
  })
  return { phrase, material: { keys, box: { publicKey, secretKey: null } } }
}

/** For recovering: a new device attested by the identity, the profile's keys, the box. */
export async function recoveryMaterial(phrase: string): Promise<ProfileMaterial> {
  return withIdentity(phrase, async (identity) => {
    const device = createDeviceKeyPair()
    const box: BoxKeyPair = identity.recoveryBoxKeyPair()
    return {
      keys: {
        profileId: identity.profileId,
        device,
        deviceProof: await identity.attestDevice(device.publicKey),
        secrets: identity.profileSecrets()
      },
      box
    }
  })
}

/** Zero every secret of `m`. */
export function clearMaterial(m: ProfileMaterial): void {
  clearDeviceKeys(m.keys)
  if (m.box.secretKey) sodium.sodium_memzero(m.box.secretKey)
}

/** `m` as text for one control request (base64). */
export function encodeMaterial(m: ProfileMaterial): string {
  const s = m.keys.secrets
  if (s === null || s.discoveryKeyPair.secretKey === null) {
    throw new FluxError('INTERNAL', 'a profile from its phrase has every profile key')
  }
  const discoverySecret = s.discoveryKeyPair.secretKey
  const state = c.state()
  for (const step of ['preencode', 'encode'] as const) {
    if (step === 'encode') state.buffer = b4a.alloc(state.end)
    c.uint[step](state, VERSION)
    c.fixed32[step](state, m.keys.profileId)
    c.fixed64[step](state, m.keys.device.secretKey)
    c.buffer[step](state, m.keys.deviceProof)
    c.fixed64[step](state, discoverySecret)
    c.fixed32[step](state, s.encryptionKey)
    c.fixed32[step](state, m.box.publicKey)
    c.optionalBuffer[step](state, m.box.secretKey)
  }
  const buffer = state.buffer as Buffer
  const text = buffer.toString('base64')
  sodium.sodium_memzero(buffer)
  return text
}

/**
 * Read what a client sent: INVALID_INPUT unless every part holds together (the device proof
 * chains the device to the profile id, each secret key matches its public key).
 */
export function decodeMaterial(text: string): ProfileMaterial {
  const bad = (): FluxError =>
    new FluxError('INVALID_INPUT', 'the profile keys sent by the client do not hold together')
  let raw: Buffer
  try {
    raw = b4a.from(text, 'base64') as Buffer
  } catch {
    throw bad()
  }
  try {
    const state = c.state(0, raw.byteLength, raw)
    if (c.uint.decode(state) !== VERSION) throw bad()
    const copy = (b: Uint8Array): Buffer => b4a.from(b) as Buffer
    const profileId = copy(c.fixed32.decode(state))
    const deviceSecret = copy(c.fixed64.decode(state))
    const proof = c.buffer.decode(state)
    const discoverySecret = copy(c.fixed64.decode(state))
    const encryptionKey = copy(c.fixed32.decode(state))
    const boxPublic = copy(c.fixed32.decode(state))
    const boxSecret = c.optionalBuffer.decode(state)
    if (state.start !== state.end || proof === null) throw bad()
    // an ed25519 secret key ends with its public key
    const devicePublic = copy(deviceSecret.subarray(32))
    if (verifyDevice(proof, { profileId, devicePublicKey: devicePublic }) === null) throw bad()
    const box = { publicKey: boxPublic, secretKey: boxSecret === null ? null : copy(boxSecret) }
    if (box.secretKey !== null) {
      const derived = b4a.alloc(sodium.crypto_box_PUBLICKEYBYTES) as Buffer
      sodium.crypto_scalarmult_base(derived, box.secretKey)
      if (!b4a.equals(derived, boxPublic)) throw bad()
    }
    return {
      keys: {
        profileId,
        device: { publicKey: devicePublic, secretKey: deviceSecret },
        deviceProof: copy(proof),
        secrets: {
          discoveryKeyPair: {
            publicKey: copy(discoverySecret.subarray(32)),
            secretKey: discoverySecret
          },
          encryptionKey
        }
      },
      box
    }
  } catch (err) {
    if (err instanceof FluxError) throw err
    throw bad()
  } finally {
    sodium.sodium_memzero(raw)
  }
}
