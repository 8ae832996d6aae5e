import test from 'brittle'
import { cli, flux, waitFor } from './helpers.js'
import { FluxNode } from '../../src/node.js'
import { FluxApp } from '../../src/app/index.js'
import { encodeOp } from '../../src/autobase/envelope.js'
import type { CreatedInvite, KvInfo, PostInfo, ProjectDetail } from '../../src/api.js'

// every control a terminal may obey: C0 but newline and tab, DEL, C1
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/

test('cli text - escape sequences from a modified peer never reach stdout raw', async (t) => {
  t.timeout(120_000)
  const c = cli(t)
  const dht = await c.dht()
  const a = await c.up(await t.tmp())
  const key = (await c.run(a.home, 'project', 'create', 'Kiln')).stdout.trim()
  const invite = await c.json<CreatedInvite>(a.home, 'project', 'invite', key)

  // the peer: a Flux node in this process that writes raw blocks, as a modified client would
  const node = new FluxNode({
    home: await t.tmp(),
    bootstrap: [dht],
    host: '127.0.0.1',
    pairingPoll: 500
  })
  await node.ready()
  t.teardown(() => node.close(), { order: -1 })
  const app = new FluxApp(node)
  await app.profile.init({ name: 'Mallory' })
  await app.projects.join(invite.code)
  const p = await node.projects.resolve(key)
  const poison = [
    p.makeOp({ type: 'post/add', text: 'hi\x1b]0;pwned\x07\x1b[31m', replyTo: null }),
    p.makeOp({ type: 'post/add', text: 'x\r0a1b2c3d  node-1 (abc)  just now', replyTo: null }),
    p.makeOp({ type: 'post/add', text: 'C1 \u009b2J', replyTo: null }),
    p.makeOp({ type: 'member/name', name: 'Ada\x1b[2K', prev: null }),
    p.makeOp({ type: 'task/add', title: 'x\n[x] 0a1b2c3d  fake done', assignee: null })
  ]
  for (const op of poison) await p.appendRaw(encodeOp(op))
  // a record's value is data apply does not judge: it must be escaped when printed
  await app.content.kvSet(key, 'motd', 'hello\x1b[2J\x1b[H\u009b31mfake prompt $ ')
  await app.content.post(key, 'done\n\twith a tab')

  const feed = await waitFor(
    async () => {
      const posts = await c.json<PostInfo[]>(a.home, 'feed', key)
      return posts.some((x) => x.text.startsWith('done')) ? posts : null
    },
    "the peer's last post on A",
    30_000,
    200
  )
  t.alike(
    feed.map((x) => x.text),
    ['done\n\twith a tab'],
    'the posts with controls were skipped; newline and tab kept'
  )
  const detail = await c.json<ProjectDetail>(a.home, 'project', 'show', key)
  t.is(detail.skipped, poison.length, 'each op with controls is counted as skipped')
  t.absent(
    detail.memberList.some((m) => m.name !== null && CONTROLS.test(m.name)),
    'no member name with controls'
  )
  const kv = await c.json<KvInfo>(a.home, 'kv', 'get', key, 'motd')
  t.ok(typeof kv.value === 'string' && kv.value.includes('\x1b'), 'the record is stored as sent')

  for (const args of [
    ['feed', key],
    ['task', 'list', key],
    ['kv', 'list', key],
    ['kv', 'get', key, 'motd'],
    ['project', 'show', key],
    ['project', 'list'],
    ['peers'],
    ['status']
  ]) {
    for (const json of [false, true]) {
      const r = await c.run(a.home, ...args, ...(json ? ['--json'] : []))
      t.is(r.code, 0, `flux ${args[0]} ${args[1] ?? ''} exits 0`)
      t.absent(
        CONTROLS.test(r.stdout),
        `flux ${args.join(' ')}${json ? ' --json' : ''}: no controls`
      )
    }
  }
  const tasks = await c.run(a.home, 'task', 'list', key)
  t.absent(/^\[x\]/m.test(tasks.stdout), 'no fake done task line')
  const shown = await c.run(a.home, 'kv', 'get', key, 'motd')
  t.ok(shown.stdout.startsWith('hello?[2J?[H?31mfake'), shown.stdout.trim())

  // text that starts with '-' goes after `--`; flags stay before it
  const dash = await flux(['post', '--home', a.home, '--json', key, '--', '-1 for cedar'])
  t.is(dash.code, 0, `a post after -- (${dash.stderr.trim()})`)
  t.is((dash.json as PostInfo | null)?.text, '-1 for cedar', 'is posted as typed')
  const minus = await flux(['kv', 'set', '--home', a.home, key, 'delta', '--', '-5'])
  t.is(minus.code, 0, `a record after -- (${minus.stderr.trim()})`)
  t.is((await c.json<KvInfo>(a.home, 'kv', 'get', key, 'delta')).value, -5, 'is the number -5')

  // long text from standard input (`-`), the size limit named when it is too long
  const long = `${'a long line of text\n'.repeat(150)}the end`
  const piped = await flux(['post', '--home', a.home, '--json', key, '-'], { input: long + '\n' })
  t.is(piped.code, 0, `a post from standard input (${piped.stderr.trim()})`)
  t.is((piped.json as PostInfo | null)?.text, long, 'kept whole, without the final newline')
  const tooLong = await flux(['post', '--home', a.home, key, '-'], { input: 'x'.repeat(4001) })
  t.is(tooLong.code, 1, 'a post over the limit exits 1')
  t.ok(
    /^flux: error INVALID_INPUT: a post is at most 4000 characters \(this one has 4001\)/.test(
      tooLong.stderr
    ),
    tooLong.stderr.trim()
  )

  // a person's own text with controls: a clear error, nothing printed raw
  const own = await c.run(a.home, 'post', key, 'oops\x1b[31m')
  t.is(own.code, 1, 'a post with an escape sequence exits 1')
  t.ok(
    /^flux: error INVALID_INPUT: bad text: control characters are not allowed/.test(own.stderr),
    own.stderr.trim()
  )
  const name = await c.run(a.home, 'name', key, 'Ada\x1b[2K')
  t.is(name.code, 1, 'a name with an escape sequence exits 1')
  t.ok(/INVALID_INPUT: bad name: control characters/.test(name.stderr), name.stderr.trim())
  t.absent(CONTROLS.test(a.stdout()), "`flux up`'s screen shows no controls")
  // the live screen names a peer by the profile it proved, not by its node id alone
  const line = await waitFor(
    async () =>
      a
        .stdout()
        .split('\n')
        .find((l) => l.startsWith(`peer connected: ${node.peerId}`)),
    "`flux up`'s line for the peer",
    10_000
  )
  t.ok(/ "?Mallory"?\?? \(/.test(line), line)
})
