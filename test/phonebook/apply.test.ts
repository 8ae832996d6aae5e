import test, { type Test } from 'brittle'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import { PhonebookBase } from '../../src/phonebook/base.js'
import {
  PHONEBOOK_LIMITS,
  signEntry,
  type PhonebookLimits,
  type SignedEntry
} from '../../src/phonebook/ops.js'
import { encodeOp } from '../../src/autobase/envelope.js'
import { waitFor } from '../../src/util/until.js'
import { ManualClock } from '../../src/util/clock.js'

const NOW = 1_800_000_000_000
const DAY = 24 * 60 * 60 * 1000

async function open(t: Test, key: Buffer | null, clock: ManualClock, limits?: PhonebookLimits) {
  const store = new Corestore(await t.tmp())
  const base = new PhonebookBase(store, { key, clock, ...(limits ? { limits } : {}) })
  await base.ready()
  t.teardown(async () => {
    await base.close()
    await store.close()
  })
  return { store, base }
}

function link(t: Test, a: Corestore, b: Corestore): void {
  const s1 = a.replicate(true)
  const s2 = b.replicate(false)
  s1.pipe(s2).pipe(s1)
  t.teardown(() => (s1.destroy(), s2.destroy()))
}

const node = () => crypto.keyPair()

function entryOf(
  book: Buffer,
  kp: { publicKey: Buffer; secretKey: Buffer },
  seen: number,
  extra: Partial<SignedEntry> = {}
): SignedEntry {
  const body = {
    peer: kp.publicKey.toString('hex'),
    profile: null,
    hints: ['127.0.0.1:4000'],
    projects: [],
    seen,
    removed: false,
    ...extra
  }
  return signEntry(book, body, kp.secretKey)
}

/** An op as any writer could append it, with its own id and timestamp. */
function op(body: Record<string, unknown>, ts: number): Buffer {
  return encodeOp({ v: 1, id: crypto.randomBytes(16).toString('hex'), ts, ...body } as never)
}

async function reasons(base: PhonebookBase): Promise<string[]> {
  return (await base.view.skips()).map((s) => s.reason)
}

test('phonebook apply - forged entries are skipped identically on two replicas; honest ones are all there', async (t) => {
  const clock = new ManualClock(NOW)
  const a = await open(t, null, clock)
  const b = await open(t, a.base.key, clock)
  link(t, a.store, b.store)
  const book = a.base.key
  const [honestA, honestB, victim, liar] = [node(), node(), node(), node()]

  await a.base.append({ type: 'entry/put', entry: entryOf(book, honestA, NOW) })
  await a.base.append({ type: 'writer/add', key: b.base.writerKey.toString('hex') })
  await b.base.waitWritable(20_000)
  await b.base.append({ type: 'entry/put', entry: entryOf(book, honestB, NOW) })

  // B turns bad: every forgery below is appended raw, as a hostile writer would
  const good = entryOf(book, victim, NOW)
  const badSig = { ...good, sig: entryOf(book, liar, NOW).sig } // someone else's signature
  const otherKey = { ...entryOf(book, liar, NOW), peer: victim.publicKey.toString('hex') }
  const otherBook = entryOf(crypto.randomBytes(32), victim, NOW) // signed for another phonebook
  const future = entryOf(book, liar, NOW + 365 * DAY) // far-future, carried by a current op
  const oversized = entryOf(book, liar, NOW, { hints: Array(40).fill('1.2.3.4:5') })
  const padded = op({ type: 'entry/put', entry: good, pad: 'x'.repeat(5000) }, NOW)
  for (const entry of [badSig, otherKey, otherBook, future, oversized]) {
    await b.base.appendRaw(op({ type: 'entry/put', entry }, NOW))
  }
  await b.base.appendRaw(padded)
  // a replay of A's first entry, and a refresh too soon
  await b.base.appendRaw(op({ type: 'entry/put', entry: entryOf(book, honestA, NOW) }, NOW))
  await b.base.appendRaw(op({ type: 'entry/put', entry: entryOf(book, honestA, NOW + 1000) }, NOW))
  // an honest refresh later is accepted (once A has B's ops: the order of the skips is fixed)
  await waitFor(
    async () => {
      await a.base.update()
      const sys = await a.base.view.system()
      return sys.applied + sys.skipped === 11 ? sys : null
    },
    { emitter: a.base, event: 'update' },
    30_000,
    "A to hold B's ops"
  )
  clock.advance(2 * 60_000)
  await a.base.append({ type: 'entry/put', entry: entryOf(book, honestA, NOW + 2 * 60_000) })

  const settled = async (x: PhonebookBase) => {
    await x.update()
    const sys = await x.view.system()
    return sys.applied + sys.skipped === 12 ? sys : null
  }
  for (const x of [a.base, b.base]) {
    await waitFor(() => settled(x), { emitter: x, event: 'update' }, 30_000, 'every op applied')
  }
  const expect = [
    'entry not signed by its node',
    'entry not signed by its node',
    'entry not signed by its node',
    'entry dated after its op',
    'entry: bad hints',
    'oversized op (5484 bytes)',
    'entry not newer',
    'entry refreshed too soon'
  ]
  const ra = await reasons(a.base)
  t.alike(
    ra.map((r) => r.replace(/\d+ bytes/, 'N bytes')),
    expect.map((r) => r.replace(/\d+ bytes/, 'N bytes')),
    'each forgery skipped, with its reason'
  )
  t.alike(await reasons(b.base), ra, 'the same skips on the other replica')
  t.is(await a.base.hash(), await b.base.hash(), 'the same view hash')
  const peers = (await a.base.view.entries()).map((e) => e.peer).sort()
  t.alike(
    peers,
    [honestA, honestB].map((k) => k.publicKey.toString('hex')).sort(),
    'exactly the honest entries'
  )
  const strikes = await a.base.view.strikes()
  t.alike(
    strikes,
    { [b.base.writerKey.toString('hex')]: 8 },
    'every bad op counted against B, none against A'
  )
  t.is(
    (await a.base.view.entry(honestA.publicKey.toString('hex')))?.seen,
    NOW + 2 * 60_000,
    'the later refresh is kept'
  )
})

test('phonebook apply - bounds: a flood from one writer stops at its cap; a full phonebook reuses expired and removed slots only', async (t) => {
  const clock = new ManualClock(NOW)
  const limits: PhonebookLimits = { ...PHONEBOOK_LIMITS, maxEntries: 4, carriedPerWriter: 3 }
  const a = await open(t, null, clock, limits)
  const book = a.base.key
  const flood = Array.from({ length: 5 }, () => node())
  for (const kp of flood) await a.base.append({ type: 'entry/put', entry: entryOf(book, kp, NOW) })
  await a.base.update()
  t.is((await a.base.view.entries()).length, 3, 'one writer brings in at most 3')
  t.alike((await reasons(a.base)).slice(-2), [
    'writer brought in too many entries',
    'writer brought in too many entries'
  ])

  // a second writer (same node, another namespace) fills the last slot, then hits the cap
  const b = await open(t, book, clock, limits)
  link(t, a.store, b.store)
  await a.base.append({ type: 'writer/add', key: b.base.writerKey.toString('hex') })
  await b.base.waitWritable(20_000)
  const [x, y] = [node(), node()]
  await b.base.append({ type: 'entry/put', entry: entryOf(book, x, NOW) })
  await b.base.append({ type: 'entry/put', entry: entryOf(book, y, NOW) })
  await waitFor(
    async () => {
      await b.base.update()
      const s = await b.base.view.system()
      return s.applied + s.skipped >= 8 ? s : null
    },
    { emitter: b.base, event: 'update' },
    20_000,
    'ops applied'
  )
  t.is((await b.base.view.entries()).length, 4, 'full at 4')
  t.is((await reasons(b.base)).at(-1), 'phonebook full')

  // one node removes itself (a tombstone): its slot goes to the next newcomer
  const gone = flood[0] as ReturnType<typeof node>
  clock.advance(2 * 60_000)
  await a.base.append({
    type: 'entry/put',
    entry: entryOf(book, gone, clock.now(), { removed: true })
  })
  await b.base.append({ type: 'entry/put', entry: entryOf(book, y, NOW) })
  await waitFor(
    async () => {
      await b.base.update()
      return await b.base.view.entry(y.publicKey.toString('hex'))
    },
    { emitter: b.base, event: 'update' },
    20_000,
    'y in'
  )
  t.is(await b.base.view.entry(gone.publicKey.toString('hex')), null, 'the tombstone made room')
  t.is((await b.base.view.entries()).length, 4, 'still at most 4')
})

test('phonebook apply - expiry by mesh time: an entry not refreshed for 30 days is listed no more', async (t) => {
  const clock = new ManualClock(NOW)
  const a = await open(t, null, clock)
  const book = a.base.key
  const [old, fresh] = [node(), node()]
  await a.base.append({ type: 'entry/put', entry: entryOf(book, old, NOW) })
  clock.advance(31 * DAY)
  await a.base.append({ type: 'entry/put', entry: entryOf(book, fresh, clock.now()) })
  await a.base.update()
  const live = (await a.base.view.entries()).map((e) => e.peer)
  t.alike(
    live,
    [fresh.publicKey.toString('hex')],
    'the stale entry expired (mesh time moved with the ops)'
  )
  t.is(
    (await a.base.view.entries({ all: true })).length,
    2,
    'still in the view until its slot is reused'
  )
})
