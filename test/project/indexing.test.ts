import test, { type Test } from 'brittle'
import { mesh, converged, until, type TestNode } from '../helpers/index.js'
import { ManualClock } from '../../src/util/clock.js'
import { encodeKey } from '../../src/identity/keys.js'

const DAY = 24 * 3600_000

/** The indexers at the tip and as signed: a change counts once the old quorum has signed it. */
async function indexersOf(n: TestNode, key: string): Promise<{ tip: string[]; signed: string[] }> {
  const p = await n.node.projects.resolve(key)
  await p.update()
  return { tip: p.tipIndexers(), signed: await p.signedIndexers() }
}

async function writerOf(n: TestNode, key: string): Promise<string> {
  return (await n.node.projects.resolve(key)).writerId
}

/** Wait until every node sees exactly `want` as the project's indexers, at the tip and signed. */
async function indexedBy(nodes: TestNode[], key: string, want: string[], timeout = 30_000) {
  const sorted = JSON.stringify([...want].sort())
  const short = (ws: string[]): string => ws.map((w) => w.slice(0, 6)).join(',')
  for (const n of nodes) {
    let last = { tip: [] as string[], signed: [] as string[] }
    await until(
      n.node,
      async () => {
        last = await indexersOf(n, key)
        return JSON.stringify(last.tip) === sorted && JSON.stringify(last.signed) === sorted
      },
      timeout,
      () =>
        `${n.name}: indexers ${short(want)} (tip ${short(last.tip)}, signed ${short(last.signed)})`
    )
  }
}

/** A (the creator and sole indexer, on a home it restarts from) and B, a member; converged. */
async function restartable(t: Test) {
  const m = await mesh(t)
  const aHome = await t.tmp()
  const a = await m.create({ name: 'A', home: aHome })
  const b = await m.create({ name: 'B' })
  const { key } = await a.app.projects.create({ name: 'p' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  await converged([a, b], key)
  return { m, aHome, a, b, key }
}

async function signed(n: TestNode, key: string): Promise<number> {
  const p = await n.node.projects.resolve(key)
  await p.update()
  return p.base.view.core.signedLength
}

/** The signed prefix of both nodes passed `after`, and both agree on it. */
async function signedAgree(x: TestNode, y: TestNode, key: string, after: number): Promise<number> {
  let s = 0
  await until(
    x.node,
    async () => {
      s = Math.min(await signed(x, key), await signed(y, key))
      return s > after
    },
    60_000,
    () => `the signed prefix to pass ${after} on both (now ${s})`
  )
  const [px, py] = [await x.node.projects.resolve(key), await y.node.projects.resolve(key)]
  const [hx, hy] = [await px.base.view.core.treeHash(s), await py.base.view.core.treeHash(s)]
  if (!hx.equals(hy)) throw new Error(`different views at signed length ${s}`)
  return s
}

test('indexing - three members index; the creator goes offline for good; the others keep signing and agree', async (t) => {
  const m = await mesh(t)
  const [a, b, c] = [
    await m.create({ name: 'A' }),
    await m.create({ name: 'B' }),
    await m.create({ name: 'C' })
  ]
  const { key } = await a.app.projects.create({ name: 'p' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  t.alike(
    (await indexersOf(a, key)).tip,
    [await writerOf(a, key)],
    'two members: one indexer (never 2-of-2)'
  )
  await c.app.projects.join((await a.app.projects.invite(key)).code)
  const all = [await writerOf(a, key), await writerOf(b, key), await writerOf(c, key)]
  await indexedBy([a, b, c], key, all) // three members: all three index
  const shown = await c.app.projects.show(key)
  t.is(shown.memberList.filter((x) => x.signs).length, 3, '`project show` marks the three signers')
  t.ok(!shown.signersChanging && shown.signedLength > 0, `signed ${shown.signedLength} blocks`)
  await a.node.close() // the creator is gone for good
  const before = Math.max(await signed(b, key), await signed(c, key))
  for (let i = 0; i < 5; i++) {
    await b.app.content.post(key, `b ${i}`)
    await c.app.content.post(key, `c ${i}`)
  }
  const s = await signedAgree(b, c, key, before)
  t.ok(
    s > before,
    `the signed prefix grew without the creator (${before} -> ${s}), same view at ${s}`
  )
})

test('indexing - the creator leaves: another member becomes admin and indexer, the project goes on', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create({ name: 'A' }), await m.create({ name: 'B' })]
  const { key } = await a.app.projects.create({ name: 'p' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  await a.app.content.post(key, 'from the creator')
  await converged([a, b], key)
  const aProfile = a.node.profile.profileHex
  await a.app.projects.leave(key)
  t.is(a.node.projects.list().length, 0, "the creator's node no longer holds it")
  const pb = await b.node.projects.resolve(key)
  const me = await until(b.node, async () => {
    const gone = (await pb.view.member(aProfile))?.removed
    const self = await pb.view.member(b.node.profile.profileHex)
    return gone && self?.role === 'admin' ? self : null
  })
  t.is(me.role, 'admin', 'admin rights passed on to B')
  await b.app.content.post(key, 'B goes on')
  await indexedBy([b], key, [await writerOf(b, key)]) // B indexes alone
  const before = await signed(b, key)
  await b.app.content.post(key, 'and signs')
  await until(b.node, async () => (await signed(b, key)) > before, 30_000, 'B to sign alone')
  t.alike(
    (await b.app.content.feed(key)).map((p) => p.text),
    ['from the creator', 'B goes on', 'and signs'],
    'nothing lost'
  )
  t.is(
    (await b.app.projects.show(key)).creator,
    encodeKey(Buffer.from(aProfile, 'hex')),
    'the creator is still on record'
  )
})

test('indexing - an indexer away for long is replaced by a member who is around (mesh time, the same on every peer)', async (t) => {
  t.timeout(180_000)
  const m = await mesh(t)
  const clock = new ManualClock()
  const a = await m.create({ name: 'A' })
  const [b, c, d] = [
    await m.create({ name: 'B', clock }),
    await m.create({ name: 'C', clock }),
    await m.create({ name: 'D', clock })
  ]
  const { key } = await a.app.projects.create({ name: 'p' })
  for (const n of [b, c, d]) await n.app.projects.join((await a.app.projects.invite(key)).code)
  const [wa, wb, wc, wd] = await Promise.all([a, b, c, d].map((n) => writerOf(n, key)))
  // admins first, then the order members joined: A, B, C
  await indexedBy([a, b, c, d], key, [wa!, wb!, wc!])
  await a.node.close() // A is away...
  clock.advance(DAY)
  for (const n of [b, c, d]) await n.app.content.post(key, 'a day later')
  await converged([b, c, d], key)
  t.alike(
    (await indexersOf(d, key)).tip,
    [wa!, wb!, wc!].sort(),
    'away for one day is not long: A keeps its seat'
  )
  clock.advance(2 * DAY) // three days pass for the members still around
  // (two rounds: an op's time is held within 10 min of the mesh clock, the lower median of the
  // clocks of the writers it has seen, which moves once most writers have reported the jump)
  for (const round of [1, 2]) {
    for (const n of [b, c, d]) await n.app.content.post(key, `three days later ${round}`)
    await converged([b, c, d], key)
  }
  // A, away for three days of mesh time, gives its seat to D; B and C sign the change
  await indexedBy([b, c, d], key, [wb!, wc!, wd!], 60_000)
  const before = Math.max(await signed(c, key), await signed(d, key))
  await c.app.content.post(key, 'signed again')
  await d.app.content.post(key, 'by those around')
  const s = await signedAgree(c, d, key, before)
  t.ok(s > before, `the signed prefix moves with the new indexers (${before} -> ${s})`)
  await converged([b, c, d], key)
  t.is((await b.app.content.feed(key)).length, 11, 'every post on every peer')
})

test('indexing - removing an indexer hands indexing over with no op lost', async (t) => {
  const m = await mesh(t)
  const nodes = [
    await m.create({ name: 'A' }),
    await m.create({ name: 'B' }),
    await m.create({ name: 'C' }),
    await m.create({ name: 'D' })
  ]
  const [a, b, c, d] = nodes as [TestNode, TestNode, TestNode, TestNode]
  const { key } = await a.app.projects.create({ name: 'p' })
  for (const n of [b, c, d]) await n.app.projects.join((await a.app.projects.invite(key)).code)
  const [wa, wb, wc, wd] = await Promise.all(nodes.map((n) => writerOf(n, key)))
  await indexedBy(nodes, key, [wa!, wb!, wc!])
  // while the admin removes B, C keeps writing
  const writes = (async () => {
    for (let i = 0; i < 10; i++) await c.app.content.post(key, `c ${i}`)
  })()
  const pa = await a.node.projects.resolve(key)
  await pa.append({ type: 'member/remove', profile: b.node.profile.profileHex })
  await writes
  await d.app.content.post(key, 'd writes, becomes active')
  await indexedBy([a, c, d], key, [wa!, wc!, wd!]) // B removed: D indexes in its place
  await converged([a, c, d], key)
  for (const n of [a, c, d]) {
    t.is((await n.app.content.feed(key)).length, 11, 'no op lost')
  }
})

test('indexing - a restarted indexer converges with its peers, 20 rounds in a row', async (t) => {
  t.timeout(300_000)
  const { m, aHome, b, key, ...first } = await restartable(t)
  let a = first.a
  const bounds: number[] = []
  for (let round = 0; round < 20; round++) {
    await a.node.close()
    // a member writes while the sole indexer is away...
    await b.app.content.post(key, `b while away ${round}`)
    await b.app.content.post(key, `b again ${round}`)
    a = await m.create({ home: aHome })
    // ...and the indexer writes at once after its restart, concurrently
    await a.app.content.post(key, `a after restart ${round}`)
    const t0 = Date.now()
    await converged([a, b], key, 30_000)
    bounds.push(Date.now() - t0)
  }
  t.comment(`20 rounds, each converged within 30 s (slowest ${Math.max(...bounds)} ms)`)
  t.is((await b.app.content.feed(key)).length, 60, 'every post everywhere')
})

test("indexing - revoking an indexer's device hands its seat to the profile's other device, with no op lost", async (t) => {
  t.timeout(180_000)
  const m = await mesh(t)
  const cy = await m.create({ name: 'Cy' })
  const d = await m.create({ name: 'D' })
  const laptop = await m.create({ name: 'Ada' })
  const phone = await m.create({ name: 'phone', noProfile: true })
  await phone.node.links.join((await laptop.node.links.create()).code, {
    passphrase: null,
    timeout: 30_000
  })
  const { key } = await cy.app.projects.create({ name: 'p' })
  await d.app.projects.join((await cy.app.projects.invite(key)).code)
  // Ada joins on her phone first: the phone's writer is her seat among the indexers
  await phone.app.projects.join((await cy.app.projects.invite(key)).code)
  const pl = await until(
    laptop.node,
    async () => {
      const p = await laptop.node.projects.resolve(key).catch(() => null)
      return p?.writable ? p : null
    },
    60_000,
    "the laptop to join its profile's project"
  )
  const [wc, wd, wphone] = await Promise.all([cy, d, phone].map((n) => writerOf(n, key)))
  await indexedBy([cy, d, phone], key, [wc!, wd!, wphone!])
  // the phone is lost: the laptop revokes it while D keeps writing
  const writes = (async () => {
    for (let i = 0; i < 10; i++) await d.app.content.post(key, `d ${i}`)
  })()
  const { projects } = await laptop.node.devices.revoke(
    encodeKey(phone.node.profile.keys!.device.publicKey)
  )
  t.is(projects, 1, 'revoked in the project')
  await writes
  await phone.node.close()
  await laptop.app.content.post(key, 'from the laptop')
  await indexedBy([cy, d, laptop], key, [wc!, wd!, pl.writerId], 60_000)
  const before = await signed(cy, key)
  await cy.app.content.post(key, 'signed on')
  await signedAgree(cy, d, key, before)
  await converged([cy, d, laptop], key)
  for (const n of [cy, d, laptop]) {
    t.is((await n.app.content.feed(key)).length, 12, 'no op lost')
  }
})

test("indexing - a node closed while it applies its peers' ops restarts with the view they have (20 rounds)", async (t) => {
  t.timeout(300_000)
  const { m, aHome, b, key, ...first } = await restartable(t)
  let a = first.a
  let posts = 0
  const slowest: number[] = []
  for (let round = 0; round < 20; round++) {
    // A (the sole indexer) is closed while it applies B's new ops: 0-7 ms after the first of
    // them shows in its system core
    const pa = await a.node.projects.resolve(key)
    const start = pa.base.core.length
    const closing = new Promise<void>((resolve) => {
      const onUpdate = (): void => {
        if (pa.base.core.length <= start) return
        pa.off('update', onUpdate)
        // the project first (as soon as possible), then the rest of the node
        const node = a.node
        setTimeout(() => resolve(pa.close().then(() => node.close())), round % 8)
      }
      pa.on('update', onUpdate)
    })
    for (const i of [1, 2, 3]) await b.app.content.post(key, `b ${round} ${i}`)
    await closing
    // ...B writes on while A is away, and A writes at once after its restart
    await b.app.content.post(key, `b ${round} later`)
    a = await m.create({ home: aHome })
    await a.app.content.post(key, `a ${round}`)
    posts += 5
    const t0 = Date.now()
    await converged([a, b], key, 15_000)
    slowest.push(Date.now() - t0)
  }
  t.comment(`every round converged (slowest ${Math.max(...slowest)} ms)`)
  t.is((await b.app.content.feed(key)).length, posts, 'every post everywhere')
})
