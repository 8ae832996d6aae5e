import test, { type Test } from 'brittle'
import fs from 'fs/promises'
import path from 'path'
import IdentityKey from 'keet-identity-key'
import { cli, flux, waitFor, PASSPHRASE, UNLOCK, type RunResult } from './helpers.js'
import { leaksUnder } from '../identity/helpers.js'
import { encodeKey } from '../../src/identity/keys.js'
import type {
  CreatedInvite,
  CreatedLink,
  DeviceInfo,
  DeviceProofInfo,
  InitResult,
  PostInfo,
  ProjectDetail,
  ProjectSummary,
  RecoveryReport,
  SignResult,
  WhoAmI
} from '../../src/api.js'

type Who = WhoAmI & { running: boolean }

/** A failed verb: exit 1, and its last line on stderr the one error line (after any progress). */
function failed(t: Test, r: RunResult, code: string, what: string): void {
  t.is(r.code, 1, `${what}: exit 1`)
  const lines = r.stderr.trimEnd().split('\n')
  const errors = lines.filter((l) => l.startsWith('flux: error '))
  t.ok(
    errors.length === 1 && new RegExp(`^flux: error ${code}: \\S`).test(lines.at(-1) ?? ''),
    `${what}: one ${code} line, last (${lines.at(-1)})`
  )
}

/** No file under `home` holds the phrase, the identity secret, or the passphrase. */
async function noSecretsUnder(t: Test, home: string, phrase: string): Promise<void> {
  const scan = await leaksUnder(home, phrase, [
    { what: 'passphrase', needle: Buffer.from(PASSPHRASE) }
  ])
  t.ok(scan.files > 0, `${scan.files} files scanned under ${path.basename(home)}`)
  t.alike(scan.leaks, [], 'no phrase, identity secret or passphrase in any file')
}

async function profileOf(phrase: string): Promise<string> {
  const id = await IdentityKey.from({ mnemonic: phrase })
  const profile = encodeKey(id.identityPublicKey)
  id.clear()
  return profile
}

async function init(home: string, name: string): Promise<InitResult> {
  const r = await flux(['init', '--name', name, '--home', home, '--json'], { env: UNLOCK })
  if (r.code !== 0) throw new Error(`flux init exited ${r.code}: ${r.stderr}`)
  return r.json as InitResult
}

/** Ada's profile on a running node, with a project Kiln holding one post. */
async function adaWithProject(t: Test, text: string) {
  const c = cli(t)
  await c.dht()
  const aHome = await t.tmp()
  const made = await init(aHome, 'Ada')
  const a = await c.up(aHome)
  const key = (await c.run(a.home, 'project', 'create', 'Kiln')).stdout.trim()
  await c.json(a.home, 'post', key, text)
  return { c, made, a, key }
}

test('cli profile - init shows the phrase once; whoami; no secret reaches disk', async (t) => {
  t.timeout(90_000)
  const c = cli(t)
  const home = await t.tmp()

  const none = await c.run(home, 'whoami')
  failed(t, none, 'NO_PROFILE', 'whoami before init')

  const made = await c.runWith(UNLOCK, home, 'init', '--name', 'Ada')
  t.is(made.code, 0, 'flux init exits 0')
  // the phrase: 24 numbered words, each number once, printed in columns
  const numbered = [...made.stdout.matchAll(/(\d+)\. ([a-z]+)/g)].map((m) => ({
    n: Number(m[1]),
    word: m[2] ?? ''
  }))
  t.alike(
    numbered.map((w) => w.n).sort((x, y) => x - y),
    Array.from({ length: 24 }, (_, i) => i + 1),
    'the 24 words, each number once'
  )
  const phrase = numbered
    .sort((x, y) => x.n - y.n)
    .map((w) => w.word)
    .join(' ')
  const profile = /profile\s+(\S{52})/.exec(made.stdout)?.[1]
  t.is(profile, await profileOf(phrase), 'the words shown are the phrase of this profile')
  t.ok(/write these 24 words down/i.test(made.stdout), 'with a warning to write it down')
  t.absent(made.stderr.includes(phrase.split(' ').slice(0, 3).join(' ')), 'not on stderr')

  const offline = await c.json<Who>(home, 'whoami')
  t.alike(
    { profile: offline.profile, name: offline.name, running: offline.running },
    { profile, name: 'Ada', running: false },
    'whoami without a node reads the key file'
  )
  const again = await c.runWith(UNLOCK, home, 'init', '--name', 'Eve')
  failed(t, again, 'PROFILE_EXISTS', 'a second init')
  t.absent(/\d+\. [a-z]+/.test(again.stdout), 'and it shows no phrase')
  await noSecretsUnder(t, home, phrase)

  // the node runs as the profile
  await c.dht()
  const a = await c.up(home)
  t.ok(a.stdout().includes(`profile Ada (${profile})`), '`flux up` names its profile')
  failed(t, await c.runWith(UNLOCK, home, 'init'), 'PROFILE_EXISTS', 'init on the running node')
  const who = await c.json<Who>(home, 'whoami')
  t.is(who.profile, profile)
  t.is(who.device, offline.device, 'the device of the key file')
  t.is(who.running, true)
  t.alike(
    who.devices.map((d) => [d.id, d.you]),
    [[offline.device, true]],
    'one device, this one'
  )
  const human = await c.run(home, 'whoami')
  t.ok(/^profile\s+\S{52}$/m.test(human.stdout) && /this device/.test(human.stdout))
  const created = await c.json<ProjectDetail>(home, 'project', 'create', 'Kiln')
  t.is(created.you, profile, 'projects are created as the profile')
  t.is((await c.json<Who>(home, 'whoami')).projects, 1, 'whoami counts the project')
  await noSecretsUnder(t, home, phrase)

  // a node started without a profile: init goes through it, and it then runs as the profile
  const bare = await c.up(await t.tmp(), [], { profile: false })
  t.ok(bare.stdout().includes('no profile: run flux init'), 'the banner says there is none')
  failed(t, await c.run(bare.home, 'project', 'create', 'x'), 'NO_PROFILE', 'create, no profile')
  const viaNode = await c.runWith(UNLOCK, bare.home, 'init', '--name', 'Bo', '--json')
  t.is(viaNode.code, 0, 'init through the running node')
  const doc = viaNode.json as InitResult
  t.alike(Object.keys(doc).sort(), ['device', 'name', 'phrase', 'profile'])
  t.is(doc.profile, await profileOf(doc.phrase), '--json gives the phrase of the profile')
  t.is((await c.json<Who>(bare.home, 'whoami')).profile, doc.profile, 'the node runs as it')
  t.is((await c.run(bare.home, 'project', 'create', 'Bo')).code, 0, 'and can create projects')
  t.ok(await fs.stat(path.join(bare.home, 'profile.key')), 'its keys were sealed in the home')
  await noSecretsUnder(t, bare.home, doc.phrase)
})

test('cli profile - wrong passphrase and tampered key file fail closed', async (t) => {
  t.timeout(60_000)
  const home = await t.tmp()
  await init(home, 'Ada')
  const file = path.join(home, 'profile.key')
  const before = await fs.readFile(file)
  const listing = async (): Promise<string[]> => (await fs.readdir(home)).sort()
  const filesBefore = await listing()
  // never reaches the network, but point it at nothing public anyway
  const up = ['up', '--home', home, '--bootstrap', '127.0.0.1:9', '--host', '127.0.0.1']

  const wrong = await flux(up, { env: { ...UNLOCK, FLUX_PASSPHRASE: 'not the passphrase' } })
  t.is(wrong.code, 1, 'a wrong passphrase: exit 1')
  t.is(wrong.stderr, 'flux: error PASSPHRASE_WRONG: wrong passphrase for this profile\n')
  t.alike(await fs.readFile(file), before, 'the key file is byte-identical')
  t.alike(await listing(), filesBefore, 'and nothing else was created')

  const missing = await flux(up)
  failed(t, missing, 'PASSPHRASE_REQUIRED', 'no FLUX_PASSPHRASE and no terminal')
  t.ok(missing.stderr.includes('set FLUX_PASSPHRASE or run in a terminal'))

  const kdf = await flux(up, { env: { ...UNLOCK, FLUX_KDF: 'fast' } })
  t.is(kdf.code, 2, 'an unknown FLUX_KDF is a usage error')
  t.ok(kdf.stderr.startsWith('flux: error USAGE: FLUX_KDF must be'))

  const doc = JSON.parse(before.toString()) as { cipher: { box: string } }
  const box = doc.cipher.box
  doc.cipher.box = (box[0] === '0' ? '1' : '0') + box.slice(1)
  await fs.writeFile(file, JSON.stringify(doc, null, 2))
  const tampered = await flux(up, { env: UNLOCK })
  failed(t, tampered, 'KEYFILE_CORRUPT', 'a changed sealed box')

  await fs.writeFile(file, before.toString().replace('"name": "Ada"', '"name": "Eve"'))
  failed(t, await flux(up, { env: UNLOCK }), 'KEYFILE_CORRUPT', 'a changed profile name')
  t.alike(await listing(), filesBefore, 'no node ever started')
})

test('cli device - link codes: malformed, invite, expired, used; a linked device is the same profile', async (t) => {
  t.timeout(120_000)
  const c = cli(t)
  await c.dht()
  const aHome = await t.tmp()
  const made = await init(aHome, 'Ada')
  const a = await c.up(aHome)
  const b = await c.up(await t.tmp(), [], { profile: false })
  const third = await c.up(await t.tmp(), [], { profile: false })
  const join = (home: string, ...args: string[]): Promise<RunResult> =>
    c.runWith(UNLOCK, home, 'device', 'join', ...args)

  failed(t, await join(b.home, 'not-a-code'), 'LINK_MALFORMED', 'a malformed code')
  const key = (await c.run(a.home, 'project', 'create', 'Kiln')).stdout.trim()
  await c.json(a.home, 'post', key, 'from the laptop')
  const invite = await c.json<CreatedInvite>(a.home, 'project', 'invite', key)
  const asInvite = await join(b.home, invite.code)
  failed(t, asInvite, 'LINK_MALFORMED', 'a project invite')
  t.ok(asInvite.stderr.includes('flux project join'), 'which says what to use instead')

  const short = await c.json<CreatedLink>(a.home, 'device', 'link', '--expires', '1s')
  t.is(short.profile, made.profile)
  t.is(short.delegateFor, null)
  await waitFor(async () => Date.now() > short.expires, 'the short code to expire', 5_000, 20)
  failed(t, await join(b.home, short.code), 'LINK_EXPIRED', 'an expired code')
  failed(t, await c.run(b.home, 'whoami'), 'NO_PROFILE', 'the refused node has no profile')

  const linked = await c.run(a.home, 'device', 'link', '--expires', '5m')
  t.is(linked.code, 0)
  const code = linked.stdout.trim()
  t.ok(/expires in 5m/.test(linked.stderr), 'link notes the expiry on stderr')
  const joined = await join(b.home, code, '--name', 'phone', '--timeout', '60s')
  if (joined.code !== 0) t.comment(joined.stderr)
  t.is(joined.code, 0, 'device join exits 0')
  t.ok(/pairing/.test(joined.stderr) && /linked/.test(joined.stderr), 'with progress')

  failed(t, await join(third.home, code), 'LINK_USED', 'the same code again')
  failed(t, await c.run(third.home, 'whoami'), 'NO_PROFILE', 'the third home has no profile')
  failed(t, await join(a.home, code), 'PROFILE_EXISTS', 'joining from a home with a profile')
  await t.exception(fs.stat(path.join(third.home, 'profile.key')), /ENOENT/, 'nor a key file')

  // both devices: the same profile, two devices, and the project on both
  const [whoA, whoB] = await waitFor(
    async () => {
      const w = await Promise.all([a.home, b.home].map((h) => c.json<Who>(h, 'whoami')))
      return w.every((x) => x.devices.length === 2) ? w : null
    },
    'both devices to list two devices',
    30_000,
    200
  )
  t.is(whoA?.profile, made.profile)
  t.is(whoB?.profile, made.profile, 'the linked device runs as the same profile')
  t.not(whoA?.device, whoB?.device, 'from its own device key')
  t.alike(whoB?.devices.find((d) => d.you)?.name, 'phone', 'with the name it was given')
  const list = await c.json<DeviceInfo[]>(a.home, 'device', 'list')
  t.alike(list.map((d) => d.id).sort(), [whoA?.device, whoB?.device].sort())
  await waitFor(
    async () =>
      (await c.json<ProjectSummary[]>(b.home, 'project', 'list')).some(
        (p) => p.writable && p.posts >= 1
      ),
    'the linked device to write to the profile project',
    30_000,
    200
  )
  await c.json<PostInfo>(b.home, 'post', key, 'from the phone')
  const feed = await waitFor(
    async () => {
      const f = await c.json<PostInfo[]>(a.home, 'feed', key)
      return f.length === 2 ? f : null
    },
    'the phone post to reach the laptop',
    30_000,
    200
  )
  t.alike(
    feed.map((p) => p.author),
    [made.profile, made.profile],
    'both posts by the profile'
  )
  t.is(new Set(feed.map((p) => p.device)).size, 2, 'from two devices')
  t.is(feed.find((p) => p.text === 'from the phone')?.authorName, 'Ada', 'named as the profile')

  // anyone can check the new device belongs to the profile
  const proof = await c.json<DeviceProofInfo>(b.home, 'device', 'proof')
  const checked = await flux(['verify', made.profile, proof.proof, '--home', a.home])
  t.is(checked.code, 0)
  t.is(
    checked.stdout,
    `valid: ${whoB?.device} is a device of profile ${made.profile} (not revoked, as far as this node knows)\n`
  )
  const signedBefore = (await c.run(b.home, 'sign', 'from the phone')).stdout.trim()

  // revoke it from the first device
  const revoked = await c.json<{ device: DeviceInfo }>(a.home, 'device', 'revoke', 'phone')
  t.is(revoked.device.id, whoB?.device)
  t.ok(revoked.device.revoked, 'revoked')
  const after = await c.run(a.home, 'device', 'list')
  t.ok(/phone .*revoked/.test(after.stdout), 'device list shows it revoked')
  failed(t, await c.run(a.home, 'device', 'revoke', 'nobody'), 'DEVICE_NOT_FOUND', 'unknown')

  // where the revocation is known, what the phone signed (even before) is "revoked"
  const verdict = await flux([
    'verify',
    made.profile,
    signedBefore,
    'from the phone',
    '--home',
    a.home
  ])
  t.is(verdict.code, 1, 'a revoked device: exit 1')
  t.ok(
    verdict.stdout.startsWith(
      `revoked: device ${whoB?.device} of profile ${made.profile} was revoked at `
    ),
    verdict.stdout.trim()
  )
  const proofNow = await flux(['verify', made.profile, proof.proof, '--home', a.home, '--json'])
  t.is(proofNow.code, 1, "the phone's device proof too")
  t.is((proofNow.json as { valid: boolean }).valid, false, 'not valid in JSON')
  // with no node, it cannot know: it says so rather than a plain "valid"
  const offline = await flux([
    'verify',
    made.profile,
    signedBefore,
    'from the phone',
    '--home',
    await t.tmp()
  ])
  t.is(offline.code, 0, 'offline: the signature itself checks out')
  t.ok(/revocations could not be checked/.test(offline.stdout), offline.stdout.trim())

  // the phone learns it was revoked: it refuses to sign and to link, as it refuses to post
  await waitFor(
    async () => (await c.json<Who>(b.home, 'whoami')).devices.some((d) => d.you && d.revoked),
    'the phone to learn its revocation',
    30_000,
    200
  )
  failed(t, await c.run(b.home, 'post', key, 'still here'), 'DEVICE_REVOKED', 'post')
  failed(t, await c.run(b.home, 'sign', 'still me'), 'DEVICE_REVOKED', 'sign')
  failed(t, await c.run(b.home, 'device', 'link'), 'DEVICE_REVOKED', 'device link')

  await noSecretsUnder(t, b.home, made.phrase)
  await noSecretsUnder(t, a.home, made.phrase)
})

test('cli sign - sign and verify round trip; a changed message is invalid', async (t) => {
  t.timeout(60_000)
  const c = cli(t)
  await c.dht()
  const a = await c.up(await t.tmp(), [], { name: 'Ada' })
  const other = (await init(await t.tmp(), 'Eve')).profile
  const who = await c.json<Who>(a.home, 'whoami')
  const elsewhere = await t.tmp() // verify needs no node, nor a home

  const signed = await c.run(a.home, 'sign', 'I wrote this')
  t.is(signed.code, 0)
  const sig = signed.stdout.trim()
  t.ok(/^[ybndrfg8ejkmcpqxot1uwisza345h769]+$/.test(sig), 'prints one z-base-32 signature')
  const json = await c.json<SignResult>(a.home, 'sign', 'I wrote this')
  t.is(json.profile, who.profile)
  t.is(json.device, who.device)

  const ok = await flux(['verify', who.profile, sig, 'I wrote this', '--home', elsewhere])
  t.is(ok.code, 0, 'valid: exit 0')
  t.is(
    ok.stdout,
    `valid: signed by device ${who.device} of profile ${who.profile}; revocations could not be checked: no node runs here (\`flux up\`, or --home)\n`
  )
  const known = await flux(['verify', who.profile, sig, 'I wrote this', '--home', a.home])
  t.is(known.code, 0, 'checked by a node that knows the profile: exit 0')
  t.ok(known.stdout.endsWith('(not revoked, as far as this node knows)\n'), known.stdout.trim())

  const changed = await flux(['verify', who.profile, sig, 'I wrote that', '--home', elsewhere])
  t.is(changed.code, 1, 'a changed message: exit 1')
  t.ok(changed.stdout.startsWith('invalid: '), changed.stdout.trim())
  t.is(changed.stderr, '', 'a verdict, not an error')

  const wrong = await flux(['verify', other, sig, 'I wrote this', '--json'])
  t.is(wrong.code, 1, 'another profile: exit 1')
  t.alike(wrong.json, {
    valid: false,
    kind: 'signature',
    profile: other,
    device: null,
    reason: 'signed for another profile'
  })

  failed(
    t,
    await flux(['verify', who.profile, sig.slice(0, -7), 'I wrote this']),
    'SIGNATURE_MALFORMED',
    'a truncated signature'
  )
  failed(t, await flux(['verify', 'nope', sig, 'x']), 'KEY_MALFORMED', 'a malformed profile id')
  failed(
    t,
    await flux(['verify', who.profile, 'hello']),
    'SIGNATURE_MALFORMED',
    'neither a signature nor a proof'
  )
  const noMessage = await flux(['verify', who.profile, sig])
  t.is(noMessage.code, 2, 'a signature without its message is a usage error')

  const proof = (await c.run(a.home, 'device', 'proof')).stdout.trim()
  const device = await flux(['verify', who.profile, proof, '--json', '--home', elsewhere])
  t.is(device.code, 0)
  t.alike(device.json, {
    valid: true,
    kind: 'device',
    profile: who.profile,
    device: who.device,
    revocations: 'no-node'
  })
  const notOurs = await flux(['verify', other, proof])
  t.is(notOurs.code, 1)
  t.ok(notOurs.stdout.startsWith(`invalid: a device of another profile (${who.profile})`))
})

test('cli recover - the phrase brings the profile back on a fresh home; none online fails clearly', async (t) => {
  t.timeout(120_000)
  const { c, made, a, key } = await adaWithProject(t, 'before the loss')

  const fresh = await c.up(await t.tmp(), [], { profile: false })
  const noPhrase = await c.runWith(UNLOCK, fresh.home, 'recover')
  failed(t, noPhrase, 'PHRASE_INVALID', 'no phrase given')
  const badPhrase = await c.runWith(
    { ...UNLOCK, FLUX_PHRASE: 'one two three' },
    fresh.home,
    'recover'
  )
  failed(t, badPhrase, 'PHRASE_INVALID', 'three words')
  t.absent(badPhrase.stderr.includes('three'), 'the message does not repeat the words')

  const r = await c.runWith(
    { ...UNLOCK, FLUX_PHRASE: made.phrase },
    fresh.home,
    'recover',
    '--timeout',
    '60s',
    '--json'
  )
  if (r.code !== 0) t.comment(r.stderr)
  t.is(r.code, 0, 'recover exits 0')
  const report = r.json as RecoveryReport
  t.is(report.whoami.profile, made.profile, 'the same profile')
  const peerA = (await c.json<{ peerId: string }>(a.home, 'status')).peerId
  t.ok(
    report.answered.some((x) => x.peer === peerA && x.valid && x.chosen),
    'the first device answered with the chosen copy'
  )
  t.alike(
    report.projects.map((p) => p.key),
    [key],
    'its project is restored'
  )
  t.ok(/searching/.test(r.stderr), 'with progress on stderr')
  t.is((await c.json<Who>(fresh.home, 'whoami')).profile, made.profile)
  t.ok(await fs.stat(path.join(fresh.home, 'profile.key')), 'the new device keys are sealed')
  await noSecretsUnder(t, fresh.home, made.phrase)
  const again = await c.runWith({ ...UNLOCK, FLUX_PHRASE: made.phrase }, fresh.home, 'recover')
  failed(t, again, 'PROFILE_EXISTS', 'recover on a home with a profile')

  // nobody who holds the profile is online: a clear error, nothing changed
  await a.stop()
  await fresh.stop()
  const alone = await c.up(await t.tmp(), [], { profile: false })
  const nobody = await c.runWith(
    { ...UNLOCK, FLUX_PHRASE: made.phrase },
    alone.home,
    'recover',
    '--timeout',
    '3s'
  )
  failed(t, nobody, 'RECOVERY_NO_PEERS', 'no peer online')
  failed(t, await c.run(alone.home, 'whoami'), 'NO_PROFILE', 'and it has no profile')
  await t.exception(fs.stat(path.join(alone.home, 'profile.key')), /ENOENT/, 'nor a key file')
})

test('cli backup - `flux backup` while the node runs, then `flux recover --from` on a fresh home with no peer online', async (t) => {
  t.timeout(120_000)
  const { c, made, a, key } = await adaWithProject(t, 'kept in the backup')
  const dir = path.join(await t.tmp(), 'backup')
  const first = await c.run(a.home, 'backup', dir, '--json')
  t.is(first.code, 0, 'backup exits 0')
  const made1 = first.json as { cores: number; blocks: number; updated: boolean }
  t.ok(made1.cores > 0 && made1.blocks > 0 && !made1.updated, `${made1.cores} cores`)
  const again = await c.run(a.home, 'backup', dir)
  t.ok(/^updated the backup into /.test(again.stdout), again.stdout.trim())
  const file = path.join(await t.tmp(), 'a-file')
  await fs.writeFile(file, 'x')
  failed(t, await c.run(a.home, 'backup', file), 'INVALID_INPUT', 'a backup into a file')
  await a.stop()

  const fresh = await c.up(await t.tmp(), [], { profile: false })
  const phrase = { ...UNLOCK, FLUX_PHRASE: made.phrase }
  const missing = await c.runWith(phrase, fresh.home, 'recover', '--from', file + '-none')
  failed(t, missing, 'BACKUP_UNREADABLE', 'no such folder')
  failed(t, await c.run(fresh.home, 'whoami'), 'NO_PROFILE', 'nothing changed')
  const r = await c.runWith(phrase, fresh.home, 'recover', '--from', dir, '--json')
  if (r.code !== 0) t.comment(r.stderr)
  t.is(r.code, 0, 'recover --from exits 0 with no peer online')
  const report = r.json as RecoveryReport
  t.is(report.whoami.profile, made.profile, 'the same profile')
  t.ok(report.fromCopy && report.fromCopy.blocks > 0, 'read from the backup')
  t.alike(
    report.projects.map((p) => p.key),
    [key],
    'its project is back'
  )
  const feed = await c.json<Array<{ text: string }>>(fresh.home, 'feed', key)
  t.alike(
    feed.map((p) => p.text),
    ['kept in the backup'],
    'with its posts'
  )
})
