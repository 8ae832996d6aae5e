import test, { type Test } from 'brittle'
import { mesh, skewed, converged, until, errorCode, type TestNode } from '../helpers/index.js'
import { encodeOp } from '../../src/autobase/envelope.js'
import { ManualClock } from '../../src/util/clock.js'
import { KDF_INTERACTIVE, loadKeyFile } from '../../src/identity/keyfile.js'
import { keyFilePath } from '../../src/store/home.js'
import { encodeKey, fromHex, toHex } from '../../src/identity/keys.js'
import { leaksUnder } from '../identity/helpers.js'

const HOUR = 3600_000

async function postsOf(
  n: TestNode,
  key: string
): Promise<Array<{ text: string; author: string; device: string }>> {
  const p = await n.node.projects.resolve(key)
  await p.update()
  return (await p.view.feed()).map((x) => ({ text: x.text, author: x.author, device: x.device }))
}

async function noSecretsUnder(t: Test, home: string, phrase: string) {
  const scan = await leaksUnder(home, phrase)
  t.is(
    scan.leaks.length,
    0,
    `no phrase or identity secret in ${scan.files} files (${scan.leaks.join(', ')})`
  )
}

test('link - a device linked while the first device is offline; then both post as the same profile', async (t) => {
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const helper = await m.create({ name: 'Bob' })
  const { key } = await a.app.projects.create({ name: 'shared' })
  await helper.app.projects.join((await a.app.projects.invite(key)).code)
  // A goes offline right away: Bob's name and card (written once he holds the view) are applied
  // on A just as it closes, and written on while it is away (the scenario of the restart reorder,
  // DESIGN.md "Restarts: closing drains first")
  await a.app.content.post(key, 'from the laptop')
  const link = await a.node.links.create({ expires: 10 * 60_000 })
  await a.node.close() // the first device goes offline right after making the code

  const b = await m.create({ noProfile: true, kdf: KDF_INTERACTIVE })
  const phases: string[] = []
  const joining = b.node.links.join(link.code, {
    passphrase: 'correct horse',
    name: 'phone',
    timeout: 60_000,
    onProgress: (p) => phases.push(p.phase)
  })
  const a2 = await m.create({ home: a.home }) // back online, same profile
  const who = await joining
  t.is(who.profile, encodeKey(a2.node.profile.keys!.profileId), 'the same profile')
  t.is(who.devices.length, 2, 'two devices listed')
  t.ok(phases.includes('pairing') && phases.includes('writable'), `progress shown (${phases})`)

  await b.app.content.post(key, 'from the phone')
  await a2.app.content.post(key, 'laptop again')
  await converged([a2, b, helper], key)
  const posts = await postsOf(helper, key)
  const profile = toHex(a2.node.profile.keys!.profileId)
  t.alike(
    posts.map((p) => p.text).sort(),
    ['from the laptop', 'from the phone', 'laptop again'],
    'every post arrived'
  )
  t.ok(
    posts.every((p) => p.author === profile),
    'all written as the same profile'
  )
  t.is(new Set(posts.map((p) => p.device)).size, 2, 'from two devices')
  const feed = await helper.app.content.feed(key)
  t.ok(
    feed.every((p) => p.authorName === 'Ada'),
    'the feed names the profile'
  )
  const pa2 = await a2.node.projects.resolve(key)
  const bob = await until(
    a2.node,
    async () => {
      const m = await pa2.view.member(helper.node.profile.profileHex)
      return m?.name?.value === 'Bob' && m.card !== null ? m : null
    },
    20_000,
    "the joiner's name and card"
  )
  t.is(bob.card?.base, helper.node.profile.entry?.base, 'its card names its own profile base')
  t.is(bob.card?.discovery, helper.node.profile.entry?.discovery, 'its card points at its profile')

  // the new device's key file opens with its passphrase; nothing secret reached its disk
  const unlocked = await loadKeyFile(keyFilePath(b.home), 'correct horse')
  t.is(toHex(unlocked.keys.profileId), profile, 'key file of the same profile')
  await noSecretsUnder(t, b.home, a.phrase)
})

test('link - a per-project display name survives linking a device and renaming the profile', async (t) => {
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const helper = await m.create({ name: 'Bob' })
  const { key } = await a.app.projects.create({ name: 'named' })
  const { key: other } = await a.app.projects.create({ name: 'plain' })
  await helper.app.projects.join((await a.app.projects.invite(key)).code)
  await a.app.content.setName(key, 'Ada L.') // her name in this project only
  const profile = a.node.profile.profileHex
  const b = await m.create({ noProfile: true, kdf: KDF_INTERACTIVE })
  const introduced = new Set<string>()
  b.node.writers.on('introduced', (project: string) => introduced.add(project))
  await b.node.links.join((await a.node.links.create()).code, {
    passphrase: 'correct horse',
    name: 'phone',
    timeout: 60_000
  })
  const hexKey = toHex((await b.node.projects.resolve(key)).key)
  await until(b.node, () => introduced.has(hexKey), 30_000, 'the phone to introduce itself')
  await converged([a, b, helper], key)
  for (const n of [a, b, helper]) {
    const me = await (await n.node.projects.resolve(key)).view.member(profile)
    t.is(me?.name?.value, 'Ada L.', `the project name is kept (${n.name || 'phone'})`)
  }
  // renaming the profile renames it where the name was the profile's, not where it was chosen
  await a.node.profile.setName('Ada Lovelace')
  const pa = await a.node.projects.resolve(key)
  const po = await a.node.projects.resolve(other)
  t.is((await pa.view.member(profile))?.name?.value, 'Ada L.', 'the chosen name stays')
  t.is((await po.view.member(profile))?.name?.value, 'Ada Lovelace', 'the profile name follows')
})

test('link - malformed, expired and reused link codes each get their own error', async (t) => {
  const m = await mesh(t)
  // A and B share a clock the test moves
  const clock = new ManualClock()
  const a = await m.create({ name: 'Ada', clock })
  const b = await m.create({ noProfile: true, clock })
  const c = await m.create({ noProfile: true })
  const opts = { passphrase: null, timeout: 20_000 }
  t.is(await errorCode(b.node.links.join('not a code', opts)), 'LINK_MALFORMED')
  const { key } = await a.app.projects.create({ name: 'p' })
  const invite = await a.app.projects.invite(key)
  t.is(
    await errorCode(b.node.links.join(invite.code, opts)),
    'LINK_MALFORMED',
    'an invite is not a link'
  )
  const link = await a.node.links.create()
  t.is(
    await errorCode(b.node.links.join(link.code.slice(0, 40), opts)),
    'LINK_CORRUPT',
    'truncated'
  )
  const short = await a.node.links.create({ expires: 60_000 })
  t.is(short.expires, clock.now() + 60_000, 'expiry taken from the node clock')
  clock.advance(60_000)
  t.is(await errorCode(b.node.links.join(short.code, opts)), 'LINK_EXPIRED')
  t.is(await errorCode(b.node.links.join(link.code, opts)), 'OK', 'a fresh code links')
  t.is(await errorCode(c.node.links.join(link.code, opts)), 'LINK_USED', 'one use only')
  t.is(c.node.profile.keys, null, 'the refused node has no profile')
})

test('revoke - a revoked device is rejected identically on every peer, and members cut its node off', async (t) => {
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const c = await m.create({ name: 'Cy' })
  const { key } = await a.app.projects.create({ name: 'p' })
  await c.app.projects.join((await a.app.projects.invite(key)).code)
  const b = await m.create({ noProfile: true })
  await b.node.links.join((await a.node.links.create()).code, {
    passphrase: null,
    timeout: 30_000
  })
  await b.app.content.post(key, 'before revocation')
  await converged([a, b, c], key)

  const bDevice = encodeKey(b.node.profile.keys!.device.publicKey)
  const { device, projects } = await a.node.devices.revoke(bDevice)
  t.ok(device.revoked, 'marked revoked in the profile')
  t.is(projects, 1, 'revoked in the project')
  const pb = await b.node.projects.resolve(key)
  await until(
    b.node,
    async () => (await pb.view.writer(pb.writerId))?.removed,
    20_000,
    'B to see it'
  )
  t.is(
    await errorCode(b.app.content.post(key, 'refused locally')),
    'DEVICE_REVOKED',
    'the node refuses'
  )
  // members' nodes cut the revoked device's node off: dropped, and refused when it dials again
  const bKey = toHex(b.node.network.publicKey)
  const linked = (n: TestNode): boolean =>
    [...n.node.network.sessions.values()].some((s) => s.key === bKey && s.state !== 'closed')
  await until(a.node, () => !linked(a) && !linked(c), 20_000, 'A and C to drop B')
  t.ok(a.node.admission.refuses(b.node.network.publicKey), 'A refuses it at the door from now on')

  // a revoked device that writes anyway, and gets its op to a member another way (a modified
  // node): its op comes after the revocation
  await pb.appendRaw(
    encodeOp(pb.makeOp({ type: 'post/add', text: 'after revocation', replyTo: null }))
  )
  const s1 = b.node.store.replicate(true)
  const s2 = c.node.store.replicate(false)
  s1.pipe(s2).pipe(s1)
  const pc = await c.node.projects.resolve(key)
  await until(
    c.node,
    async () => (await pc.view.skipped()).some((x) => x.reason === 'device revoked'),
    20_000,
    'C to get the late op'
  )
  s1.destroy()
  s2.destroy()
  await a.app.content.post(key, 'still here')
  await converged([a, c], key)
  const verdicts = await Promise.all(
    [a, c].map(async (n) => (await n.node.projects.resolve(key)).view.skipped())
  )
  t.alike(verdicts[1], verdicts[0], 'C skipped the same ops for the same reasons as A')
  for (const n of [a, c]) {
    const texts = (await postsOf(n, key)).map((p) => p.text)
    t.alike(texts.sort(), ['before revocation', 'still here'], 'the late op is not applied')
    const skips = await (await n.node.projects.resolve(key)).view.skipped()
    t.ok(
      skips.some((s) => s.reason === 'device revoked' && s.type === 'post/add'),
      'skipped as revoked'
    )
  }
  t.alike(
    (await postsOf(b, key)).map((p) => p.text),
    ['before revocation'],
    'the revoked device got nothing written after its revocation'
  )
  // it gets no new keys: a new project of the profile is not sealed to it
  const { key: later } = await a.app.projects.create({ name: 'later' })
  const entry = await a.node.profile.base!.view.project(
    toHex((await a.node.projects.resolve(later)).key)
  )
  t.ok(
    entry && entry.keys[toHex(b.node.profile.keys!.device.publicKey)] === undefined,
    'no key sealed to it'
  )
  t.is(
    await errorCode(a.node.devices.revoke(encodeKey(a.node.profile.keys!.device.publicKey))),
    'NOT_ALLOWED'
  )
})

test('delegate - a delegated device is accepted until its expiry, then rejected everywhere', async (t) => {
  const m = await mesh(t)
  // the grantor runs on a clock the test moves; the delegate's clock is skewed at will
  const clockA = new ManualClock()
  const clock = { d: 0 }
  const a = await m.create({ name: 'Ada', clock: clockA })
  const c = await m.create({ name: 'Cy' })
  const { key } = await a.app.projects.create({ name: 'p' })
  await c.app.projects.join((await a.app.projects.invite(key)).code)
  const d = await m.create({ noProfile: true, clock: skewed(() => clock.d) })
  const link = await a.node.links.create({ delegateFor: HOUR })
  t.is(link.delegateFor, HOUR)
  const who = await d.node.links.join(link.code, { passphrase: null, timeout: 30_000 })
  t.ok(who.delegated && who.expiresAt !== null, 'a delegated device with an expiry')
  t.is(
    await errorCode(Promise.resolve().then(() => d.node.profile.sign('x'))),
    'NOT_ALLOWED',
    'cannot sign'
  )
  await d.app.content.post(key, 'within the hour')

  clock.d = 2 * HOUR // the delegate's own clock is past the expiry: its node refuses...
  t.is(await errorCode(d.app.content.post(key, 'late')), 'DELEGATION_EXPIRED', 'refused locally')
  const pd = await d.node.projects.resolve(key) // ...and a node that writes anyway is refused by peers
  await pd.appendRaw(
    encodeOp(pd.makeOp({ type: 'post/add', text: 'after expiry, honest clock', replyTo: null }))
  )
  await converged([a, c, d], key)
  t.alike(
    (await postsOf(c, key)).map((p) => p.text),
    ['within the hour'],
    'expired op rejected'
  )

  // the grantor's clock passes the expiry: its periodic check ends the delegation everywhere
  const ended = new Promise<{ device: string }>((resolve) =>
    a.node.devices.once('delegation-ended', resolve)
  )
  clockA.advance(2 * HOUR)
  t.is((await ended).device, toHex(d.node.profile.keys!.device.publicKey), 'expiry written')
  t.is(await a.node.devices.expireDelegations(), 0, 'once: a later check writes nothing more')
  clock.d = 0 // a back-dated op after that
  await until(
    d.node,
    async () => (await pd.view.writer(pd.writerId))?.removed,
    20_000,
    'D to see it'
  )
  await pd.appendRaw(encodeOp(pd.makeOp({ type: 'post/add', text: 'back-dated', replyTo: null })))
  await a.app.content.post(key, 'grantor')
  await converged([a, c, d], key)
  for (const n of [a, c, d]) {
    t.alike(
      (await postsOf(n, key)).map((p) => p.text).sort(),
      ['grantor', 'within the hour'],
      'same verdicts on every peer'
    )
    const reasons = (await (await n.node.projects.resolve(key)).view.skipped()).map((s) => s.reason)
    t.ok(
      reasons.includes('delegation expired') && reasons.includes('writer is not a member'),
      reasons.join('; ')
    )
  }
})

test('forged - a node that is not a device of a profile cannot write as it', async (t) => {
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const e = await m.create({ name: 'Eve' })
  const { key } = await a.app.projects.create({ name: 'p' })
  await e.app.projects.join((await a.app.projects.invite(key)).code)
  const pe = await e.node.projects.resolve(key)
  const pa = await a.node.projects.resolve(key)
  const adaInit = (await pa.view.writer(pa.writerId))!
  const eveKeys = e.node.profile.keys!
  const { createWriterProof } = await import('../../src/identity/writer-proof.js')
  // Eve's own device signs a writer, claiming Ada's profile and borrowing Ada's public proof
  const mine = createWriterProof(eveKeys, pe.discoveryKey, Buffer.alloc(32, 7))
  const forged = [
    { ...mine, profile: adaInit.profile }, // wrong profile for Eve's proof
    { ...mine, profile: adaInit.profile, device: adaInit.device }, // Ada's device, Eve's signature
    { ...mine, writer: pe.writerId } // a signature over another writer
  ]
  for (const as of forged) await pe.appendRaw(encodeOp(pe.makeOp({ type: 'writer/add', as })))
  await converged([a, e], key)
  for (const n of [a, e]) {
    const p = await n.node.projects.resolve(key)
    const ada = await p.view.member(adaInit.profile)
    t.is(ada?.writers.length, 1, 'Ada still has only her own writer')
    const reasons = (await p.view.skipped()).map((s) => s.reason)
    t.is(
      reasons.filter((r) => r === 'invalid writer proof').length,
      forged.length,
      'every forgery skipped'
    )
  }
})

test('recover - with some of three hosts online the phrase brings back profile, projects and data from the longest copy; with none, a clear error', async (t) => {
  t.timeout(150_000)
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const hosts = [
    await m.create({ name: 'H1' }),
    await m.create({ name: 'H2' }),
    await m.create({ name: 'H3' })
  ]
  const { key } = await a.app.projects.create({ name: 'kept alive' })
  for (const h of hosts) await h.app.projects.join((await a.app.projects.invite(key)).code)
  await a.app.content.post(key, 'remember me')
  await a.app.content.addTask(key, 'a task')
  await converged([a, ...hosts], key)
  const discovery = a.node.profile.entry!.discovery
  for (const h of hosts) {
    await until(
      h.node,
      () => h.node.hosting.hosted().some((x) => x.discovery === discovery),
      20_000,
      'hosts to keep the profile'
    )
  }
  // every host holds the whole profile before the device is lost
  const length = a.node.profile.base!.base.local.length
  for (const h of hosts) {
    const core = h.node.store.get({ key: a.node.profile.base!.key })
    await core.ready()
    await until(h.node, () => core.contiguousLength >= length, 20_000, 'the profile cores')
    await core.close()
  }
  const phrase = a.phrase
  // H2 goes offline with the profile as it is now; then the profile changes; H3 leaves too
  await hosts[1]!.node.close()
  await hosts[2]!.node.close()
  await a.node.profile.setName('Ada L.')
  const grown = a.node.profile.base!.base.local.length
  const core1 = hosts[0]!.node.store.get({ key: a.node.profile.base!.key })
  await core1.ready()
  await until(hosts[0]!.node, () => core1.contiguousLength >= grown, 20_000, 'H1 to follow')
  await core1.close()
  await a.node.close() // the only device is lost
  // H2 is back with its older copy; it does not connect to H1, so its copy stays as it was
  const h2 = await m.create({ home: hosts[1]!.home, blocked: [hosts[0]!.node.network.publicKey] })

  const r = await m.create({ noProfile: true, kdf: KDF_INTERACTIVE })
  const phases: string[] = []
  const report = await r.node.recovery.recover(phrase, {
    passphrase: 'new passphrase',
    timeout: 30_000,
    onProgress: (p) => phases.push(p.phase)
  })
  t.is(report.whoami.name, 'Ada L.', 'profile restored from the longest copy')
  const answers = new Map(report.answered.map((x) => [x.peer, x]))
  const fromH1 = answers.get(hosts[0]!.node.peerId)
  const fromH2 = answers.get(h2.node.peerId)
  t.ok(fromH1 && fromH2, `both online holders answered (${report.answered.length})`)
  t.ok(
    fromH1!.length > fromH2!.length,
    `H1's copy is longer (${fromH1!.length} > ${fromH2!.length})`
  )
  t.ok(fromH1!.chosen && !fromH2!.chosen, 'the longest validly signed copy was chosen')
  t.ok(
    report.answered.some((x) => x.peer === hosts[0]!.node.peerId && x.valid && x.chosen),
    'the online host answered'
  )
  t.ok(report.whoami.profileWritable, 'it writes to its profile again, with no other device')
  t.is((await r.node.profile.setName('Ada Lovelace')).name, 'Ada Lovelace', 'and can rename it')
  t.is(report.projects.length, 1, 'its project is back')
  t.ok(report.projects[0]!.writable, 'writable again (an online member carried it in)')
  t.ok(phases.includes('searching') && phases.includes('found'), `progress (${phases})`)
  t.alike(
    (await postsOf(r, key)).map((p) => p.text),
    ['remember me'],
    'data restored'
  )
  t.is((await r.app.content.tasks(key)).length, 1, 'tasks restored')
  await r.app.content.post(key, 'back from the phrase')
  // Known slow path (found 2026-11-30, also on the code of the stop before): in about one run
  // in four, H1 holds the recovered device's blocks but applies them only once it reconnects
  // to the restarted H2 (about 55 s), as if a block they depend on could come only from H2.
  // Bounded at 90 s so the test checks the outcome; the delay is in the issue notes.
  await converged([r, hosts[0]!], key, 90_000)
  const posts = await postsOf(hosts[0]!, key)
  t.ok(
    posts.every((p) => p.author === toHex(r.node.profile.keys!.profileId)),
    'as the same profile'
  )
  await noSecretsUnder(t, r.home, phrase)

  await hosts[0]!.node.close() // now nobody holds it (the recovered device goes offline too)
  await h2.node.close()
  await r.node.close()
  const lonely = await m.create({ noProfile: true })
  const err = await errorCode(
    lonely.node.recovery.recover(phrase, { passphrase: 'x', timeout: 3000 })
  )
  t.is(err, 'RECOVERY_NO_PEERS', 'a clear error when no holder is online')
  t.is(lonely.node.profile.keys, null, 'nothing changed')
  t.is(
    await errorCode(loadKeyFile(keyFilePath(lonely.home), 'x')),
    'NO_PROFILE',
    'no key file written'
  )
})

test("recover - cores a host keeps that are not the profile's (a revoked device's link attempt) never stall a later recovery; strangers' lists are refused", async (t) => {
  t.timeout(120_000)
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const h = await m.create({ name: 'Host' })
  const c = await m.create({ name: 'Cy' })
  const { key } = await a.app.projects.create({ name: 'p' })
  for (const n of [h, c]) await n.app.projects.join((await a.app.projects.invite(key)).code)
  const b = await m.create({ noProfile: true })
  await b.node.links.join((await a.node.links.create()).code, {
    passphrase: null,
    timeout: 30_000
  })
  const entry = a.node.profile.entry!
  const bWriter = toHex(b.node.profile.base!.writerKey)
  const bHex = toHex(b.node.profile.keys!.device.publicKey)
  const hosted = (): string[] =>
    h.node.hosting.hosted().find((x) => x.discovery === entry.discovery)?.cores ?? []
  await until(h.node, () => hosted().includes(bWriter), 20_000, "H to keep B's writer core")
  const announce = async (n: TestNode, name: string): Promise<string> => {
    const core = n.node.store.get({ name })
    await core.ready()
    for (let i = 0; i < 5; i++) await core.append(Buffer.from(`block ${i}`))
    n.node.hosting.channel.broadcast('profile-cores', {
      profile: entry.id,
      discovery: entry.discovery,
      base: entry.base!,
      sig: entry.baseSig!,
      cores: [...hosted(), toHex(core.key as Buffer)]
    })
    return toHex(core.key as Buffer)
  }
  // a stranger (another profile) cannot make H keep cores for Ada's profile
  const refused: string[] = []
  h.node.hosting.on('profile-cores-refused', (r) => refused.push(r.reason))
  const strangers = await announce(c, 'made-up')
  await until(h.node, () => refused.length > 0, 20_000, "H to refuse the stranger's list")
  t.ok(!hosted().includes(strangers), `the stranger's core is not kept (${refused[0]})`)
  // B, the stolen laptop, tries to link a new device: its own view lists the new device's
  // writer, which it tells H about; in the profile that link never takes effect (revoked)
  const attempt = await announce(b, 'link-attempt')
  const held = (): number => h.node.hosting.answer(entry.discovery)?.length ?? 0
  await until(h.node, () => hosted().includes(attempt), 20_000, "H to take B's list")
  const before = held()
  const core = h.node.store.get({ key: fromHex(attempt) })
  await core.ready()
  await until(h.node, () => core.contiguousLength >= 5, 20_000, "H to hold the attempt's blocks")
  await core.close()
  t.ok(held() >= before, `H counts them in its copy (${held()} blocks)`)
  await a.node.devices.revoke(encodeKey(fromHex(bHex)))
  const revokedAt = a.node.profile.base!.base.local.length
  const aCore = h.node.store.get({ key: a.node.profile.base!.writerKey })
  await aCore.ready()
  await until(h.node, () => aCore.contiguousLength >= revokedAt, 20_000, 'H to hold the revocation')
  await aCore.close()
  const phrase = a.phrase
  await b.node.close()
  await a.node.close() // every honest device is lost

  const r = await m.create({ noProfile: true, kdf: KDF_INTERACTIVE })
  const report = await r.node.recovery.recover(phrase, {
    passphrase: 'new passphrase',
    timeout: 30_000
  })
  t.is(report.whoami.name, 'Ada', 'the profile is back')
  t.ok(
    report.answered.some((x) => [h.node.peerId, c.node.peerId].includes(x.peer) && x.chosen),
    "a host's copy was read, the attempt's core included"
  )
  const devices = await r.node.profile.base!.view.devices()
  t.ok(
    devices.some((d) => d.device === bHex && d.revoked !== null),
    'the stolen device is still revoked'
  )
  t.is(report.projects.length, 1, 'its project is back')
})
