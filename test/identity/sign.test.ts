import test from 'brittle'
import IdentityKey from 'keet-identity-key'
import z32 from 'z32'
import b4a from 'b4a'
import { createProfile, createDeviceKeyPair } from '../../src/identity/profile-keys.js'
import { attestDevice } from '../../src/identity/devices.js'
import { signMessage, verifySignature } from '../../src/identity/sign.js'
import { encodeKey } from '../../src/identity/keys.js'
import { code } from './helpers.js'

test('identity - sign and verify round trip', async (t) => {
  const { keys } = await createProfile()
  const id = encodeKey(keys.profileId)
  const sig = signMessage('I wrote this', keys.device, keys.deviceProof)
  t.ok(
    /^[ybndrfg8ejkmcpqxot1uwisza345h769]+$/.test(sig),
    `one z-base-32 string (${sig.length} chars)`
  )
  const v = verifySignature(id, sig, 'I wrote this')
  t.ok(v.valid, 'valid')
  t.ok(v.valid && b4a.equals(v.devicePublicKey, keys.device.publicKey), 'names the device')
  t.ok(
    verifySignature(keys.profileId, sig, b4a.from('I wrote this')).valid,
    'bytes and key buffer too'
  )
  const wrapped = sig.replace(/(.{60})/g, '$1\n  ')
  t.ok(verifySignature(id, wrapped, 'I wrote this').valid, 'line-wrapped copy still verifies')
  const bytes = b4a.from([0, 1, 2, 255])
  t.ok(
    verifySignature(id, signMessage(bytes, keys.device, keys.deviceProof), bytes).valid,
    'binary message'
  )
})

test('identity - a signature from a linked device verifies as the profile', async (t) => {
  const { keys } = await createProfile()
  const laptop = createDeviceKeyPair()
  const proof = attestDevice(laptop.publicKey, keys.device, keys.deviceProof)
  const v = verifySignature(
    keys.profileId,
    signMessage('from the laptop', laptop, proof),
    'from the laptop'
  )
  t.ok(v.valid, 'valid')
  t.is(v.valid && v.chain.length, 2, 'chain through the first device')
})

test('identity - verify fails for another profile or a changed message', async (t) => {
  const { keys } = await createProfile()
  const other = await createProfile()
  const sig = signMessage('pay Bob 10', keys.device, keys.deviceProof)
  t.is(verifySignature(other.keys.profileId, sig, 'pay Bob 10').valid, false, 'another profile')
  t.is(verifySignature(keys.profileId, sig, 'pay Bob 100').valid, false, 'changed message')
  t.is(verifySignature(keys.profileId, sig, '').valid, false, 'empty message')
})

test('identity - verify fails for a device the profile did not attest', async (t) => {
  const victim = await createProfile()
  const mallory = await createProfile()
  const rogue = createDeviceKeyPair()
  // a self-signed link onto the victim's chain, then a message signed by the rogue key
  const forged = IdentityKey.attestDevice(rogue.publicKey, rogue, victim.keys.deviceProof)
  const forgedSig = z32.encode(IdentityKey.attestData(signable('hi'), rogue, forged))
  t.is(verifySignature(victim.keys.profileId, forgedSig, 'hi').valid, false, 'forged proof')
  // mallory's own signature with the identity bytes replaced by the victim's
  const real = b4a.from(
    z32.decode(signMessage('hi', mallory.keys.device, mallory.keys.deviceProof))
  ) as Buffer
  victim.keys.profileId.copy(real, real.indexOf(mallory.keys.profileId))
  t.is(
    verifySignature(victim.keys.profileId, z32.encode(real), 'hi').valid,
    false,
    'identity swapped'
  )
  t.is(
    await code(() => signMessage('hi', rogue, forged)),
    'DEVICE_PROOF_INVALID',
    'cannot sign with a forged proof'
  )
})

test('identity - malformed signatures get SIGNATURE_MALFORMED', async (t) => {
  const { keys } = await createProfile()
  const sig = signMessage('hello', keys.device, keys.deviceProof)
  const bad = [
    '',
    '   ',
    'hello world',
    'LLLL',
    sig.slice(0, sig.length - 1),
    sig.slice(0, 100),
    sig + 'yy',
    z32.encode(keys.deviceProof),
    z32.encode(b4a.alloc(200, 7))
  ]
  for (const s of bad) {
    t.is(
      await code(() => verifySignature(keys.profileId, s, 'hello')),
      'SIGNATURE_MALFORMED',
      JSON.stringify(s.slice(0, 20))
    )
  }
  t.is(
    await code(() => verifySignature('not-a-profile', sig, 'hello')),
    'KEY_MALFORMED',
    'bad profile id'
  )
})

// the signed bytes as sign.ts builds them: tag, then the message (compact-encoding strings)
function signable(message: string): Buffer {
  const tag = b4a.from('flux/sign/v1')
  const m = b4a.from(message)
  return b4a.concat([b4a.from([tag.length]), tag, b4a.from([m.length]), m]) as Buffer
}
