import test from 'brittle'
import { cli, waitFor } from './helpers.js'
import type { CreatedInvite, ProjectDetail } from '../../src/api.js'

test('cli join - Ctrl-C cancels a pending join; a second join meanwhile is told plainly; joining again works', async (t) => {
  t.timeout(150_000)
  const c = cli(t)
  await c.dht()
  const a = await c.up(await t.tmp())
  const b = await c.up(await t.tmp())
  const key = (await c.run(a.home, 'project', 'create', 'Kiln')).stdout.trim()
  const invite = await c.json<CreatedInvite>(a.home, 'project', 'invite', key)
  // the only member is away: the join waits for an answer
  t.is(await a.stop('SIGTERM'), 0, 'the member stops')

  const first = c.spawn(b.home, 'project', 'join', invite.code, '--timeout', '2m')
  await waitFor(async () => /pairing/.test(first.stderr()), 'the join to start pairing', 20_000)

  const second = await c.run(b.home, 'project', 'join', invite.code, '--timeout', '10s')
  t.is(second.code, 1, 'a second join of the same project exits 1')
  t.ok(/^flux: error JOIN_PENDING: /m.test(second.stderr), second.stderr.trim())
  t.absent(/INTERNAL/.test(second.stderr), 'not INTERNAL')

  first.child.kill('SIGINT')
  const code = await Promise.race([
    first.exited,
    new Promise<string>((r) => setTimeout(() => r('still running'), 15_000))
  ])
  t.is(code, 130, 'Ctrl-C ends the join (exit 130)')
  t.ok(/cancelled/.test(first.stderr()), first.stderr().trim().split('\n').at(-1) ?? '')
  t.absent(/INTERNAL|at .*\.js:\d+/.test(first.stderr()), 'no INTERNAL, no stack trace')
  const listed = await c.json<ProjectDetail[]>(b.home, 'project', 'list')
  t.is(listed.length, 0, 'the cancelled join left no project behind')

  // the member is back: the same invite works at once, with no pairing left in the way
  await c.up(a.home)
  const again = await c.run(b.home, 'project', 'join', invite.code, '--timeout', '1m')
  t.is(again.code, 0, `joining again works (${again.stderr.trim().split('\n').at(-1) ?? ''})`)
  t.is(again.stdout.trim(), key, 'and prints the project key')
})
