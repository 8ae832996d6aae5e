import test from 'brittle'
import { mesh, converged, errorCode, until, type TestNode } from '../helpers/index.js'
import crypto from 'hypercore-crypto'
import { decodeKey } from '../../src/identity/keys.js'
import { firstViewCores } from '../../src/services/first-views.js'
import { coresOf, purgeCores } from '../../src/services/projects.js'

/** Wait (bounded) until `node`'s profile lists `project` again. */
async function inProfileAgain(node: TestNode, project: { key: Buffer }): Promise<void> {
  const hex = project.key.toString('hex')
  await until(
    node.node,
    async () => (await node.node.profile.base!.view.projects()).some((p) => p.key === hex),
    20_000,
    'the project in the profile again'
  )
}

// A member leaves (its copy of the project is deleted) and joins again on the same running
// node. The first view cores of a copy (src/services/first-views.ts) have keys made from the
// project key alone, so the new copy opens the ones the old copy applied into; left on disk,
// they closed the new base (invite: SESSION_CLOSED after "Cannot read properties of null
// (reading 'download')" in Autobase's ApplyState.update; key: DECODING_ERROR).
test('rejoin - a member that left joins again with a fresh invite and writes', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create({ name: 'Ada' }), await m.create({ name: 'Bob' })]
  const { key } = await a.app.projects.create({ name: 'again' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  await b.app.content.post(key, 'first time')
  await converged([a, b], key)
  const first = firstViewCores(decodeKey(key, 'project key'))
  t.alike(
    await storedOf(b, first),
    [true, true, true],
    'the first view cores, as derived, are used'
  )
  await b.app.projects.leave(key)
  t.alike(await storedOf(b, first), [false, false, false], 'leaving deleted them')
  const pa = await a.node.projects.resolve(key)
  const bob = b.node.profile.profileHex
  await until(a.node, async () => (await pa.view.member(bob))?.removed === true, 20_000, 'leave')
  const joined = await b.app.projects.join((await a.app.projects.invite(key)).code)
  t.ok(joined.writable, 'writable after the join')
  const post = await b.app.content.post(key, 'second time')
  t.is(post.text, 'second time', 'it posts')
  await converged([a, b], key)
  t.alike(
    (await a.app.content.feed(key)).map((p) => p.text),
    ['first time', 'second time'],
    'both posts on the other member'
  )
  await inProfileAgain(b, pa)
  t.pass('the project is in the profile again')
})

test('rejoin - a member that left holds the project by key, then joins with an invite', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create({ name: 'Ada' }), await m.create({ name: 'Bob' })]
  const { key } = await a.app.projects.create({ name: 'by key' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  await b.app.content.post(key, 'first time')
  await converged([a, b], key)
  await b.app.projects.leave(key)
  await a.app.content.post(key, 'while Bob was away')
  const joined = await b.app.projects.join(key)
  t.is(joined.readable, false, 'held by key: not readable (the leave deleted the key)')
  t.is(joined.writable, false, 'held by key: not writable')
  const pa = await a.node.projects.resolve(key)
  const pb = await b.node.projects.resolve(key)
  await until(
    b.node,
    () => pb.base.local !== null && pb.failure === null && hostHolds(b, key, pa.base.local.length),
    20_000,
    'the encrypted blocks to replicate'
  )
  t.is(pb.failure, null, 'the base is running')
  t.is(await errorCode(b.app.content.feed(key)), 'PROJECT_UNREADABLE', 'reading is refused')
  t.is(await errorCode(b.app.projects.show(key)), 'OK', 'it is shown')

  // an invite from there: the copy held by key becomes a member's (it waited for ever on the
  // lock of its own writer core, which the running copy held)
  const again = await b.app.projects.join((await a.app.projects.invite(key)).code, {
    timeout: 20_000
  })
  t.ok(again.writable && again.readable, 'a writer that reads, with an invite')
  t.is((await b.app.content.post(key, 'back')).text, 'back', 'it posts')
  await converged([a, b], key)
  await inProfileAgain(b, pa)
  t.pass('the project is in the profile again')
})

function storedOf(n: TestNode, keys: Buffer[]): Promise<boolean[]> {
  return Promise.all(keys.map((k) => n.node.store.storage.hasCore(crypto.discoveryKey(k))))
}

/** Whether `n` holds the first `length` blocks of the project's bootstrap core. */
async function hostHolds(n: TestNode, key: string, length: number): Promise<boolean> {
  const boot = n.node.store.get({ key: decodeKey(key, 'project key'), active: false })
  await boot.ready()
  const held = boot.contiguousLength >= length
  await boot.close()
  return held
}

test('rejoin - a node that left with an older Flux is healed when it joins again', async (t) => {
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const home = await t.tmp()
  let b = await m.create({ name: 'Bob', home })
  const { key } = await a.app.projects.create({ name: 'older' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  await b.app.content.post(key, 'first time')
  await converged([a, b], key)
  // the leave as Flux did it before: removed, no longer held, every core it knew deleted but
  // the first view cores
  const pb = await b.node.projects.resolve(key)
  const first = firstViewCores(pb.key)
  const hex = pb.key.toString('hex')
  await pb.append({ type: 'member/remove', profile: b.node.profile.profileHex })
  const pa = await a.node.projects.resolve(key)
  const bob = b.node.profile.profileHex
  await until(a.node, async () => (await pa.view.member(bob))?.removed === true, 20_000, 'leave')
  const isFirst = (k: Buffer): boolean => first.some((f) => f.equals(k))
  const cores = (await coresOf(pb)).filter((k) => !isFirst(k))
  await b.node.profileProjects.forget(hex)
  await b.node.projects.release(hex)
  await b.node.state.deleteProject(hex)
  await purgeCores(b.node.store, cores)
  t.alike(await storedOf(b, first), [true, true, true], 'the first view cores are left over')
  await b.node.close()
  b = await m.create({ home })

  const joined = await b.app.projects.join((await a.app.projects.invite(key)).code, {
    timeout: 20_000
  })
  t.ok(joined.writable, 'writable after the join')
  t.is((await b.app.content.post(key, 'second time')).text, 'second time', 'it posts')
  await converged([a, b], key)
  t.alike(
    (await a.app.content.feed(key)).map((p) => p.text),
    ['first time', 'second time'],
    'both posts on the other member'
  )
})
