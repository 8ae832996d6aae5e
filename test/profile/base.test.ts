import test from 'brittle'
import { encodeOp } from '../../src/autobase/envelope.js'
import Corestore from 'corestore'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import type { Test } from 'brittle'
import {
  createDeviceKeyPair,
  createProfile,
  restoreProfile,
  withIdentity,
  type DeviceKeys,
  type KeyPair
} from '../../src/identity/profile-keys.js'
import { attestDevice, delegateDevice } from '../../src/identity/devices.js'
import {
  openFromDevice,
  openRecovery,
  sealToDevice,
  sealToRecovery,
  type BoxKeyPair
} from '../../src/identity/seal.js'
import { ProfileBase } from '../../src/profile/base.js'
import { fromB64, toB64, type ProfileOp, type ProfileOpBody } from '../../src/profile/ops.js'
import { code } from '../identity/helpers.js'
import ProtomuxWakeup from 'protomux-wakeup'

const hex = (b: Uint8Array): string => b4a.toString(b, 'hex')
const WAIT = 20_000

interface TestProfile {
  keys: DeviceKeys
  recovery: BoxKeyPair
}

async function newProfile(): Promise<TestProfile> {
  const { phrase, keys } = await createProfile()
  const recovery = await withIdentity(phrase, (id) => id.recoveryBoxKeyPair())
  return { keys, recovery }
}

async function newStore(t: Test): Promise<Corestore> {
  const store = new Corestore(await t.tmp())
  t.teardown(() => store.close(), { order: 2 })
  return store
}

/** Replicate two stores in-process, no network. */
function replicate(t: Test, a: Corestore, b: Corestore): void {
  const s1 = a.replicate(true)
  const s2 = b.replicate(false)
  s1.pipe(s2).pipe(s1)
  s1.on('error', () => {})
  s2.on('error', () => {})
  t.teardown(
    () => {
      s1.destroy()
      s2.destroy()
    },
    { order: 0 }
  )
}

async function openBase(t: Test, store: Corestore, p: TestProfile, key: Buffer | null) {
  const secrets = p.keys.secrets
  if (secrets === null) throw new Error('the profile has no secrets')
  const base = new ProfileBase(store.namespace('profile'), {
    key,
    encryptionKey: secrets.encryptionKey,
    profileId: p.keys.profileId
  })
  await base.ready()
  t.teardown(() => base.close(), { order: 1 })
  return base
}

function initBody(p: TestProfile, name = 'Ada'): ProfileOpBody {
  return {
    type: 'profile/init',
    profile: hex(p.keys.profileId),
    discovery: hex(p.keys.secrets?.discoveryKeyPair.publicKey ?? b4a.alloc(32)),
    recovery: hex(p.recovery.publicKey),
    name,
    device: hex(p.keys.device.publicKey),
    proof: toB64(p.keys.deviceProof),
    deviceName: 'laptop'
  }
}

/** Device A: a new profile base with its init op applied. */
async function createA(t: Test, p: TestProfile) {
  const store = await newStore(t)
  const a = await openBase(t, store, p, null)
  const init = await a.append(initBody(p))
  await until([a], async () => (await a.view.profile()) !== null, 'init applied')
  return { store, a, init }
}

/** Link device B (attested by A) with its own store and writer core; resolves once B can write. */
async function linkB(t: Test, p: TestProfile, a: ProfileBase, storeA: Corestore) {
  const store = await newStore(t)
  replicate(t, storeA, store)
  const device = createDeviceKeyPair()
  const proof = attestDevice(device.publicKey, p.keys.device, p.keys.deviceProof)
  const b = await openBase(t, store, p, a.key)
  await a.append({
    type: 'device/add',
    device: hex(device.publicKey),
    proof: toB64(proof),
    grant: null,
    writer: hex(b.writerKey),
    name: 'phone'
  })
  await b.waitWritable(WAIT)
  return { b, device, proof }
}

/** Wait until `fn` gives a truthy value, re-checking on every update of `bases`; bounded. */
async function until<T>(
  bases: ProfileBase[],
  fn: () => Promise<T | null | undefined | false>,
  what: string,
  timeout = WAIT
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false
    let running = false
    let again = false
    const finish = (err: unknown, value?: T): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      clearInterval(poll)
      for (const base of bases) base.off('update', check)
      if (err) reject(err)
      else resolve(value as T)
    }
    async function check(): Promise<void> {
      if (done) return
      if (running) {
        again = true
        return
      }
      running = true
      try {
        do {
          again = false
          const v = await fn()
          if (v) return finish(null, v)
        } while (again && !done)
      } catch (err) {
        finish(err)
      } finally {
        running = false
      }
    }
    const timer = setTimeout(
      () => finish(new Error(`timed out after ${timeout} ms waiting for ${what}`)),
      timeout
    )
    // replicated blocks can arrive without an update event on this side
    const poll = setInterval(() => void check(), 250)
    for (const base of bases) base.on('update', check)
    void check()
  })
}

/** Every key and value of a base's view, as one string. */
async function dump(base: ProfileBase): Promise<string> {
  const snap = base.view.bee.snapshot()
  try {
    const out: unknown[] = []
    for await (const e of snap.createReadStream()) out.push([e.key, e.value])
    return JSON.stringify(out)
  } finally {
    await snap.close()
  }
}

/** Wait until both views hold exactly the same records and satisfy `fn`. */
async function converged(
  x: ProfileBase,
  y: ProfileBase,
  fn: (base: ProfileBase) => Promise<boolean>,
  what: string
): Promise<string> {
  return until(
    [x, y],
    async () => {
      if (!(await fn(x)) || !(await fn(y))) return null
      const [dx, dy] = await Promise.all([dump(x), dump(y)])
      return dx === dy ? dx : null
    },
    what
  )
}

const skipped = (n: number) => async (base: ProfileBase) => (await base.view.system()).skipped >= n

test('profile base - init, link a second device, both write and converge', async (t) => {
  const p = await newProfile()
  const { store, a, init } = await createA(t, p)
  const aHex = hex(p.keys.device.publicKey)
  const profile = await a.view.profile()
  t.is(profile?.name.value, 'Ada')
  t.is(profile?.profile, hex(p.keys.profileId))
  t.is(profile?.recovery, hex(p.recovery.publicKey))
  t.is(profile?.bootstrapDevice, aHex)
  const first = await a.view.device(aHex)
  t.is(first?.writer, hex(a.writerKey), 'the first device writes through the bootstrap core')
  t.alike(first?.chain, [aHex])
  t.is(first?.addedBy, null)
  t.is(await a.view.deviceOfWriter(hex(a.writerKey)), aHex)

  const { b, device } = await linkB(t, p, a, store)
  const bHex = hex(device.publicKey)
  t.ok(b.writable, 'B became a writer')
  t.not(hex(b.writerKey), hex(a.writerKey), 'B writes to its own core')
  await b.append({ type: 'profile/name', name: 'Ada L.', prev: init.id })

  const hasName = async (base: ProfileBase) => (await base.view.profile())?.name.value === 'Ada L.'
  await converged(a, b, hasName, 'the new name on both')
  for (const base of [a, b]) {
    const devices = await base.view.devices()
    t.alike(
      devices.map((d) => d.device),
      [aHex, bHex],
      'devices in added order'
    )
    const linked = await base.view.device(bHex)
    t.is(linked?.addedBy, aHex)
    t.is(linked?.writer, hex(b.writerKey))
    t.is(linked?.delegated, false)
    t.alike(linked?.chain, [aHex, bHex], 'chain: parent then device')
    t.is(await base.view.deviceOfWriter(hex(b.writerKey)), bHex)
    t.ok(await base.view.isActive(bHex))
    t.is((await base.view.profile())?.name.by, hex(b.writerKey), 'name set by B')
    const sys = await base.view.system()
    t.is(sys.applied, 3, 'init, device/add, profile/name')
    t.is(sys.skipped, 0)
  }
  t.is(await b.view.isActive(hex(crypto.randomBytes(32))), false, 'an unknown device')
})

test('profile base - forged device proofs and grants are skipped on every device', async (t) => {
  const p = await newProfile()
  const other = await newProfile()
  const { store, a } = await createA(t, p)
  const { b } = await linkB(t, p, a, store)

  // a genuine device of another profile
  await a.append({
    type: 'device/add',
    device: hex(other.keys.device.publicKey),
    proof: toB64(other.keys.deviceProof),
    grant: null,
    writer: null,
    name: 'intruder'
  })
  // each op waits for the one before, so the skip order is known
  await converged(a, b, skipped(1), 'first skip on both')
  // a genuine proof, but for another device than the one named
  const c = createDeviceKeyPair()
  const d = createDeviceKeyPair()
  const proofC = attestDevice(c.publicKey, p.keys.device, p.keys.deviceProof)
  await b.append({
    type: 'device/add',
    device: hex(d.publicKey),
    proof: toB64(proofC),
    grant: null,
    writer: null,
    name: 'swapped'
  })
  await converged(a, b, skipped(2), 'second skip on both')
  // a delegation granted by another profile
  const grant = delegateDevice(
    d.publicKey,
    other.keys.device,
    other.keys.deviceProof,
    Date.now() + 3600_000
  )
  await a.append({
    type: 'device/add',
    device: hex(d.publicKey),
    proof: null,
    grant: toB64(grant),
    writer: null,
    name: 'foreign grant'
  })

  await converged(a, b, skipped(3), 'three skips on both')
  const skipsA = await a.view.skips()
  t.alike(skipsA, await b.view.skips(), 'identical skip records')
  t.alike(
    skipsA.map((s) => [s.seq, s.type, s.reason]),
    [
      [1, 'device/add', 'the device proof does not chain to the profile'],
      [2, 'device/add', 'the device proof does not chain to the profile'],
      [3, 'device/add', 'the delegation grant does not chain to the profile']
    ]
  )
  t.is(skipsA[1]?.writer, hex(b.writerKey), 'the skip names the writer')
  for (const base of [a, b]) {
    t.is((await base.view.devices()).length, 2, 'still two devices')
    t.is(await base.view.device(hex(d.publicKey)), null)
    t.is(await base.view.device(hex(other.keys.device.publicKey)), null)
  }
})

test('profile base - a revoked device is skipped from then on, on every device', async (t) => {
  const p = await newProfile()
  const { store, a, init } = await createA(t, p)
  const { b, device: bDevice, proof: bProof } = await linkB(t, p, a, store)
  const aHex = hex(p.keys.device.publicKey)
  const bHex = hex(bDevice.publicKey)

  // C is attested and added by B, with its own writer core: revoking B covers C too
  const storeC = await newStore(t)
  replicate(t, store, storeC)
  const cBase = await openBase(t, storeC, p, a.key)
  const c = createDeviceKeyPair()
  const cHex = hex(c.publicKey)
  await b.append({
    type: 'device/add',
    device: cHex,
    proof: toB64(attestDevice(c.publicKey, bDevice, bProof)),
    grant: null,
    writer: hex(cBase.writerKey),
    name: 'tablet'
  })
  await cBase.waitWritable(WAIT)
  // B cannot revoke A, which attested it
  await b.append({ type: 'device/revoke', device: aHex })
  await converged(a, b, skipped(1), 'B revoking A skipped')
  t.is((await a.view.skips())[0]?.reason, 'a device cannot revoke one that attested it')
  t.ok(await a.view.isActive(cHex), 'C active before')
  t.alike((await a.view.device(cHex))?.chain, [aHex, bHex, cHex])
  t.is((await a.view.device(cHex))?.addedBy, bHex)

  await a.append({ type: 'device/revoke', device: bHex })
  const revoked = async (base: ProfileBase) => (await base.view.device(bHex))?.revoked?.by === aHex
  await converged(a, b, revoked, 'B revoked on both')
  await until([cBase], () => revoked(cBase), 'C sees the revocation')
  for (const base of [a, b, cBase]) {
    t.is(await base.view.isActive(bHex), false, 'B inactive')
    t.is(await base.view.isActive(cHex), false, 'C inactive: B is in its chain')
    t.ok(await base.view.isActive(aHex), 'A still active')
    t.ok(((await base.view.device(bHex))?.revoked?.at ?? 0) > 0, 'revocation time kept')
  }

  // B and C still hold writer cores, but their ops no longer count
  const late = await b.append({ type: 'profile/name', name: 'Mallory', prev: init.id })
  await converged(a, b, skipped(2), 'B late op skipped on both')
  const [skipA, skipB] = [(await a.view.skips())[1], (await b.view.skips())[1]]
  t.alike(skipA, skipB, 'the same skip record on both')
  t.alike(skipA, {
    seq: 2,
    writer: hex(b.writerKey),
    id: late.id,
    type: 'profile/name',
    reason: 'the device was revoked'
  })
  const fromC = await cBase.append({ type: 'profile/name', name: 'Eve', prev: init.id })
  await converged(a, b, skipped(3), 'C op skipped on both')
  const skipC = (await b.view.skips())[2]
  t.alike(skipC, (await a.view.skips())[2])
  t.is(skipC?.id, fromC.id)
  t.is(skipC?.reason, 'a device in its proof chain was revoked')
  t.is((await b.view.profile())?.name.value, 'Ada', 'name unchanged')

  // a revoked device can never come back; one only revoked through its chain can be re-attested
  const fresh = attestDevice(bDevice.publicKey, p.keys.device, p.keys.deviceProof)
  await a.append({
    type: 'device/add',
    device: bHex,
    proof: toB64(fresh),
    grant: null,
    writer: null,
    name: 'phone again'
  })
  await a.append({
    type: 'device/add',
    device: cHex,
    proof: toB64(attestDevice(c.publicKey, p.keys.device, p.keys.deviceProof)),
    grant: null,
    writer: null,
    name: 'tablet again'
  })
  await converged(a, b, async (base) => base.view.isActive(cHex), 'C re-attested by A')
  t.is((await a.view.skips())[3]?.reason, 'a revoked device cannot be added again')
  t.alike((await b.view.device(cHex))?.chain, [aHex, cHex], 'C now chains through A only')
  t.is((await b.view.device(cHex))?.writer, hex(cBase.writerKey), 'C keeps its writer core')
  t.is(await b.view.isActive(bHex), false, 'B stays revoked')
  await until([cBase], () => cBase.view.isActive(cHex), 'C sees itself re-attested')
  await cBase.append({ type: 'profile/name', name: 'Ada T.', prev: init.id })
  const renamed = async (base: ProfileBase) => (await base.view.profile())?.name.value === 'Ada T.'
  await converged(a, b, renamed, 'C writes again')
  t.is((await a.view.system()).skipped, 4, 'no further skips')
})

test('profile base - a delegated device is listed with its expiry and never gets a writer', async (t) => {
  const p = await newProfile()
  const { a } = await createA(t, p)
  const aHex = hex(p.keys.device.publicKey)
  const d = createDeviceKeyPair()
  const expiresAt = Date.now() + 2 * 3600_000
  const grant = toB64(delegateDevice(d.publicKey, p.keys.device, p.keys.deviceProof, expiresAt))
  await a.append({
    type: 'device/add',
    device: hex(d.publicKey),
    proof: null,
    grant,
    writer: null,
    name: 'borrowed'
  })
  const delegated = await until([a], () => a.view.device(hex(d.publicKey)), 'the delegate listed')
  t.is(delegated.delegated, true)
  t.is(delegated.expiresAt, expiresAt)
  t.is(delegated.writer, null)
  t.is(delegated.grant, grant)
  t.is(delegated.proof, null)
  t.alike(delegated.chain, [aHex], 'the grantor chain')
  t.ok(await a.view.isActive(hex(d.publicKey)), 'active (expiry is judged elsewhere)')

  // locally refused...
  const e = createDeviceKeyPair()
  const eGrant = toB64(delegateDevice(e.publicKey, p.keys.device, p.keys.deviceProof, expiresAt))
  const writer = hex(crypto.randomBytes(32))
  const withWriter: ProfileOpBody = {
    type: 'device/add',
    device: hex(e.publicKey),
    proof: null,
    grant: eGrant,
    writer,
    name: 'greedy'
  }
  t.is(await code(() => a.append(withWriter)), 'INVALID_INPUT')
  t.is(
    await code(() =>
      a.append({ ...withWriter, writer: null, proof: toB64(p.keys.deviceProof) } as ProfileOpBody)
    ),
    'INVALID_INPUT',
    'proof and grant together'
  )
  // ...and skipped by apply when appended anyway
  const raw: ProfileOp = { v: 1, id: hex(crypto.randomBytes(16)), ts: Date.now(), ...withWriter }
  await a.appendRaw(encodeOp(raw))
  const skip = await until([a], async () => (await a.view.skips())[0], 'the raw op skipped')
  t.is(skip.reason, 'a delegated device cannot be a writer')
  t.is(await a.view.device(hex(e.publicKey)), null)
  t.is(await a.view.deviceOfWriter(writer), null, 'no writer mapped')
  t.is((await a.view.devices()).length, 2)
})

test('profile base - project keys sealed to devices open on the linked device', async (t) => {
  const p = await newProfile()
  const { store, a } = await createA(t, p)
  const { b, device: bDevice } = await linkB(t, p, a, store)
  const aHex = hex(p.keys.device.publicKey)
  const bHex = hex(bDevice.publicKey)
  const projectKey = crypto.randomBytes(32)
  const encKey = crypto.randomBytes(32)
  const pk = hex(projectKey)

  await a.append({
    type: 'project/add',
    key: pk,
    name: 'Solar kiln',
    keys: {
      [aHex]: toB64(sealToDevice(p.keys.device.publicKey, encKey)),
      [bHex]: toB64(sealToDevice(bDevice.publicKey, encKey))
    },
    recovery: toB64(sealToRecovery(p.recovery.publicKey, encKey)),
    public: false
  })
  const listed = await until([b], async () => (await b.view.projects())[0], 'the project on B')
  t.is(listed.name, 'Solar kiln')
  t.is(listed.public, false)
  t.alike(openFromDevice(bDevice, fromB64(listed.keys[bHex] ?? '')), encKey, 'B opens its copy')
  t.is(openFromDevice(bDevice, fromB64(listed.keys[aHex] ?? '')), null, "not A's copy")
  t.alike(openFromDevice(p.keys.device, fromB64(listed.keys[aHex] ?? '')), encKey)
  t.alike(openRecovery(p.recovery, fromB64(listed.recovery ?? '')), encKey, 'recovery box')

  // a device linked later gets its copy; existing copies are never replaced
  const c: KeyPair = createDeviceKeyPair()
  const cHex = hex(c.publicKey)
  await b.append({
    type: 'project/keys',
    key: pk,
    keys: {
      [cHex]: toB64(sealToDevice(c.publicKey, encKey)),
      [bHex]: toB64(sealToDevice(bDevice.publicKey, crypto.randomBytes(32)))
    }
  })
  await b.append({ type: 'project/keys', key: hex(crypto.randomBytes(32)), keys: {} })
  const publicKey = hex(crypto.randomBytes(32))
  await a.append({
    type: 'project/add',
    key: publicKey,
    name: 'Open map',
    keys: {},
    recovery: null,
    public: true
  })
  await a.append({ type: 'project/remove', key: pk })
  const done = async (base: ProfileBase) =>
    (await base.view.projects()).length === 1 && (await base.view.system()).skipped === 1
  await converged(a, b, done, 'keys added, public project added, first removed')
  for (const base of [a, b]) {
    const projects = await base.view.projects()
    t.alike(
      projects.map((x) => [x.key, x.public]),
      [[publicKey, true]],
      'only the public project is listed'
    )
    const removed = await base.view.project(pk)
    t.is(removed?.removed, true)
    t.alike(Object.keys(removed?.keys ?? {}), [aHex, bHex, cHex])
    t.alike(openFromDevice(c, fromB64(removed?.keys[cHex] ?? '')), encKey, 'C opens its copy')
    t.alike(openFromDevice(bDevice, fromB64(removed?.keys[bHex] ?? '')), encKey, 'B copy kept')
  }
  t.is((await a.view.skips())[0]?.reason, 'unknown project')

  // adding it again un-removes it and merges the sealed copies
  const d = createDeviceKeyPair()
  const dHex = hex(d.publicKey)
  await b.append({
    type: 'project/add',
    key: pk,
    name: 'Solar kiln 2',
    keys: { [dHex]: toB64(sealToDevice(d.publicKey, encKey)) },
    recovery: null,
    public: false
  })
  const back = async (base: ProfileBase) => (await base.view.projects()).length === 2
  await converged(a, b, back, 'the project back on both')
  const again = await a.view.project(pk)
  t.is(again?.removed, false)
  t.is(again?.name, 'Solar kiln 2')
  t.alike(Object.keys(again?.keys ?? {}), [aHex, bHex, cHex, dHex])
  t.is(again?.recovery, listed.recovery, 'the recovery copy is kept')
  t.is(again?.addedAt, listed.addedAt, 'first added time kept')
  t.alike(
    (await a.view.projects()).map((x) => x.key),
    [pk, publicKey],
    'first-added order'
  )
})

test('profile base - only the bootstrap writer may init, once, for its own profile', async (t) => {
  const p = await newProfile()
  const other = await newProfile()
  const store = await newStore(t)
  const a = await openBase(t, store, p, null)
  await a.append({ type: 'profile/name', name: 'early', prev: null })
  await a.append({ ...initBody(other), proof: toB64(other.keys.deviceProof) } as ProfileOpBody)
  await a.append({ ...initBody(p), proof: toB64(other.keys.deviceProof) } as ProfileOpBody)
  const init = await a.append(initBody(p, 'Ada'))
  await a.append(initBody(p, 'Twice'))
  await until([a], async () => (await a.view.system()).skipped === 4, 'four skips')
  t.alike(
    (await a.view.skips()).map((s) => s.reason),
    [
      'profile not initialised',
      'init names another profile',
      'the device proof does not chain to the profile',
      'profile already initialised'
    ]
  )
  t.is((await a.view.profile())?.name.id, init.id, 'the valid init took')

  const { b } = await linkB(t, p, a, store)
  await b.append(initBody(p, 'Usurper'))
  await converged(a, b, skipped(5), 'B init skipped on both')
  const last = (await b.view.skips())[4]
  t.is(last?.reason, 'only the bootstrap writer may initialise the profile')
  t.is(last?.writer, hex(b.writerKey))
  t.is((await b.view.profile())?.name.value, 'Ada')
})

test('profile base - garbage blocks are skipped and the base keeps working', async (t) => {
  const p = await newProfile()
  const { store, a, init } = await createA(t, p)
  const { b } = await linkB(t, p, a, store)
  const id = () => hex(crypto.randomBytes(16))
  const op = (body: Record<string, unknown>) =>
    b4a.from(JSON.stringify({ v: 1, id: id(), ts: Date.now(), ...body })) as Buffer
  const garbage: Buffer[] = [
    b4a.from('not json') as Buffer,
    b4a.from('[1,2,3]') as Buffer,
    b4a.from(JSON.stringify({ v: 2, id: id(), ts: 1, type: 'profile/name' })) as Buffer,
    op({ type: 'profile/name', name: 'x'.repeat(20_000), prev: null }),
    op({ type: 'no/such' }),
    op({ type: 'profile/name', name: '   ', prev: null }),
    // base64 with non-zero padding bits: a second spelling of the same bytes
    op({
      type: 'project/add',
      key: hex(crypto.randomBytes(32)),
      name: 'x',
      keys: {},
      recovery: 'QR==',
      public: false
    }),
    op({ type: 'device/revoke', device: 'AB'.repeat(32) })
  ]
  for (const block of garbage) await b.appendRaw(block)
  // an empty block reads back as null on peers (like an ack): ignored everywhere, not skipped
  await b.appendRaw(b4a.alloc(0) as Buffer)
  // a replayed op changes nothing, not even the skip counter
  const name = await a.append({ type: 'profile/name', name: 'Still here', prev: init.id })
  await a.appendRaw(encodeOp(name))
  await until([b], async () => (await b.view.profile())?.name.value === 'Still here', 'B sees it')
  await b.append({ type: 'profile/name', name: 'Still here too', prev: name.id })

  const after = async (base: ProfileBase) =>
    (await base.view.profile())?.name.value === 'Still here too'
  await converged(a, b, after, 'the last name on both')
  const sys = await a.view.system()
  t.is(sys.skipped, garbage.length, 'every garbage block skipped once')
  t.is(sys.applied, 4, 'init, device/add and two names')
  const skips = await b.view.skips()
  t.alike(skips, await a.view.skips())
  t.ok(
    skips.every((s) => s.writer === hex(b.writerKey)),
    'all written by B'
  )
  t.alike(
    skips.map((s) => s.reason),
    [
      'not JSON',
      'not an object',
      'unsupported op version 2',
      `oversized op (${garbage[3]?.byteLength} bytes)`,
      'unknown op type "no/such"',
      'bad name: empty',
      'bad recovery box',
      'bad device key'
    ]
  )
  t.is(await code(() => a.append({ type: 'profile/name', name: '', prev: null })), 'INVALID_INPUT')
})

test('profile base - a device attested by the identity itself adds itself (recovery); a forgery is dropped everywhere', async (t) => {
  const { phrase, keys } = await createProfile()
  const recovery = await withIdentity(phrase, (id) => id.recoveryBoxKeyPair())
  const p: TestProfile = { keys, recovery }
  // every store replicates with Autobase's wakeup, as nodes do: that is how a base hears of
  // a writer core it does not know yet
  const wakeups = [new ProtomuxWakeup(), new ProtomuxWakeup(), new ProtomuxWakeup()]
  t.teardown(() => wakeups.forEach((w) => w.destroy()), { order: 3 })
  const stores = [await newStore(t), await newStore(t), await newStore(t)]
  const link = (i: number, j: number): void => {
    const s1 = stores[i]!.replicate(true)
    const s2 = stores[j]!.replicate(false)
    wakeups[i]!.addStream(s1)
    wakeups[j]!.addStream(s2)
    s1.pipe(s2).pipe(s1)
    s1.on('error', () => {})
    s2.on('error', () => {})
    t.teardown(() => (s1.destroy(), s2.destroy()), { order: 0 })
  }
  const open = async (i: number, k: DeviceKeys, key: Buffer | null) => {
    const base = new ProfileBase(stores[i]!.namespace('profile'), {
      key,
      encryptionKey: k.secrets!.encryptionKey,
      profileId: k.profileId,
      wakeup: wakeups[i]
    })
    await base.ready()
    t.teardown(() => base.close(), { order: 1 })
    return base
  }
  const a = await open(0, keys, null)
  await a.append(initBody(p))
  link(0, 1)
  link(0, 2)

  // R: the phrase on a fresh machine; no device adds it
  const rKeys = await restoreProfile(phrase)
  const r = await open(1, rKeys, a.key)
  await until([r], async () => (await r.view.profile()) !== null, 'R to read the profile')
  await r.recover(rKeys.device, rKeys.deviceProof, WAIT)
  t.ok(r.writable, 'R writes to the profile')
  const name = await r.view.profile()
  await r.append({ type: 'profile/name', name: 'Ada again', prev: name!.name.id })
  await until(
    [a, r],
    async () => (await a.view.profile())?.name.value === 'Ada again',
    'A to accept R'
  )
  t.ok((await a.view.device(hex(rKeys.device.publicKey)))?.writer, 'A lists R with its writer')

  // F: a device attested by A (a chain of two), not by the identity: it cannot add itself
  const f = createDeviceKeyPair()
  const fProof = attestDevice(f.publicKey, keys.device, keys.deviceProof)
  const fb = await open(2, keys, a.key)
  await until([fb], async () => (await fb.view.profile()) !== null, 'F to read the profile')
  t.is(await code(() => fb.recover(f, fProof, 1500)), 'TIMEOUT', 'F never becomes a writer')
  t.absent(await fb.view.device(hex(f.publicKey)), 'F is not a device')
  t.absent(await a.view.device(hex(f.publicKey)), 'nor on A')
  const [ha, hr] = [await a.view.system(), await r.view.system()]
  t.alike(ha, hr, 'A and R hold the same profile state')
})

test('profile base - a recovery block with a short signature is refused by the op checks; no base closes', async (t) => {
  const { phrase, keys } = await createProfile()
  const recovery = await withIdentity(phrase, (id) => id.recoveryBoxKeyPair())
  const p: TestProfile = { keys, recovery }
  const wakeups = [new ProtomuxWakeup(), new ProtomuxWakeup()]
  t.teardown(() => wakeups.forEach((w) => w.destroy()), { order: 3 })
  const stores = [await newStore(t), await newStore(t)]
  const s1 = stores[0]!.replicate(true)
  const s2 = stores[1]!.replicate(false)
  wakeups[0]!.addStream(s1)
  wakeups[1]!.addStream(s2)
  s1.pipe(s2).pipe(s1)
  s1.on('error', () => {})
  s2.on('error', () => {})
  t.teardown(() => (s1.destroy(), s2.destroy()), { order: 0 })
  const open = async (i: number, key: Buffer | null) => {
    const base = new ProfileBase(stores[i]!.namespace('profile'), {
      key,
      encryptionKey: keys.secrets!.encryptionKey,
      profileId: keys.profileId,
      wakeup: wakeups[i]
    })
    await base.ready()
    t.teardown(() => base.close(), { order: 1 })
    return base
  }
  const a = await open(0, null)
  await a.append(initBody(p))
  const m = await open(1, a.key)
  await until([m], async () => (await m.view.profile()) !== null, 'M to read the profile')
  // a modified client holding the key (a revoked device, say): a genuine identity-attested
  // proof (the first device's, from the base) with a 3-byte signature; sodium throws on it
  const op = m.makeOp({
    type: 'device/recover',
    device: hex(keys.device.publicKey),
    proof: toB64(keys.deviceProof),
    sig: 'AAAA'
  } as ProfileOpBody)
  await m.base.append(encodeOp(op), { optimistic: true })
  await a.append({
    type: 'profile/name',
    name: 'Ada still',
    prev: (await a.view.profile())!.name.id
  })
  await until(
    [a, m],
    async () => (await m.view.profile())?.name.value === 'Ada still',
    'the next op to reach M'
  )
  for (const base of [a, m]) {
    t.absent(base.base.closed, 'the profile base is open')
    t.is(base.failure, null, 'and has not failed')
  }
  t.absent(m.writable, 'the forger did not become a writer')
  t.alike(await a.view.system(), await m.view.system(), 'both hold the same profile state')
})
