import test from 'brittle'
import { cli, flux, waitFor, answers, type Cli } from './helpers.js'
import type {
  CreatedInvite,
  InviteInfo,
  KvInfo,
  NodeStatus,
  PeerInfo,
  PostInfo,
  ProjectDetail,
  ProjectSummary,
  TaskInfo
} from '../../src/api.js'

/** Both nodes show the same state hash for the project; returns it. */
async function converged(c: Cli, homes: string[], key: string): Promise<string> {
  let last: string[] = []
  return waitFor(
    async () => {
      last = await Promise.all(
        homes.map(
          async (h) => (await c.json<ProjectDetail>(h, 'project', 'show', key)).stateHash ?? ''
        )
      )
      return last[0] && last.every((x) => x === last[0]) ? last[0] : null
    },
    () => `the views to converge (last ${last.map((h) => h.slice(0, 8)).join(', ')})`,
    30_000,
    200
  )
}

test('cli - two nodes: project, invite, join, post, feed, tasks, kv, archive, leave', async (t) => {
  t.timeout(120_000)
  const c = cli(t)
  const dht = await c.dht()
  t.ok(/^127\.0\.0\.1:\d+$/.test(dht), 'flux dht prints its address')
  const a = await c.up(await t.tmp())
  const b = await c.up(await t.tmp(), ['--json'])
  t.ok(a.stdout().includes(a.home), '`flux up` prints a startup line with its home')

  // a second node on the same home is refused, and the first keeps running
  const twice = await flux(['up', '--home', a.home, '--bootstrap', dht, '--host', '127.0.0.1'])
  t.is(twice.code, 1, 'a second flux up on the same home exits 1')
  t.is(
    twice.stderr,
    `flux: error NODE_RUNNING: another Flux node is already running for ${a.home}\n`,
    'with the clear NODE_RUNNING line'
  )
  t.ok(await answers(a.home), 'the first node still answers')

  const statusA = await c.json<NodeStatus>(a.home, 'status')
  t.is(statusA.home, a.home)
  t.alike(statusA.bootstrap, [dht], 'the node uses the local dht only')
  t.ok(a.stdout().includes(statusA.peerId), 'the startup line shows the peer id')

  // create: the human form prints just the key
  const created = await c.run(a.home, 'project', 'create', 'Solar kiln', '--description', 'A kiln')
  t.is(created.code, 0)
  const key = created.stdout.trim()
  t.is(key.length, 52, 'project create prints the key')
  const detail = await c.json<ProjectDetail>(a.home, 'project', 'show', key)
  t.is(detail.name, 'Solar kiln')
  t.is(detail.description, 'A kiln')
  t.is(detail.role, 'admin')

  const invite = await c.json<CreatedInvite>(a.home, 'project', 'invite', key, '--expires', '1h')
  t.is(invite.project, key)
  t.is(invite.role, 'member')
  t.ok(invite.expires > Date.now() + 3_500_000 && invite.expires <= Date.now() + 3_600_000)

  const joined = await c.run(b.home, 'project', 'join', invite.code, '--timeout', '1m')
  t.is(joined.code, 0, 'project join exits 0')
  t.is(joined.stdout.trim(), key, 'project join prints the key')
  t.ok(/pairing/.test(joined.stderr), 'join shows the pairing step')
  t.ok(/writable/.test(joined.stderr), 'join shows when it is writable')
  // invites are recorded in the project: listed on any member, revoked by an admin
  const spare = await c.json<CreatedInvite>(a.home, 'project', 'invite', key, '--uses', '3')
  const listed = await waitFor(
    async () => {
      const l = await c.json<InviteInfo[]>(b.home, 'project', 'invites', key)
      return l.some((i) => i.id === spare.id && i.open) ? l : null
    },
    'the spare invite listed on B',
    20_000,
    200
  )
  t.ok(listed.find((i) => i.id === invite.id)?.used === 1, "the used invite shows B's use")
  const listText = await c.run(b.home, 'project', 'invites', key)
  t.ok(listText.stdout.includes(spare.id.slice(0, 8)), 'the table shows the invite id')
  const notMine = await c.run(b.home, 'project', 'uninvite', key, spare.id)
  t.is(notMine.code, 1, 'a member cannot revoke the admin invite')
  t.ok(notMine.stderr.startsWith('flux: error NOT_ALLOWED:'), notMine.stderr.trim())
  const revoked = await c.json<InviteInfo>(
    a.home,
    'project',
    'uninvite',
    key,
    spare.id.slice(0, 10)
  )
  t.ok(revoked.revoked && !revoked.open, 'the admin revokes it by a prefix of its id')
  const again = await c.run(a.home, 'project', 'uninvite', key, spare.id)
  t.is(again.code, 1, 'revoking twice exits 1 and changes nothing')
  // members are profiles: each node's profile (flux init by the harness), not its peer key
  const [whoA, whoB] = await Promise.all(
    [a.home, b.home].map((h) => c.json<{ profile: string }>(h, 'whoami'))
  )
  const members = (await c.json<ProjectDetail>(a.home, 'project', 'show', key)).memberList
  t.alike(
    members.map((m) => [m.id, m.role]).sort(),
    [
      [whoA?.profile, 'admin'],
      [whoB?.profile, 'member']
    ].sort(),
    'the members are the two profiles'
  )

  // posts and a reply, from both sides
  const first = await c.json<PostInfo>(a.home, 'post', key, 'hello from a')
  t.is(first.text, 'hello from a')
  const second = await c.run(b.home, 'post', 'solar kiln', 'hello from b')
  t.is(second.code, 0, 'a post by project name')
  const secondId = second.stdout.trim()
  t.ok(/^[0-9a-f]{32}$/.test(secondId), 'post prints the post id')
  const reply = await c.json<PostInfo>(
    a.home,
    'post',
    key,
    'a reply',
    '--reply-to',
    secondId.slice(0, 8)
  )
  t.is(reply.replyTo, secondId, 'a reply by short id')
  t.is((await c.run(a.home, 'name', key, 'Ada')).code, 0)

  // tasks
  const task = await c.json<TaskInfo>(
    a.home,
    'task',
    'add',
    key,
    'build the frame',
    '--assign',
    'me'
  )
  t.is(task.assigneeName, 'Ada')
  const done = await c.json<TaskInfo>(b.home, 'task', 'done', key, task.id.slice(0, 6))
  t.ok(done.done, 'task done from the other node')
  const edited = await c.json<TaskInfo>(
    a.home,
    'task',
    'edit',
    key,
    task.id,
    '--title',
    'build it',
    '--unassign'
  )
  t.is(edited.title, 'build it')
  t.is(edited.assignee, null)

  // records: JSON when it parses, text otherwise
  t.is((await c.json<KvInfo>(a.home, 'kv', 'set', key, 'temp', '42')).value, 42)
  t.is((await c.json<KvInfo>(b.home, 'kv', 'set', key, 'note', 'hi there')).value, 'hi there')
  t.alike((await c.json<KvInfo>(a.home, 'kv', 'set', key, 'gone', '{"a":1}')).value, { a: 1 })
  t.alike(await c.json(a.home, 'kv', 'del', key, 'gone'), { key: 'gone', deleted: true })

  // both views end identical, and show the same data
  const hash = await converged(c, [a.home, b.home], key)
  t.is(hash.length, 64, 'both nodes hold the same state hash')
  for (const home of [a.home, b.home]) {
    const feed = await c.json<PostInfo[]>(home, 'feed', key)
    t.alike(feed.map((p) => p.text).sort(), ['a reply', 'hello from a', 'hello from b'])
    const tasks = await c.json<TaskInfo[]>(home, 'task', 'list', key)
    t.alike(
      tasks.map((x) => [x.title, x.done]),
      [['build it', true]]
    )
    const kv = await c.json<KvInfo[]>(home, 'kv', 'list', key)
    t.alike(
      kv.map((r) => [r.key, r.value]),
      [
        ['note', 'hi there'],
        ['temp', 42]
      ]
    )
    const get = await c.run(home, 'kv', 'get', key, 'note')
    t.is(get.stdout, 'hi there\n', 'kv get prints text as is')
  }
  const human = await c.run(b.home, 'feed', key)
  t.ok(
    /^ {2}↳ [0-9a-f]{8} {2}Ada \(/m.test(human.stdout),
    'replies are indented under their parent'
  )
  t.ok(human.stdout.includes('hello from a'))

  const list = await c.json<ProjectSummary[]>(b.home, 'project', 'list')
  t.is(list.length, 1)
  t.is(list[0]?.posts, 3)
  t.is(list[0]?.role, 'member')
  // each peer names the profile it proved: B's node is B's profile, under its member name
  const statusB = await c.json<NodeStatus>(b.home, 'status')
  const bName = (await c.json<ProjectDetail>(a.home, 'project', 'show', key)).memberList.find(
    (x) => x.id === whoB?.profile
  )?.name
  const peerB = await waitFor(
    async () =>
      (await c.json<PeerInfo[]>(a.home, 'peers')).find(
        (p) => p.id === statusB.peerId && p.profile?.name === bName
      ) ?? null,
    "B's node named by its profile in `flux peers`",
    20_000,
    200
  )
  t.is(peerB.profile?.id, whoB?.profile, "flux peers --json gives B's profile id")
  t.ok(bName, `under its name in the project (${bName})`)
  const peersText = await c.run(a.home, 'peers')
  t.ok(
    peersText.stdout.includes(statusB.peerId) && peersText.stdout.includes(`${bName} (`),
    'the table shows the profile name next to the peer'
  )
  t.ok((await c.json<NodeStatus>(b.home, 'status')).projects.length === 1)

  // errors: unknown project, malformed key, and bad input that changes nothing
  const missing = await c.run(a.home, 'post', 'no such project', 'x')
  t.is(missing.code, 1)
  t.is(
    missing.stderr,
    'flux: error PROJECT_NOT_FOUND: no project here matches "no such project" (see `flux project list`)\n'
  )
  const malformed = await c.run(a.home, 'project', 'show', '0'.repeat(52), '--json')
  t.is(malformed.code, 1)
  t.is((malformed.json as { error: { code: string } }).error.code, 'KEY_MALFORMED')
  const notMember = await c.run(b.home, 'project', 'archive', key)
  t.is(notMember.code, 1)
  t.ok(notMember.stderr.startsWith('flux: error NOT_ALLOWED: '), 'a member cannot archive')
  t.is(
    (await c.json<ProjectDetail>(a.home, 'project', 'show', key)).stateHash,
    hash,
    'nothing changed'
  )

  // archive: then posts fail everywhere; undo works
  const archived = await c.json<ProjectDetail>(a.home, 'project', 'archive', key)
  t.ok(archived.archived)
  const refused = await c.run(a.home, 'post', key, 'too late')
  t.is(refused.code, 1)
  t.ok(
    refused.stderr.startsWith('flux: error PROJECT_ARCHIVED: '),
    'a post to an archived project fails'
  )
  await waitFor(
    async () => (await c.json<ProjectDetail>(b.home, 'project', 'show', key)).archived,
    'b to see the archive'
  )
  const refusedB = await c.run(b.home, 'post', key, 'too late')
  t.ok(refusedB.stderr.startsWith('flux: error PROJECT_ARCHIVED: '), 'on the other node too')
  t.absent((await c.json<ProjectDetail>(a.home, 'project', 'archive', key, '--undo')).archived)

  const final = await converged(c, [a.home, b.home], key)
  t.not(final, hash, 'the archive and its undo reached both nodes, which again agree')

  // leave: the member is gone from b's list, and removed from the project
  t.alike(await c.json(b.home, 'project', 'leave', key), { key })
  t.alike(await c.json(b.home, 'project', 'list'), [])
  await waitFor(
    async () => (await c.json<ProjectDetail>(a.home, 'project', 'show', key)).members === 1,
    'a to see b leave'
  )
  const gone = await c.run(b.home, 'feed', key)
  t.ok(gone.stderr.startsWith('flux: error PROJECT_NOT_FOUND: '))

  // flux stop: returns once the node is gone, and the node exits 0
  const stop = await c.run(b.home, 'stop')
  t.is(stop.code, 0)
  t.is(await b.exited, 0, 'the node exits 0 after flux stop')
  t.absent(await answers(b.home), 'and no longer answers')

  // `flux up --json` printed JSON lines events only, from "up" to "stopped"
  const events = b
    .stdout()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string })
  t.is(events[0]?.event, 'up')
  t.is(events.at(-1)?.event, 'stopped')
  for (const name of ['status', 'peer-add', 'stopping']) {
    t.ok(
      events.some((e) => e.event === name),
      `up --json reported ${name}`
    )
  }
})
