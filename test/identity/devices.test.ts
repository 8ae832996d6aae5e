import test from 'brittle'
import IdentityKey from 'keet-identity-key'
import c from 'compact-encoding'
import b4a from 'b4a'
import { createProfile, createDeviceKeyPair } from '../../src/identity/profile-keys.js'
import {
  attestDevice,
  verifyDevice,
  delegateDevice,
  verifyDelegation,
  isDelegationActive
} from '../../src/identity/devices.js'
import { signMessage, parseSignature } from '../../src/identity/sign.js'
import { code } from './helpers.js'

test('identity - a linked device is attested by its parent and chains to the profile', async (t) => {
  const { keys } = await createProfile()
  const laptop = createDeviceKeyPair()
  const proof = attestDevice(laptop.publicKey, keys.device, keys.deviceProof)
  const v = verifyDevice(proof, { profileId: keys.profileId, devicePublicKey: laptop.publicKey })
  t.ok(v, 'verifies')
  t.ok(v && b4a.equals(v.devicePublicKey, laptop.publicKey), 'names the new device')
  t.alike(
    v?.chain.map((k) => b4a.toString(k, 'hex')),
    [keys.device.publicKey, laptop.publicKey].map((k) => b4a.toString(k, 'hex')),
    'chain: parent then device'
  )
  t.ok(v && v.epoch > 0 && v.epoch <= Date.now(), 'epoch of the first attestation')
  const phone = createDeviceKeyPair()
  const grand = attestDevice(phone.publicKey, laptop, proof)
  t.is(verifyDevice(grand, { profileId: keys.profileId })?.chain.length, 3, 'a device of a device')
})

test('identity - verifyDevice rejects other profiles, other devices and garbage without throwing', async (t) => {
  const { keys } = await createProfile()
  const other = await createProfile()
  const expect = { profileId: keys.profileId, devicePublicKey: keys.device.publicKey }
  t.ok(verifyDevice(keys.deviceProof, expect), 'the genuine proof')
  t.is(verifyDevice(keys.deviceProof, { profileId: other.keys.profileId }), null, 'other profile')
  t.is(
    verifyDevice(keys.deviceProof, { devicePublicKey: other.keys.device.publicKey }),
    null,
    'other device'
  )
  const garbage: unknown[] = [
    null,
    undefined,
    'a string',
    42,
    {},
    b4a.alloc(0),
    b4a.alloc(10, 0xff),
    b4a.alloc(5000, 1),
    keys.deviceProof.subarray(0, keys.deviceProof.length - 1),
    b4a.concat([keys.deviceProof, b4a.from([0])]),
    new Uint8Array(keys.deviceProof)
  ]
  let nulls = 0
  for (const g of garbage) {
    try {
      if (verifyDevice(g, expect) === null) nulls++
    } catch {
      t.fail('threw')
    }
  }
  t.is(nulls, garbage.length - 1, 'null for every garbage input (a plain Uint8Array copy is fine)')
  t.is(
    verifyDevice(keys.deviceProof, { profileId: b4a.alloc(3) as Buffer }),
    null,
    'bad expectation'
  )
  const sig = parseSignature(signMessage('x', keys.device, keys.deviceProof))
  t.is(verifyDevice(sig, expect), null, 'a signature is not a device proof')
})

test('identity - a forged device proof is rejected', async (t) => {
  const victim = await createProfile()
  const mallory = await createProfile()
  const rogue = createDeviceKeyPair()
  // 1. the rogue key signs its own link onto the victim's chain
  const selfSigned = IdentityKey.attestDevice(rogue.publicKey, rogue, victim.keys.deviceProof)
  t.is(
    verifyDevice(selfSigned, {
      profileId: victim.keys.profileId,
      devicePublicKey: rogue.publicKey
    }),
    null,
    'self-attested link'
  )
  // 2. mallory's genuine device attests the rogue key, then the identity field is swapped
  const malloryProof = attestDevice(rogue.publicKey, mallory.keys.device, mallory.keys.deviceProof)
  const swapped = b4a.from(malloryProof) as Buffer
  const at = swapped.indexOf(mallory.keys.profileId)
  victim.keys.profileId.copy(swapped, at)
  t.is(verifyDevice(swapped, { profileId: victim.keys.profileId }), null, 'identity swapped')
  // 3. a proof with no links names the identity itself as the device: never a Flux device
  const empty = b4a.from(malloryProof.subarray(0, at + 32))
  const bare = b4a.concat([empty, b4a.from([0, 0])]) // empty chain, no flags
  t.is(verifyDevice(bare, { profileId: mallory.keys.profileId }), null, 'no links')
  t.is(
    await code(() => attestDevice(createDeviceKeyPair().publicKey, rogue, selfSigned)),
    'DEVICE_PROOF_INVALID',
    'cannot attest from a forged proof'
  )
  t.is(
    await code(() => attestDevice(b4a.alloc(5), victim.keys.device, victim.keys.deviceProof)),
    'INVALID_INPUT',
    'bad key'
  )
})

test('identity - a delegated device holds a grant, not a device proof', async (t) => {
  const { keys } = await createProfile()
  const other = await createProfile()
  const guest = createDeviceKeyPair()
  const expiresAt = Date.UTC(2030, 0, 1)
  const grant = delegateDevice(guest.publicKey, keys.device, keys.deviceProof, expiresAt)
  const v = verifyDelegation(grant, { profileId: keys.profileId, devicePublicKey: guest.publicKey })
  t.ok(v, 'grant verifies')
  t.is(v?.expiresAt, expiresAt, 'carries the expiry')
  t.ok(v && b4a.equals(v.grantedBy, keys.device.publicKey), 'names the grantor')
  t.is(verifyDevice(grant, { profileId: keys.profileId }), null, 'not a device proof')
  t.is(verifyDelegation(keys.deviceProof), null, 'a device proof is not a grant')
  t.is(verifyDelegation(grant, { profileId: other.keys.profileId }), null, 'other profile')
  t.is(verifyDelegation(grant, { devicePublicKey: keys.device.publicKey }), null, 'other device')
  // re-encode the grant with a later expiry but the same signature
  const state = c.state(0, grant.length, grant)
  c.uint.decode(state)
  const device = c.fixed32.decode(state)
  c.uint.decode(state)
  const proof = c.buffer.decode(state)
  const extended = b4a.concat([
    b4a.from([1]),
    device,
    c.encode(c.uint, expiresAt + 3600_000),
    c.encode(c.buffer, proof)
  ])
  t.is(verifyDelegation(extended), null, 'a changed expiry breaks the signature')
  const sigProof = parseSignature(signMessage('anything', keys.device, keys.deviceProof))
  const fromSig = b4a.concat([
    b4a.from([1]),
    device,
    c.encode(c.uint, expiresAt),
    c.encode(c.buffer, sigProof)
  ])
  t.is(verifyDelegation(fromSig), null, 'a signed message cannot pass as a grant')
  for (const g of [
    null,
    'x',
    b4a.alloc(0),
    grant.subarray(0, 40),
    b4a.concat([grant, b4a.from([0])])
  ]) {
    t.is(verifyDelegation(g), null, 'garbage grant')
  }
  t.is(
    await code(() => delegateDevice(guest.publicKey, guest, keys.deviceProof, expiresAt)),
    'DEVICE_PROOF_INVALID',
    'a delegate cannot delegate'
  )
  t.is(
    await code(() => delegateDevice(guest.publicKey, keys.device, keys.deviceProof, NaN)),
    'INVALID_INPUT',
    'needs an expiry'
  )
})

test('identity - delegation expiry is judged from op timestamps and the profile clock', async (t) => {
  const expiresAt = 1_000_000
  const judge = (opTimestamp: number, profileClock: number): boolean =>
    isDelegationActive({ expiresAt }, { opTimestamp, profileClock })
  t.ok(judge(999_999, 500_000), 'before expiry on both counts')
  t.absent(judge(1_000_000, 500_000), 'an op at the expiry is rejected')
  t.absent(judge(2_000_000, 500_000), 'an op after the expiry is rejected')
  t.absent(
    judge(500_000, 1_000_000),
    'a back-dated op after the profile clock passed expiry is rejected'
  )
  t.absent(judge(NaN, 0), 'a missing timestamp is rejected')
  const realNow = Date.now
  Date.now = () => 0 // the local clock plays no part
  try {
    t.absent(judge(2_000_000, 0), 'same verdict whatever the local clock says')
  } finally {
    Date.now = realNow
  }
})
