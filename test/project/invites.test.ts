import test from 'brittle'
import BlindPairing from 'blind-pairing'
import { mesh, errorCode as code } from '../helpers/index.js'
import { ManualClock } from '../../src/util/clock.js'
import { decodeInviteCode, encodeInviteCode } from '../../src/swarm/codes.js'
import { decodeKey } from '../../src/identity/keys.js'

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
  t.is(await code(b.app.projects.join(invite.code.slice(0, 70))), 'INVITE_MALFORMED', 'truncated')
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
