import test from 'brittle'
import IdentityKey from 'keet-identity-key'
import b4a from 'b4a'
import {
  ProfileIdentity,
  createProfile,
  restoreProfile,
  checkPhrase,
  clearDeviceKeys,
  withIdentity
} from '../../src/identity/profile-keys.js'
import { verifyDevice } from '../../src/identity/devices.js'
import { encodeKey } from '../../src/identity/keys.js'
import { code } from './helpers.js'

test('identity - create gives a 24-word phrase and a device attested by the profile', async (t) => {
  const { phrase, keys } = await createProfile()
  t.is(phrase.split(' ').length, 24, '24 words')
  t.is(encodeKey(keys.profileId).length, 52, 'profile id shown as z-base-32')
  const id = await IdentityKey.from({ mnemonic: phrase })
  t.ok(b4a.equals(keys.profileId, id.identityPublicKey), 'profile id is the identity public key')
  t.ok(b4a.equals(keys.device.secretKey.subarray(32), keys.device.publicKey), 'device pair matches')
  const v = verifyDevice(keys.deviceProof, {
    profileId: keys.profileId,
    devicePublicKey: keys.device.publicKey
  })
  t.ok(v, 'device proof verifies')
  t.is(v?.chain.length, 1, 'attested directly by the identity')
  t.ok(keys.secrets, 'profile keys present')
  t.ok(
    b4a.equals(keys.secrets!.discoveryKeyPair.publicKey, id.profileDiscoveryPublicKey),
    'discovery key pair from the identity'
  )
  t.ok(
    b4a.equals(keys.secrets!.encryptionKey, id.getProfileDiscoveryEncryptionKey()),
    'encryption key from the identity'
  )
  id.clear()
})

test('identity - restore from the phrase gives the same profile and a new device', async (t) => {
  const { phrase, keys } = await createProfile()
  const messy = '  ' + phrase.toUpperCase().split(' ').join('\n\t ') + ' '
  const restored = await restoreProfile(messy)
  t.ok(b4a.equals(restored.profileId, keys.profileId), 'same profile id')
  t.ok(
    b4a.equals(
      restored.secrets!.discoveryKeyPair.secretKey!,
      keys.secrets!.discoveryKeyPair.secretKey!
    ),
    'same discovery key pair'
  )
  t.ok(
    b4a.equals(restored.secrets!.encryptionKey, keys.secrets!.encryptionKey),
    'same encryption key'
  )
  t.absent(b4a.equals(restored.device.publicKey, keys.device.publicKey), 'a fresh device key')
  t.ok(verifyDevice(restored.deviceProof, { profileId: keys.profileId }), 'new device attested')
  const other = await createProfile()
  t.absent(b4a.equals(other.keys.profileId, keys.profileId), 'another phrase, another profile')
})

test('identity - an invalid recovery phrase gets PHRASE_INVALID', async (t) => {
  const { phrase } = await createProfile()
  const words = phrase.split(' ')
  const misspelled = [...words.slice(0, 5), 'notaword', ...words.slice(6)].join(' ')
  t.is(await code(() => restoreProfile(misspelled)), 'PHRASE_INVALID', 'unknown word')
  t.exception(
    () => checkPhrase(misspelled),
    /word 6 not in the recovery word list/,
    'names the position'
  )
  t.is(await code(() => restoreProfile(words.slice(0, 23).join(' '))), 'PHRASE_INVALID', '23 words')
  t.is(await code(() => restoreProfile(words.slice(0, 12).join(' '))), 'PHRASE_INVALID', '12 words')
  t.is(await code(() => restoreProfile('')), 'PHRASE_INVALID', 'empty')
  // swapping two different words keeps every word valid but breaks the checksum
  const i = words.findIndex((w) => w !== words[0])
  const swapped = [...words]
  swapped[0] = words[i] as string
  swapped[i] = words[0] as string
  t.is(await code(() => restoreProfile(swapped.join(' '))), 'PHRASE_INVALID', 'checksum')
  try {
    await restoreProfile(misspelled)
  } catch (err) {
    t.absent(String(err).includes('notaword'), 'the message does not echo the words')
  }
})

test('identity - a cleared identity zeroes its secrets and refuses to attest', async (t) => {
  const { phrase } = await createProfile()
  const identity = await ProfileIdentity.fromPhrase(phrase)
  const inner = (identity as unknown as { id: IdentityKey }).id
  const secrets = [
    inner.identityKeyPair.secretKey,
    inner.keyChain.seed,
    inner.profileDiscoveryKeyPair.secretKey
  ]
  t.ok(
    secrets.every((s) => s.some((b) => b !== 0)),
    'secrets present while open'
  )
  identity.clear()
  t.ok(identity.cleared, 'cleared')
  t.ok(
    secrets.every((s) => s.every((b) => b === 0)),
    'identity secret, seed and discovery secret zeroed'
  )
  t.is(await code(() => identity.attestDevice(b4a.alloc(32))), 'INTERNAL', 'unusable once cleared')
  let seen: ProfileIdentity | null = null
  await withIdentity(phrase, (id) => {
    seen = id
  })
  t.ok((seen as ProfileIdentity | null)?.cleared, 'withIdentity clears afterwards')
  const { keys } = await createProfile()
  const secret = keys.device.secretKey
  clearDeviceKeys(keys)
  t.ok(
    secret.every((b) => b === 0),
    'device secret zeroed'
  )
})
