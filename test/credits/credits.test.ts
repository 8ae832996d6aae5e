/**
 * Credits and achievements: every peer computes the same totals from the evidence in the
 * project, forged evidence counts nowhere, a ring stays within its budget, decay follows the
 * documented rule. Real nodes on a loopback testnet, time on one injectable clock.
 */
import test, { type Test } from 'brittle'
import { mesh, converged, until, type TestNode } from '../helpers/index.js'
import { ManualClock } from '../../src/util/clock.js'
import { KDF_INTERACTIVE } from '../../src/identity/keyfile.js'
import { BUDGET, EPOCH, epochOf, fold, emptyCredits } from '../../src/project/credits.js'
import { decodeKey, toHex } from '../../src/identity/keys.js'
import type { ProjectCredits } from '../../src/api.js'

/** A clock at the start of an epoch, shared by every node of a test. */
function epochClock(): ManualClock {
  return new ManualClock((epochOf(Date.now()) + 1) * EPOCH)
}

async function team(t: Test, n: number, clock: ManualClock) {
  const m = await mesh(t)
  const nodes: TestNode[] = []
  for (let i = 0; i < n; i++) nodes.push(await m.create({ name: `M${i}`, clock }))
  const a = nodes[0] as TestNode
  const { key } = await a.app.projects.create({ name: 'kiln' })
  for (const x of nodes.slice(1)) {
    const { code } = await a.app.projects.invite(key)
    await x.app.projects.join(code)
  }
  await converged(nodes, key)
  return { nodes, key }
}

/** Wait until every node sees every other one connected with its profile proven. */
async function allConnected(nodes: TestNode[]): Promise<void> {
  for (const n of nodes) {
    await until(
      n.node,
      () =>
        [...n.node.network.sessions.values()].filter((s) => s.admitted && s.identity !== null)
          .length >=
        nodes.length - 1,
      30_000,
      'every member connected'
    )
  }
}

async function creditsOf(n: TestNode, key: string): Promise<ProjectCredits> {
  return (await n.app.credits.credits(key))[0] as ProjectCredits
}

function totalsByName(r: ProjectCredits): Record<string, number[]> {
  const out: Record<string, number[]> = {}
  for (const m of r.members) {
    out[m.name ?? m.profile] = [m.contributions, m.uptime, m.hosting, m.support, m.total]
  }
  return out
}

test('credits - three members over three epochs: identical totals everywhere, as counted by hand', async (t) => {
  t.timeout(180_000)
  const clock = epochClock()
  const { nodes, key } = await team(t, 3, clock)
  const [a, b, c] = nodes as [TestNode, TestNode, TestNode]
  for (const [i, n] of nodes.entries()) await n.app.content.setName(key, `M${i}`)
  await allConnected(nodes)
  const task = await c.app.content.addTask(key, 'fire the kiln')
  await c.app.content.setTask(key, task.id, { done: true })
  for (let epoch = 0; epoch < 3; epoch++) {
    if (epoch > 0) clock.advance(EPOCH)
    for (const [i, n] of nodes.entries()) await n.app.content.post(key, `epoch ${epoch} from M${i}`)
    await converged(nodes, key)
    for (const n of nodes) await n.node.credits.attestAll()
    await converged(nodes, key)
  }
  const reports = await Promise.all(nodes.map((n) => creditsOf(n, key)))
  t.ok(
    reports.every((r) => r.hash === reports[0]?.hash),
    `every peer has the same credits hash (${reports[0]?.hash.slice(0, 16)})`
  )
  // by hand: contributions = posts (+ C's task and its done); uptime = one per epoch seen by
  // another member; support = B and C attest A, who let them in
  t.alike(
    totalsByName(reports[0] as ProjectCredits),
    {
      M0: [3, 3, 0, 2, 8],
      M1: [3, 3, 0, 0, 6],
      M2: [5, 3, 0, 0, 8]
    },
    'the totals match the hand count'
  )
  const firsts = await a.app.credits.achievements(key)
  const ids = firsts.map((x) => `${x.name}:${x.id}`).sort()
  t.ok(ids.includes('M0:helper') && ids.includes('M2:online-3'), ids.join(' '))
  const onB = (await b.app.credits.achievements(key)).map((x) => `${x.name}:${x.id}:${x.op}`)
  t.alike(
    onB.sort(),
    firsts.map((x) => `${x.name}:${x.id}:${x.op}`).sort(),
    'the same achievements, unlocked by the same ops, on every peer'
  )
  // a passed proof of hosting against a member is evidence for its hosting credits
  const check = await a.app.hosting.check(c.node.peerId, key)
  t.ok(check.ok && check.attested, 'A checked that C holds the project, and recorded it')
  await converged(nodes, key)
  const hosted = totalsByName(await creditsOf(b, key))
  t.is(hosted.M2?.[2], 1, 'C has one hosting credit, on B too')
  const why = await c.app.credits.explain(key, 'M0')
  t.is(why.evidence.filter((e) => e.kind === 'support').length, 2, 'explain lists the support')
  t.is(why.totals.total, 8, 'and the same total')
})

test('credits - forged and replayed evidence counts nowhere; a ring stays within its budget', async (t) => {
  t.timeout(180_000)
  const clock = epochClock()
  const { nodes, key } = await team(t, 5, clock)
  const [a, b] = nodes as [TestNode, TestNode]
  const pa = await a.node.projects.resolve(key)
  const pb = await b.node.projects.resolve(key)
  const me = (n: TestNode): string => n.node.profile.profileHex
  // only the evidence this test writes: the nodes' own attesting stops, a fresh epoch starts
  for (const n of nodes) await n.node.credits.close()
  clock.advance(EPOCH)
  for (const n of nodes) await n.app.content.post(key, 'a new epoch')
  await converged(nodes, key)
  const epoch = epochOf(clock.now())
  const other = (await a.app.projects.create({ name: 'other' })).key
  const attest = (subject: string, over: Record<string, unknown> = {}) =>
    pa.append({
      type: 'credit/attest',
      kind: 'uptime',
      subject,
      epoch,
      project: toHex(pa.key),
      ...over
    } as never)
  const uptimeOf = async (n: TestNode): Promise<number> =>
    (await creditsOf(n, key)).members.find((m) => toHex(decodeKey(m.profile)) === me(b))?.uptime ??
    0
  const bBefore = await uptimeOf(b)
  const skippedBefore = (await pa.view.system()).skipped
  await attest(me(a)) // for itself
  await attest('ab'.repeat(32)) // not a member
  await attest(me(b), { project: toHex(decodeKey(other)) }) // evidence for another project
  await attest(me(b), { epoch: epoch + 5 }) // a future epoch
  await attest(me(b)) // counts
  await attest(me(b)) // replayed
  await converged(nodes, key)
  const skipped = (await pa.view.system()).skipped - skippedBefore
  t.is(skipped, 5, 'five of six skipped')
  const reasons = async (n: TestNode): Promise<string[]> => {
    const p = await n.node.projects.resolve(key)
    return (await p.view.skipped()).map((s) => s.reason)
  }
  t.alike(await reasons(a), await reasons(b), 'skipped identically on every peer')
  const ra = await creditsOf(a, key)
  t.is(ra.members.find((m) => m.profile === a.node.profile.entry?.id)?.uptime ?? 0, 0, 'none for A')
  t.is(await uptimeOf(b), bBefore + 1, 'B: one more uptime credit, once')

  // a ring: B attests everyone it can, every kind, this epoch and the one before
  const ring = nodes.slice(1).filter((n) => n !== b)
  const signedByB = async (): Promise<string[]> =>
    (await Promise.all([a, ...ring].map((n) => pb.view.evidence(me(n)))))
      .flat()
      .filter((e) => e.signer === me(b))
      .map((e) => e.op)
  const before = new Set(await signedByB())
  let attempts = 0
  for (const e of [epoch, epoch - 1]) {
    for (const kind of ['uptime', 'hosting']) {
      for (const n of [a, ...ring]) {
        attempts++
        await pb.append({
          type: 'credit/attest',
          kind,
          subject: me(n),
          epoch: e,
          project: toHex(pb.key)
        } as never)
      }
    }
  }
  await converged(nodes, key)
  const byB = (await signedByB()).filter((op) => !before.has(op))
  t.is(byB.length, BUDGET, `B tried ${attempts}, ${BUDGET} count (its budget per epoch)`)
  const ra2 = await creditsOf(a, key)
  const rb2 = await creditsOf(b, key)
  t.is(ra2.hash, rb2.hash, 'A and B agree')
})

test('credits - decay takes the documented share per idle epoch, integers only', (t) => {
  const r = { ...emptyCredits('aa'.repeat(32)), contributions: 100, uptime: 7, lastEpoch: 10 }
  t.is(fold(r, 10, 11).total, 107, 'the next epoch is not idle')
  t.is(fold(r, 10, 12).total, 90 + 6, 'one idle epoch: 10% off each kind, rounded down')
  t.is(fold(r, 10, 13).contributions, 81, 'two idle epochs: 100 -> 90 -> 81')
  t.is(fold(r, 0, 50).total, 107, 'decay off: nothing falls')
  t.is(fold(r, 50, 10_000_000).total, 0, 'long idle: everything goes, without looping forever')
})

test('credits - decay on in a project: an idle member falls, active ones do not, on every peer', async (t) => {
  t.timeout(180_000)
  const clock = epochClock()
  const { nodes, key } = await team(t, 3, clock)
  const [a, b, c] = nodes as [TestNode, TestNode, TestNode]
  for (const [i, n] of nodes.entries()) await n.app.content.setName(key, `M${i}`)
  await a.app.content.setProject(key, { decay: 20 })
  for (const n of nodes) for (let i = 0; i < 5; i++) await n.app.content.post(key, `p${i}`)
  await converged(nodes, key)
  const start = await creditsOf(a, key)
  const startB = totalsByName(start).M1 as number[]
  // B goes offline; A and C go on for three epochs (the mesh clock moves with them)
  await b.node.close()
  const live = [a, c]
  for (let epoch = 1; epoch <= 3; epoch++) {
    clock.advance(EPOCH)
    await a.app.content.post(key, `epoch ${epoch}`)
    await c.app.content.post(key, `epoch ${epoch}`)
    await converged(live, key)
  }
  const after = await Promise.all(live.map((n) => creditsOf(n, key)))
  t.is(after[0]?.hash, after[1]?.hash, 'the same on every peer')
  const report = after[0] as ProjectCredits
  const idle = report.epoch - start.epoch - 1
  t.ok(idle >= 1, `B idle for ${idle} epoch(s) (from epoch ${start.epoch} to ${report.epoch})`)
  let expected = [startB[0], startB[1], startB[2], startB[3]] as number[]
  for (let i = 0; i < idle; i++) expected = expected.map((v) => Math.floor((v * 80) / 100))
  const now = totalsByName(report)
  t.is(
    now.M1?.[4],
    expected.reduce((x, y) => x + y, 0),
    `B fell from ${startB[4]} to ${now.M1?.[4]}`
  )
  t.ok((now.M0?.[4] ?? 0) > (totalsByName(start).M0?.[4] ?? 0), 'A, active, did not fall')
  await a.app.content.setProject(key, { decay: 0 })
  await converged(live, key)
  const undecayed = totalsByName(await creditsOf(a, key))
  t.is(undecayed.M1?.[4], startB[4], 'decay off: B is back to what it earned')
})

test('credits - a member who recovers its profile on a new device sees its credits and achievements again', async (t) => {
  t.timeout(180_000)
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const h = await m.create({ name: 'Host' })
  const { key } = await a.app.projects.create({ name: 'kept' })
  await h.app.projects.join((await a.app.projects.invite(key)).code)
  for (let i = 0; i < 10; i++) await a.app.content.post(key, `post ${i}`)
  await converged([a, h], key)
  const discovery = a.node.profile.entry?.discovery
  await until(
    h.node,
    () => h.node.hosting.hosted().some((x) => x.discovery === discovery),
    30_000,
    'the host to keep the profile'
  )
  const length = a.node.profile.base?.base.local.length ?? 0
  const profileCore = h.node.store.get({ key: a.node.profile.base!.key })
  await profileCore.ready()
  await until(h.node, () => profileCore.contiguousLength >= length, 30_000, 'the profile cores')
  await profileCore.close()
  const before = (await creditsOf(a, key)).members.find((x) => x.name === 'Ada')
  t.is(before?.contributions, 10, 'Ada has 10 contributions')
  const unlocked = (await a.app.credits.achievements(key, 'me')).map((x) => x.id).sort()
  t.alike(unlocked, ['contributor-10', 'first-contribution'], 'and two achievements')
  await a.node.close() // the only device is lost

  const r = await m.create({ noProfile: true, kdf: KDF_INTERACTIVE })
  await r.node.recovery.recover(a.phrase, { passphrase: 'new passphrase', timeout: 30_000 })
  await converged([r, h], key)
  const mine = await creditsOf(r, key)
  const after = mine.members.find((x) => x.name === 'Ada')
  t.is(after?.profile, before?.profile, 'the recovered device is the same profile')
  t.is(after?.contributions, 10, 'its 10 contributions are there')
  t.is(mine.hash, (await creditsOf(h, key)).hash, 'and it computes what the host computes')
  const again = (await r.app.credits.achievements(key, 'me')).map((x) => x.id)
  t.ok(
    unlocked.every((id) => again.includes(id)),
    `its achievements are back (${again.join(', ')})`
  )
})
