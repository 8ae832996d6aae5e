import test from 'brittle'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import {
  ProfileIdentity,
  createDeviceKeyPair,
  createProfile,
  withIdentity
} from '../../src/identity/profile-keys.js'
import {
  SEAL_OVERHEAD,
  openFromDevice,
  openRecovery,
  sealToDevice,
  sealToRecovery
} from '../../src/identity/seal.js'
import { code } from './helpers.js'

test('seal - a box sealed to a device opens with that device only', (t) => {
  const device = createDeviceKeyPair()
  const other = createDeviceKeyPair()
  const secret = crypto.randomBytes(32)
  const sealed = sealToDevice(device.publicKey, secret)
  t.is(sealed.byteLength, 32 + SEAL_OVERHEAD, 'ephemeral key and MAC added')
  t.alike(openFromDevice(device, sealed), secret, 'opens with the device key pair')
  t.is(openFromDevice(other, sealed), null, 'another device cannot open it')
  const again = sealToDevice(device.publicKey, secret)
  t.not(b4a.toString(again, 'hex'), b4a.toString(sealed, 'hex'), 'each seal is fresh')
  t.alike(openFromDevice(device, again), secret)
})

test('seal - tampered, truncated or garbage boxes give null without throwing', (t) => {
  const device = createDeviceKeyPair()
  const sealed = sealToDevice(device.publicKey, b4a.from('project key'))
  for (let i = 0; i < sealed.byteLength; i += 7) {
    const bad = b4a.from(sealed) as Buffer
    bad[i] = (bad[i] as number) ^ 1
    t.is(openFromDevice(device, bad), null, `byte ${i} flipped`)
  }
  const garbage: unknown[] = [
    null,
    undefined,
    'text',
    {},
    b4a.alloc(0),
    b4a.alloc(SEAL_OVERHEAD - 1),
    b4a.alloc(SEAL_OVERHEAD),
    b4a.alloc(100_000),
    sealed.subarray(0, sealed.byteLength - 1)
  ]
  for (const g of garbage) t.is(openFromDevice(device, g), null)
  const broken = { publicKey: device.publicKey, secretKey: b4a.alloc(10) as Buffer }
  t.is(openFromDevice(broken, sealed), null, 'a malformed key pair gives null too')
})

test('seal - sealing to a malformed device key fails with INVALID_INPUT', async (t) => {
  const data = b4a.from('x')
  t.is(await code(() => sealToDevice(b4a.alloc(31), data)), 'INVALID_INPUT', 'short key')
  // y = 2 is not on the curve: the ed25519 → curve25519 conversion rejects it
  const offCurve = b4a.alloc(32)
  offCurve[0] = 2
  t.is(await code(() => sealToDevice(offCurve, data)), 'INVALID_INPUT', 'not a curve point')
  const device = createDeviceKeyPair()
  t.is(await code(() => sealToDevice(device.publicKey, b4a.alloc(2000))), 'INVALID_INPUT', 'big')
})

test('seal - the recovery box key pair comes from the phrase alone', async (t) => {
  const { phrase, keys } = await createProfile()
  const first = await withIdentity(phrase, (id) => id.recoveryBoxKeyPair())
  const second = await withIdentity(phrase, (id) => id.recoveryBoxKeyPair())
  t.alike(first.publicKey, second.publicKey, 'same public key from the same phrase')
  t.alike(first.secretKey, second.secretKey, 'same secret key from the same phrase')
  t.is(first.publicKey.byteLength, 32)
  t.is(first.secretKey.byteLength, 32)
  t.absent(b4a.equals(first.publicKey, keys.profileId), 'not the profile id')
  t.absent(b4a.equals(first.secretKey, keys.secrets?.encryptionKey ?? b4a.alloc(32)))

  const other = await createProfile()
  const foreign = await withIdentity(other.phrase, (id) => id.recoveryBoxKeyPair())
  t.absent(b4a.equals(first.publicKey, foreign.publicKey), 'another phrase, another key')

  const projectKey = crypto.randomBytes(32)
  const sealed = sealToRecovery(first.publicKey, projectKey)
  const restored = await ProfileIdentity.fromPhrase(phrase)
  const rebuilt = restored.recoveryBoxKeyPair()
  restored.clear()
  t.alike(openRecovery(rebuilt, sealed), projectKey, 'opens with the key rebuilt from the phrase')
  t.is(openRecovery(foreign, sealed), null, 'another profile cannot open it')
  const tampered = b4a.from(sealed) as Buffer
  tampered[tampered.byteLength - 1] = (tampered[tampered.byteLength - 1] as number) ^ 0x80
  t.is(openRecovery(rebuilt, tampered), null, 'tampered box')
  t.is(openRecovery(rebuilt, b4a.alloc(3)), null, 'garbage')
  t.is(openFromDevice(keys.device, sealed), null, 'a device cannot open the recovery box')
  t.is(await code(() => sealToRecovery(b4a.alloc(16), projectKey)), 'INVALID_INPUT')
})

test('seal - recoveryBoxKeyPair refuses a cleared identity', async (t) => {
  const { phrase } = await createProfile()
  const id = await ProfileIdentity.fromPhrase(phrase)
  id.clear()
  t.is(await code(() => id.recoveryBoxKeyPair()), 'INTERNAL')
})
