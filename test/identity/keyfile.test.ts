import test from 'brittle'
import fs from 'fs/promises'
import path from 'path'
import b4a from 'b4a'
import { createProfile, restoreProfile } from '../../src/identity/profile-keys.js'
import {
  saveKeyFile,
  loadKeyFile,
  changePassphrase,
  readKeyFileInfo,
  KDF_INTERACTIVE,
  KDF_MODERATE
} from '../../src/identity/keyfile.js'
import { attestDevice, delegateDevice } from '../../src/identity/devices.js'
import { createDeviceKeyPair } from '../../src/identity/profile-keys.js'
import { signMessage } from '../../src/identity/sign.js'
import { encodeKey } from '../../src/identity/keys.js'
import { code, leaksUnder } from './helpers.js'

const PASS = 'correct horse battery staple'

/** A profile saved under `PASS` in a fresh folder (INTERACTIVE limits keep the tests quick). */
async function saved(t: test.Test, name = 'Ada') {
  const dir = await t.tmp()
  const file = path.join(dir, 'profile.key')
  const { phrase, keys } = await createProfile()
  await saveKeyFile(file, { name, keys }, PASS, { kdf: KDF_INTERACTIVE })
  return { dir, file, phrase, keys }
}

async function edit(file: string, fn: (doc: Record<string, Record<string, unknown>>) => void) {
  const doc = JSON.parse(await fs.readFile(file, 'utf8'))
  fn(doc)
  await fs.writeFile(file, JSON.stringify(doc))
}

test('identity - save with a passphrase (default limits) and load with the right one', async (t) => {
  const dir = await t.tmp()
  const file = path.join(dir, 'profile.key')
  const { keys } = await createProfile()
  await saveKeyFile(file, { name: 'Ada Lovelace', keys }, PASS)
  const doc = JSON.parse(await fs.readFile(file, 'utf8'))
  t.is(doc.kdf.opslimit, KDF_MODERATE.opslimit, 'limits stored in the file')
  t.is(doc.kdf.memlimit, KDF_MODERATE.memlimit)
  t.is(doc.profile.id, encodeKey(keys.profileId), 'public parts readable')
  t.is((await fs.stat(file)).mode & 0o777, 0o600, 'mode 0600')
  t.alike(await fs.readdir(dir), ['profile.key'], 'no temporary file left')
  const loaded = await loadKeyFile(file, PASS)
  t.is(loaded.name, 'Ada Lovelace')
  t.ok(b4a.equals(loaded.keys.profileId, keys.profileId), 'profile id')
  t.ok(b4a.equals(loaded.keys.device.secretKey, keys.device.secretKey), 'device secret')
  t.ok(b4a.equals(loaded.keys.deviceProof, keys.deviceProof), 'device proof')
  t.ok(b4a.equals(loaded.keys.secrets!.encryptionKey, keys.secrets!.encryptionKey), 'profile keys')
  const info = await readKeyFileInfo(file)
  t.is(info.name, 'Ada Lovelace', 'name readable without the passphrase')
})

test('identity - a wrong passphrase gets PASSPHRASE_WRONG and changes nothing', async (t) => {
  const { file } = await saved(t)
  const before = await fs.readFile(file)
  t.is(await code(() => loadKeyFile(file, 'wrong horse')), 'PASSPHRASE_WRONG')
  t.is(await code(() => changePassphrase(file, 'wrong horse', 'new')), 'PASSPHRASE_WRONG')
  t.is(await code(() => loadKeyFile(file, '')), 'INVALID_INPUT', 'empty passphrase')
  t.ok(b4a.equals(await fs.readFile(file), before), 'file unchanged')
  t.is(await code(() => loadKeyFile(file, PASS)), 'OK', 'the right one still works')
})

test('identity - a flipped byte in the box gets KEYFILE_CORRUPT', async (t) => {
  const { file } = await saved(t)
  await edit(file, (doc) => {
    const box = doc.cipher!.box as string
    const flipped = (parseInt(box.slice(20, 22), 16) ^ 0x01).toString(16).padStart(2, '0')
    doc.cipher!.box = box.slice(0, 20) + flipped + box.slice(22)
  })
  t.is(await code(() => loadKeyFile(file, PASS)), 'KEYFILE_CORRUPT')
})

test('identity - a changed profile id or swapped proof in the key file gets KEYFILE_CORRUPT', async (t) => {
  const { file, keys } = await saved(t)
  const original = await fs.readFile(file)
  const other = await createProfile()
  await edit(file, (doc) => {
    doc.profile!.id = encodeKey(other.keys.profileId)
  })
  t.is(await code(() => loadKeyFile(file, PASS)), 'KEYFILE_CORRUPT', 'other profile id')
  await fs.writeFile(file, original)
  // a genuine proof for this device key, but from another profile: still not what was sealed
  const foreign = await restoreProfile(other.phrase)
  const reattested = attestDevice(keys.device.publicKey, foreign.device, foreign.deviceProof)
  await edit(file, (doc) => {
    doc.device!.proof = b4a.toString(reattested, 'hex')
    doc.profile!.id = encodeKey(other.keys.profileId)
  })
  t.is(await code(() => loadKeyFile(file, PASS)), 'KEYFILE_CORRUPT', 'swapped proof and id')
  await fs.writeFile(file, original)
  await edit(file, (doc) => {
    doc.profile!.name = 'Mallory'
  })
  t.is(await code(() => loadKeyFile(file, PASS)), 'KEYFILE_CORRUPT', 'changed name')
  await fs.writeFile(file, original)
  await edit(file, (doc) => {
    doc.kdf!.memlimit = 1024 ** 4
  })
  t.is(await code(() => loadKeyFile(file, PASS)), 'KEYFILE_CORRUPT', 'absurd KDF limits refused')
  await fs.writeFile(file, original)
  t.is(await code(() => loadKeyFile(file, PASS)), 'OK', 'the original still loads')
})

test('identity - a truncated key file gets KEYFILE_CORRUPT', async (t) => {
  const { file } = await saved(t)
  const bytes = await fs.readFile(file)
  for (const n of [0, 1, Math.floor(bytes.length / 2), bytes.length - 3]) {
    await fs.writeFile(file, bytes.subarray(0, n))
    t.is(await code(() => loadKeyFile(file, PASS)), 'KEYFILE_CORRUPT', `cut to ${n} bytes`)
  }
  await fs.writeFile(file, bytes)
  await edit(file, (doc) => {
    doc.cipher!.box = (doc.cipher!.box as string).slice(0, 40)
  })
  t.is(await code(() => loadKeyFile(file, PASS)), 'KEYFILE_CORRUPT', 'box cut short')
})

test('identity - a non-JSON or foreign key file gets KEYFILE_CORRUPT', async (t) => {
  const { file } = await saved(t)
  const bad = ['not json at all', '\u0000\u0001\u0002', '[]', 'null', '{"type":"something-else"}']
  for (const text of bad) {
    await fs.writeFile(file, text)
    t.is(await code(() => loadKeyFile(file, PASS)), 'KEYFILE_CORRUPT', JSON.stringify(text))
  }
  await fs.writeFile(file, b4a.alloc(100 * 1024, 'a'))
  t.is(await code(() => loadKeyFile(file, PASS)), 'KEYFILE_CORRUPT', 'huge file')
})

test('identity - a missing key file gets NO_PROFILE, an existing one is not overwritten', async (t) => {
  const { dir, file, keys } = await saved(t)
  t.is(await code(() => loadKeyFile(path.join(dir, 'nope.key'), PASS)), 'NO_PROFILE')
  t.is(await code(() => readKeyFileInfo(path.join(dir, 'nope.key'))), 'NO_PROFILE')
  t.is(await code(() => loadKeyFile(dir, PASS)), 'KEYFILE_IO', 'a folder is not a key file')
  const again = saveKeyFile(file, { name: 'Ada', keys }, PASS, { kdf: KDF_INTERACTIVE })
  t.is(await code(() => again), 'PROFILE_EXISTS')
  const long = { name: 'x'.repeat(201), keys }
  const other = path.join(dir, 'other.key')
  t.is(await code(() => saveKeyFile(other, long, PASS, { kdf: KDF_INTERACTIVE })), 'INVALID_INPUT')
  const into = path.join(dir, 'missing-folder', 'profile.key')
  t.is(
    await code(() => saveKeyFile(into, { name: 'Ada', keys }, PASS, { kdf: KDF_INTERACTIVE })),
    'KEYFILE_IO'
  )
})

test('identity - changing the passphrase re-seals with new limits', async (t) => {
  const { file, keys } = await saved(t)
  const kdf = { ...KDF_INTERACTIVE, opslimit: 3 }
  await changePassphrase(file, PASS, 'a new passphrase', { kdf })
  t.is(await code(() => loadKeyFile(file, PASS)), 'PASSPHRASE_WRONG', 'old one refused')
  const loaded = await loadKeyFile(file, 'a new passphrase')
  t.ok(b4a.equals(loaded.keys.device.secretKey, keys.device.secretKey), 'same keys')
  t.is(JSON.parse(await fs.readFile(file, 'utf8')).kdf.opslimit, 3, 'new limits stored')
})

test('identity - key derivation does not block the event loop', async (t) => {
  const { file } = await saved(t)
  let ticks = 0
  const timer = setInterval(() => ticks++, 5)
  await changePassphrase(file, PASS, PASS, { kdf: KDF_MODERATE }) // two MODERATE derivations
  clearInterval(timer)
  t.ok(ticks >= 10, `timers kept firing (${ticks} ticks)`)
})

test('identity - neither the phrase nor the identity secret reaches disk', async (t) => {
  const home = await t.tmp()
  const { phrase, keys } = await createProfile()
  const file = path.join(home, 'profile.key')
  await saveKeyFile(file, { name: 'Ada', keys }, PASS, { kdf: KDF_INTERACTIVE })
  // everything else a device writes from these keys
  const second = createDeviceKeyPair()
  const proof = attestDevice(second.publicKey, keys.device, keys.deviceProof)
  await fs.writeFile(path.join(home, 'linked.proof'), proof)
  const grant = delegateDevice(
    createDeviceKeyPair().publicKey,
    keys.device,
    keys.deviceProof,
    Date.now() + 1e6
  )
  await fs.writeFile(path.join(home, 'delegation.grant'), grant)
  await fs.writeFile(
    path.join(home, 'signature.txt'),
    signMessage('hello', keys.device, keys.deviceProof)
  )
  await changePassphrase(file, PASS, 'another', { kdf: KDF_INTERACTIVE })
  const restored = await restoreProfile(phrase)
  await saveKeyFile(path.join(home, 'restored.key'), { name: 'Ada', keys: restored }, PASS, {
    kdf: KDF_INTERACTIVE
  })
  const scan = await leaksUnder(home, phrase)
  t.is(scan.files, 5, 'five files written')
  for (const leak of scan.leaks) t.fail(`found: ${leak}`)
  t.is(scan.leaks.length, 0, `no secret among ${scan.needles} encodings in ${scan.files} files`)
})
