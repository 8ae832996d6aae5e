import test from 'brittle'
import BlindPairing from 'blind-pairing'
import { mesh, converged, until, errorCode as code, type TestNode } from '../helpers/index.js'
import { ManualClock } from '../../src/util/clock.js'
import { decodeInviteCode, encodeInviteCode } from '../../src/swarm/codes.js'
import { decodeKey } from '../../src/identity/keys.js'
import { createWriterProof } from '../../src/identity/writer-proof.js'
import type { DeviceKeys } from '../../src/identity/profile-keys.js'

test('invites - malformed, truncated and wrong-project codes are refused before any network', async (t) => {
  const m = await mesh(t)
  const a = await m.create()
  const b = await m.create()
  const p1 = await a.app.projects.create({ name: 'one' })
  const p2 = await a.app.projects.create({ name: 'two' })
  const invite = await a.app.projects.invite(p1.key)
  t.is(
    await code(b.app.projects.join('this is not an invite code at all, clearly not')),
    'INVITE_MALFORMED'
  )
  t.is(await code(b.app.projects.join(invite.code.slice(0, 70))), 'INVITE_CORRUPT', 'truncated')
  t.is(
    await code(b.app.projects.join(invite.code.slice(0, -1))),
    'INVITE_CORRUPT',
    'missing its last character: damaged, not expired'
  )
  const at = 60
  const changed =
    invite.code.slice(0, at) + (invite.code[at] === 'y' ? 'b' : 'y') + invite.code.slice(at + 1)
  t.is(await code(b.app.projects.join(changed)), 'INVITE_CORRUPT', 'one character changed')
  t.is(await code(b.app.projects.join(invite.code, { project: p2.key })), 'INVITE_WRONG_PROJECT')
  t.is(await code(b.app.projects.join('abc')), 'INVITE_MALFORMED', 'short garbage')
  t.is(await code(b.app.projects.join('l'.repeat(52))), 'KEY_MALFORMED', 'key-length garbage')
  t.is(b.node.projects.list().length, 0, 'nothing was added')
})

test('invites - expired (by its code, and tampered to look unexpired) and already used', async (t) => {
  const m = await mesh(t)
  // the inviter and the first joiner share a clock the test moves: an hour passes at once
  const clock = new ManualClock()
  const [a, b] = [await m.create({ clock }), await m.create({ clock })]
  const [c, d] = [await m.create(), await m.create()]
  const { key } = await a.app.projects.create({ name: 'p' })
  const short = await a.app.projects.invite(key, { expires: 3600_000 })
  t.is(short.expires, clock.now() + 3600_000, 'expiry taken from the node clock')
  clock.advance(3600_000)
  t.is(
    await code(b.app.projects.join(short.code)),
    'INVITE_EXPIRED',
    'expired code refused locally'
  )
  // a candidate that rewrites the expiry inside the code is still refused by the member
  const decoded = decodeInviteCode(short.code)
  const seed = BlindPairing.decodeInvite(decoded.invite).seed
  const forged = BlindPairing.createInvite(decodeKey(key), { expires: 0, seed } as never)
  t.is(
    await code(b.app.projects.join(encodeInviteCode(forged.invite))),
    'INVITE_EXPIRED',
    'member enforces the expiry it issued'
  )

  const once = await a.app.projects.invite(key, { uses: 1 })
  t.is(await code(c.app.projects.join(once.code)), 'OK', 'first use joins')
  t.is(await code(d.app.projects.join(once.code)), 'INVITE_USED', 'second use refused')
  t.is(d.node.projects.list().length, 0, 'the refused node holds nothing')
})

test('invites - a code spliced onto another project is not admitted there', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create(), await m.create()]
  const p1 = await a.app.projects.create({ name: 'one' })
  const p2 = await a.app.projects.create({ name: 'two' })
  const inv = await a.app.projects.invite(p1.key)
  await a.app.projects.invite(p2.key) // p2 listens for joiners too
  const seed = BlindPairing.decodeInvite(decodeInviteCode(inv.code).invite).seed
  const spliced = BlindPairing.createInvite(decodeKey(p2.key), {
    expires: Date.now() + 60_000,
    seed
  } as never)
  // the members of p2 do not know this invite: they stay silent and the joiner gives up
  t.is(
    await code(b.app.projects.join(encodeInviteCode(spliced.invite), { timeout: 3000 })),
    'TIMEOUT'
  )
  t.is(b.node.projects.list().length, 0, 'nothing was added')
  const members = await (await a.node.projects.resolve(p2.key)).view.members()
  t.is(members.length, 1, 'p2 still has only its creator')
})

test('invites - two joiners race for a one-use invite: exactly one wins', async (t) => {
  const m = await mesh(t)
  const [a, b, c] = [await m.create(), await m.create(), await m.create()]
  const { key } = await a.app.projects.create({ name: 'race' })
  const once = await a.app.projects.invite(key, { uses: 1 })
  const results = await Promise.all([
    code(b.app.projects.join(once.code)),
    code(c.app.projects.join(once.code))
  ])
  t.alike(results.slice().sort(), ['INVITE_USED', 'OK'], `results: ${results.join(', ')}`)
  const members = (await (await a.node.projects.resolve(key)).view.members()).filter(
    (x) => !x.removed
  )
  t.is(members.length, 2, 'creator plus one joiner')
})

test('invites - an admin invite makes an admin; a member cannot invite admins', async (t) => {
  const m = await mesh(t)
  const [a, b, c] = [await m.create(), await m.create(), await m.create()]
  const { key } = await a.app.projects.create({ name: 'roles' })
  const joined = await b.app.projects.join(
    (await a.app.projects.invite(key, { role: 'admin' })).code
  )
  t.is(joined.role, 'admin')
  const asMember = await c.app.projects.join(
    (await b.app.projects.invite(key, { role: 'member' })).code
  )
  t.is(asMember.role, 'member', 'an admin other than the creator admits members')
  t.is(await code(c.app.projects.invite(key, { role: 'admin' })), 'NOT_ALLOWED')
})

/** Wait until `n` holds the invite record (it travels in the project, like any op). */
async function knows(n: TestNode, key: string, id: string): Promise<void> {
  const p = await n.node.projects.resolve(key)
  await until(n.node, async () => (await p.view.invite(id)) !== null, 20_000, 'the invite record')
}

test('invites - any member admits an invite while its issuer is offline', async (t) => {
  const m = await mesh(t)
  const [a, b, c] = [await m.create(), await m.create(), await m.create()]
  const { key } = await a.app.projects.create({ name: 'p' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  const inv = await a.app.projects.invite(key, { uses: 2 })
  await knows(b, key, inv.id)
  await a.node.close() // the issuer is gone
  const admitted: string[] = []
  b.node.invites.on('invite-admitted', (e) => admitted.push(e.writer))
  const joined = await c.app.projects.join(inv.code)
  t.is(joined.role, 'member', 'C joined through B')
  t.alike(admitted, [(await c.node.projects.resolve(key)).writerId], 'B admitted C')
  const record = await (await b.node.projects.resolve(key)).view.invite(inv.id)
  t.is(record?.used, 1, 'the use is counted in the project')
  await c.app.content.post(key, 'hello from C')
  await converged([b, c], key)
  t.is((await b.app.content.feed(key)).length, 1, 'C writes')
})

test('invites - a one-use invite raced by two joiners through two other members: one writer everywhere, a clear error for the other', async (t) => {
  t.timeout(120_000)
  const m = await mesh(t)
  const nodes = [
    await m.create(),
    await m.create(),
    await m.create(),
    await m.create(),
    await m.create()
  ]
  const [a, b, c, d, e] = nodes as [TestNode, TestNode, TestNode, TestNode, TestNode]
  const { key } = await a.app.projects.create({ name: 'race' })
  for (const n of [b, c]) await n.app.projects.join((await a.app.projects.invite(key)).code)
  const once = await a.app.projects.invite(key, { uses: 1 })
  await knows(b, key, once.id)
  await knows(c, key, once.id)
  await a.node.close() // only B and C can admit
  const by = new Map<TestNode, number>([
    [b, 0],
    [c, 0]
  ])
  for (const n of [b, c])
    n.node.invites.on('invite-admitted', () => by.set(n, (by.get(n) ?? 0) + 1))
  const results = await Promise.all([
    code(d.app.projects.join(once.code)),
    code(e.app.projects.join(once.code))
  ])
  t.alike([...results].sort(), ['INVITE_USED', 'OK'], `results: ${results.join(', ')}`)
  t.comment(`admitted by B: ${by.get(b)}, by C: ${by.get(c)}`)
  const [winner, loser] = results[0] === 'OK' ? [d, e] : [e, d]
  t.is(loser.node.projects.list().length, 0, 'the other joiner holds nothing')
  await converged([b, c, winner], key)
  for (const n of [b, c, winner]) {
    const p = await n.node.projects.resolve(key)
    const active = (await p.view.members()).filter((x) => !x.removed).map((x) => x.profile)
    t.alike(
      active.sort(),
      [a, b, c, winner].map((x) => x.node.profile.profileHex).sort(),
      'the same members on every peer: the winner only'
    )
    t.is((await p.view.invite(once.id))?.used, 1, 'one use counted')
  }
})

test('invites - list and revoke: admins or the maker revoke, a revoked invite admits nobody', async (t) => {
  const m = await mesh(t)
  const [a, b, c] = [await m.create(), await m.create(), await m.create()]
  const { key } = await a.app.projects.create({ name: 'p' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  const inv = await a.app.projects.invite(key, { uses: 5 })
  const mine = await b.app.projects.invite(key)
  await knows(b, key, inv.id)
  const open = (await b.app.projects.invites(key)).filter((i) => i.open).map((i) => i.id)
  t.alike(open.sort(), [inv.id, mine.id].sort(), 'both open invites listed on B')
  t.is(
    await code(b.app.projects.uninvite(key, inv.id)),
    'NOT_ALLOWED',
    "a member cannot revoke an admin's invite"
  )
  t.is(
    (await b.app.projects.uninvite(key, mine.id.slice(0, 8))).revoked,
    true,
    'the maker revokes its own, by prefix'
  )
  const revoked = await a.app.projects.uninvite(key, inv.id)
  t.ok(revoked.revoked && !revoked.open, 'an admin revokes any invite')
  t.is(await code(a.app.projects.uninvite(key, inv.id)), 'INVALID_INPUT', 'not twice')
  t.is(await code(a.app.projects.uninvite(key, 'ffffffff')), 'NOT_FOUND')
  t.is(
    await code(c.app.projects.join(inv.code, { timeout: 20_000 })),
    'INVITE_REJECTED',
    'the joiner is told the invite was revoked'
  )
  t.is(c.node.projects.list().length, 0, 'nothing added')
  await knows(a, key, mine.id)
  t.is((await a.app.projects.invites(key)).filter((i) => i.open).length, 0, 'no open invite left')
})

test('invites - two members spend the last use of an invite while apart: once they meet, one winner on every peer', async (t) => {
  const m = await mesh(t)
  const [a, b, c, d, e] = [
    await m.create(),
    await m.create(),
    await m.create(),
    await m.create(),
    await m.create()
  ]
  const { key } = await a.app.projects.create({ name: 'apart' })
  for (const n of [b, c]) await n.app.projects.join((await a.app.projects.invite(key)).code)
  const once = await a.app.projects.invite(key, { uses: 1 })
  await knows(b, key, once.id)
  await knows(c, key, once.id)
  await converged([a, b, c], key)
  // B and C lose each other (and A): each admits its own joiner with the same last use
  await b.app.admission.setToggle('pause', true)
  await c.app.admission.setToggle('pause', true)
  const [pb, pc] = [await b.node.projects.resolve(key), await c.node.projects.resolve(key)]
  const writers = new Map<TestNode, string>()
  const proofOf = async (n: TestNode): Promise<ReturnType<typeof createWriterProof>> => {
    const { writer } = await n.node.projects.futureWriter(pb.discoveryKey)
    writers.set(n, writer.toString('hex'))
    return createWriterProof(n.node.profile.keys as DeviceKeys, pb.discoveryKey, writer)
  }
  const add = { type: 'member/add', role: 'member', invite: once.id } as const
  await pb.append({ ...add, as: await proofOf(d) })
  await pc.append({ ...add, as: await proofOf(e) })
  const member = async (p: typeof pb, n: TestNode): Promise<boolean> => {
    const r = await p.view.member(n.node.profile.profileHex)
    return r !== null && !r.removed
  }
  t.ok((await member(pb, d)) && (await member(pc, e)), 'apart, each sees its own joiner in')
  await b.app.admission.setToggle('pause', false)
  await c.app.admission.setToggle('pause', false)
  await converged([a, b, c], key)
  const outcome: string[] = []
  for (const n of [a, b, c]) {
    const p = await n.node.projects.resolve(key)
    const [inD, inE] = [await member(p, d), await member(p, e)]
    t.ok(inD !== inE, 'exactly one of the two joiners is a member')
    t.is((await p.view.invite(once.id))?.used, 1, 'one use counted')
    const lost = inD ? e : d
    t.is(
      (await p.view.denied(writers.get(lost) ?? ''))?.reason,
      'invite used up',
      'the loser is on record'
    )
    outcome.push(inD ? 'D' : 'E')
  }
  t.is(new Set(outcome).size, 1, `the same winner on every peer (${outcome[0]})`)
})
