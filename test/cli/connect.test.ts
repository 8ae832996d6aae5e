import test from 'brittle'
import { cli, waitFor } from './helpers.js'
import fs from 'fs/promises'
import path from 'path'
import type {
  ConnectResult,
  ImportResult,
  NodeStatus,
  PhonebookInfo,
  PhonebookSnapshot
} from '../../src/api.js'

test('cli - flux connect PEER: A and B share one phonebook (same view hash, both entries); clear errors; flux phonebook, --at, export and import (a tampered snapshot refused)', async (t) => {
  t.timeout(180_000)
  const c = cli(t)
  await c.dht()
  const a = await c.up(await t.tmp(), [], { name: 'Ada' })
  const b = await c.up(await t.tmp(), [], { name: 'Bo' })
  const aId = (await c.json<NodeStatus>(a.home, 'status')).peerId
  const bId = (await c.json<NodeStatus>(b.home, 'status')).peerId

  const none = await c.run(a.home, 'phonebook')
  t.is(none.code, 0)
  t.ok(/no phonebook yet/.test(none.stdout), none.stdout.trim())

  const out = await c.json<ConnectResult>(a.home, 'connect', bId)
  t.is(out.peer, bId, 'connected to B')
  t.ok(out.phonebook.shared && out.phonebook.key !== null, 'a phonebook shared')
  const both = await waitFor(
    async () => {
      const [x, y] = [
        await c.json<PhonebookInfo>(a.home, 'phonebook'),
        await c.json<PhonebookInfo>(b.home, 'phonebook')
      ]
      const full = x.entries.length === 2 && y.entries.length === 2
      return full && x.hash === y.hash ? ([x, y] as const) : null
    },
    'both nodes to list the same phonebook',
    60_000,
    250
  )
  t.is(both[0].key, both[1].key, 'the same phonebook key')
  t.is(both[0].hash, both[1].hash, `the same view hash (${both[0].hash?.slice(0, 12)})`)
  t.alike(both[0].entries.map((e) => e.peer).sort(), [aId, bId].sort(), 'both entries')
  const human = await c.run(b.home, 'phonebook')
  t.ok(human.stdout.includes(`phonebook ${both[0].key}`), 'the human listing names it')
  t.ok(human.stdout.includes('(this node)'), human.stdout.trim())
  t.is(both[0].skipped, 0, 'no op skipped in an honest exchange')
  const status = await c.run(a.home, 'status')
  t.ok(/phonebook\s+2 entries, announced on the mesh/.test(status.stdout), 'flux status shows it')

  const early = await c.json<PhonebookInfo>(a.home, 'phonebook', '--at', '3')
  t.ok(early.version <= 3, `--at reads an earlier version (${early.version})`)
  t.ok(early.entries.length < 2, `with fewer entries (${early.entries.length})`)
  const far = await c.run(a.home, 'phonebook', '--at', '999999')
  t.is(far.code, 1)
  t.ok(
    /error INVALID_INPUT: --at must be a version from 1 to \d+/.test(far.stderr),
    far.stderr.trim()
  )
  t.is((await c.run(a.home, 'phonebook', '--at', 'x')).code, 2, 'a bad --at is a usage error')

  for (const [args, code, re] of [
    [['connect', 'nonsense'], 1, /error KEY_MALFORMED: "nonsense" is not a valid peer id/],
    [['connect', aId], 1, /error INVALID_INPUT: that is this node itself/],
    [['connect'], 2, /error USAGE: missing argument/],
    [
      ['connect', 'yryyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy', '--timeout', '2s'],
      1,
      /error TIMEOUT: could not reach \S+ within 2s/
    ]
  ] as const) {
    const r = await c.run(a.home, ...args)
    t.is(r.code, code, `flux ${args.join(' ')}: exit ${code}`)
    t.ok(re.test(r.stderr), r.stderr.trim())
    t.absent(/\n\s+at /.test(r.stderr), 'no stack trace')
  }
  const json = await c.run(a.home, 'connect', 'nonsense', '--json')
  t.is((json.json as { error: { code: string } }).error.code, 'KEY_MALFORMED', '--json errors too')

  // a snapshot: exported on A, tampered copies refused on a fresh node, the real one used
  const dir = await t.tmp()
  const file = path.join(dir, 'book.json')
  const wrote = await c.run(a.home, 'phonebook', 'export', file)
  t.is(wrote.code, 0, wrote.stdout.trim())
  t.is(
    (await c.run(a.home, 'phonebook', 'export', file)).code,
    1,
    'an existing file is not overwritten'
  )
  const snapshot = JSON.parse(await fs.readFile(file, 'utf-8')) as PhonebookSnapshot
  t.is(snapshot.entries.length, 2)
  const d = await c.up(await t.tmp(), [], { name: 'Di' })
  const tampered = structuredClone(snapshot)
  ;(tampered.entries[1] as { hints: string[] }).hints = ['10.6.6.6:666']
  const bad = path.join(dir, 'tampered.json')
  await fs.writeFile(bad, JSON.stringify(tampered))
  const refused = await c.run(d.home, 'phonebook', 'import', bad)
  t.is(refused.code, 1)
  t.ok(
    /error SNAPSHOT_INVALID: entry 2: its signature does not hold/.test(refused.stderr),
    refused.stderr.trim()
  )
  const moved = structuredClone(snapshot)
  moved.key = '00'.repeat(32) // the entries were signed for another phonebook
  await fs.writeFile(bad, JSON.stringify(moved))
  t.ok(
    /SNAPSHOT_INVALID: entry 1/.test((await c.run(d.home, 'phonebook', 'import', bad)).stderr),
    'entries moved to another phonebook key'
  )
  await fs.writeFile(bad, 'not json')
  t.ok(
    /SNAPSHOT_INVALID: .* is not JSON/.test(
      (await c.run(d.home, 'phonebook', 'import', bad)).stderr
    ),
    'not JSON'
  )
  t.is(
    (await c.json<PhonebookInfo>(d.home, 'phonebook')).key,
    null,
    'nothing of a refused file was used'
  )

  const used = await c.json<ImportResult>(d.home, 'phonebook', 'import', file)
  t.ok(used.joined && used.entries === 2, `verified and joined (dialed ${used.dialed})`)
  await waitFor(
    async () => (await c.json<PhonebookInfo>(a.home, 'phonebook')).entries.length === 3,
    "D's entry in A's phonebook",
    60_000,
    250
  )
  t.pass('the imported node wrote its entry')
})
