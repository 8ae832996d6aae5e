import test from 'brittle'
import { cli, waitFor } from './helpers.js'
import type { CreatedInvite, PostInfo, ProjectDetail } from '../../src/api.js'

// Issue 9: `flux project join KEY` on a node that had left the private project failed with
// INTERNAL: DECODING_ERROR (the first copy's view state outlived the leave: DESIGN.md,
// "Leaving and joining again"), and an invite used while the project is held by key waited
// for ever (the join asked for a lock on the writer core that the held copy keeps).
test('cli - leave, join again by key, then with an invite', async (t) => {
  t.timeout(120_000)
  const c = cli(t)
  await c.dht()
  const a = await c.up(await t.tmp())
  const b = await c.up(await t.tmp())
  const key = (await c.run(a.home, 'project', 'create', 'Kiln')).stdout.trim()
  const invite = async (): Promise<string> =>
    (await c.json<CreatedInvite>(a.home, 'project', 'invite', key)).code
  const first = await c.run(b.home, 'project', 'join', await invite(), '--timeout', '1m')
  t.is(first.code, 0, 'b joins')
  await c.json<PostInfo>(b.home, 'post', key, 'first time')
  t.alike(await c.json(b.home, 'project', 'leave', key), { key }, 'and leaves')
  await waitFor(
    async () => (await c.json<ProjectDetail>(a.home, 'project', 'show', key)).members === 1,
    'a to see b leave'
  )

  const byKey = await c.run(b.home, 'project', 'join', key)
  t.is(byKey.code, 0, 'join by key exits 0')
  if (byKey.code !== 0) t.comment(byKey.stderr)
  t.is(byKey.stdout.trim(), key, 'and prints the key')
  const held = await c.json<ProjectDetail>(b.home, 'project', 'show', key)
  t.is(held.readable, false, 'held by key: the leave deleted the read key')
  t.is(held.error, null, 'no error on the project')

  const joined = await c.run(b.home, 'project', 'join', await invite(), '--timeout', '1m')
  t.is(joined.code, 0, 'join with a fresh invite exits 0 (the copy held by key becomes a member)')
  if (joined.code !== 0) t.comment(joined.stderr)
  const post = await c.json<PostInfo>(b.home, 'post', key, 'second time')
  t.is(post.text, 'second time', 'and posts')
  await waitFor(async () => {
    const feed = await c.json<PostInfo[]>(a.home, 'feed', key)
    return feed.some((p) => p.text === 'second time') ? feed : null
  }, 'the post on a')
})
