import test from 'brittle'
import { cli, answers, waitFor, type Cli, type RunResult } from './helpers.js'
import type {
  CreatedInvite,
  KvInfo,
  PostInfo,
  ProjectDetail,
  ProjectSummary,
  TaskInfo
} from '../../src/api.js'

/** Everything a person can see of a project, to compare before and after a restart. */
async function snapshot(c: Cli, home: string, key: string): Promise<unknown> {
  const show = await c.json<ProjectDetail>(home, 'project', 'show', key)
  return {
    name: show.name,
    description: show.description,
    role: show.role,
    writable: show.writable,
    stateHash: show.stateHash,
    members: show.memberList,
    feed: await c.json<PostInfo[]>(home, 'feed', key),
    tasks: await c.json<TaskInfo[]>(home, 'task', 'list', key),
    kv: await c.json<KvInfo[]>(home, 'kv', 'list', key)
  }
}

test('cli - restart: a stopped node comes back with its projects and data', async (t) => {
  t.timeout(90_000)
  const c = cli(t)
  await c.dht()
  const home = await t.tmp()
  const a = await c.up(home)
  const key = (await c.run(home, 'project', 'create', 'Solar kiln', '--public')).stdout.trim()
  const other = (await c.run(home, 'project', 'create', 'Second')).stdout.trim()
  await c.json(home, 'name', key, 'Ada')
  const post = await c.json<PostInfo>(home, 'post', key, 'before the restart')
  await c.json(home, 'post', key, 'a reply', '--reply-to', post.id)
  const task = await c.json<TaskInfo>(home, 'task', 'add', key, 'fire it', '--assign', 'Ada')
  await c.json(home, 'task', 'done', key, task.id)
  await c.json(home, 'kv', 'set', key, 'temp', '{"c":1200}')
  await c.json(home, 'project', 'archive', other)
  const before = await snapshot(c, home, key)
  const listBefore = await c.json<ProjectSummary[]>(home, 'project', 'list')

  t.is(await a.stop('SIGTERM'), 0, 'SIGTERM stops the node with exit 0')
  t.ok(a.stdout().includes('flux: stopped'), 'it says it stopped')
  t.absent(await answers(home), 'no node answers after the stop')
  const none = await c.run(home, 'project', 'list')
  t.ok(none.stderr.startsWith('flux: error NO_NODE: '), 'verbs say no node runs')

  await c.up(home)
  t.alike(await snapshot(c, home, key), before, 'the project and all its data are back')
  const listAfter = await c.json<ProjectSummary[]>(home, 'project', 'list')
  const strip = (l: ProjectSummary[]): unknown =>
    l.map((p) => ({ ...p, peers: 0 })).sort((x, y) => x.key.localeCompare(y.key))
  t.alike(strip(listAfter), strip(listBefore), 'both projects are listed as before')
  t.ok(listAfter.find((p) => p.key === other)?.archived, 'the archived project is still archived')
  const again = await c.json<PostInfo>(home, 'post', key, 'after the restart')
  t.is(again.authorName, 'Ada', 'still a writer, with its name')
})

test('cli - crash: kill -9 during a burst of posts loses no acknowledged post', async (t) => {
  t.timeout(120_000)
  const c = cli(t)
  await c.dht()
  const a = await c.up(await t.tmp())
  const b = await c.up(await t.tmp())
  const key = (await c.run(a.home, 'project', 'create', 'Burst')).stdout.trim()
  const invite = await c.json<CreatedInvite>(a.home, 'project', 'invite', key)
  t.is((await c.run(b.home, 'project', 'join', invite.code)).code, 0, 'b joined')

  // three lanes of ten sequential posts; kill -9 the node once ten are acknowledged
  const TOTAL = 30
  const acked = new Map<string, string>()
  const failed: RunResult[] = []
  let killed = false
  const lane = async (lane: number): Promise<void> => {
    for (let i = lane; i < TOTAL; i += 3) {
      const text = `burst ${i}`
      const r = await c.run(a.home, 'post', key, text, '--json')
      const id = (r.json as { id?: unknown } | null)?.id
      if (r.code === 0 && typeof id === 'string') acked.set(id, text)
      else failed.push(r)
      if (!killed && acked.size >= 10) {
        killed = true
        a.child.kill('SIGKILL')
      }
    }
  }
  await Promise.all([lane(0), lane(1), lane(2)])
  const codes = failed.map((r) => /error (\w+)/.exec(r.stderr)?.[1] ?? r.code)
  t.comment(`acknowledged ${acked.size}, failed ${failed.length}: ${codes.join(' ')}`)
  t.ok(killed, 'the node was killed during the burst')
  t.is(await a.exited, 'SIGKILL')
  t.ok(acked.size >= 10 && acked.size < TOTAL, `${acked.size} of ${TOTAL} posts acknowledged`)
  for (const r of failed) {
    t.ok(
      /^flux: error (NO_NODE|NODE_CLOSED): /.test(r.stderr),
      `failed cleanly: ${r.stderr.trim()}`
    )
    t.is(r.code, 1)
  }

  // restart on the same home: the stale socket is replaced, the project is back
  const restartAt = Date.now()
  await c.up(a.home)
  const upAt = Date.now()
  // converged: both feeds hold the same posts in the same order, every acknowledged one in it
  let seen = ''
  const feeds = await waitFor(
    async () => {
      const [x, y] = await Promise.all(
        [a.home, b.home].map((h) => c.json<PostInfo[]>(h, 'feed', key))
      )
      if (!x || !y) return null
      const ids = [x, y].map((f) => f.map((p) => p.id).join(','))
      seen = `a ${x.length} posts, b ${y.length} posts`
      const all = [...acked.keys()].every((id) => x.some((p) => p.id === id))
      return ids[0] === ids[1] && all ? { a: x, b: y } : null
    },
    () => `a and b to converge after the restart (${seen})`,
    45_000,
    250
  )
  t.comment(`restart took ${upAt - restartAt} ms, convergence ${Date.now() - upAt} ms more`)
  for (const [name, feed] of Object.entries(feeds)) {
    const ids = feed.map((p) => p.id)
    const missing = [...acked.keys()].filter((id) => !ids.includes(id))
    t.alike(missing, [], `every acknowledged post is there (${name})`)
    const twice = ids.filter((id, i) => ids.indexOf(id) !== i)
    t.alike(twice, [], `each exactly once (${name})`)
    const texts = feed.map((p) => p.text)
    t.is(new Set(texts).size, texts.length, `no text appears twice (${name})`)
    t.ok(
      feed.every((p) => acked.get(p.id) === undefined || acked.get(p.id) === p.text),
      `acknowledged ids carry their own text (${name})`
    )
  }
  // the whole state converges too: a replayed op (kill -9 during an append) leaves no trace
  let hashes = ''
  const shown = await waitFor(
    async () => {
      const [x, y] = await Promise.all(
        [a.home, b.home].map((h) => c.json<ProjectDetail>(h, 'project', 'show', key))
      )
      if (!x?.stateHash || !y?.stateHash) return null
      hashes = `a ${x.stateHash.slice(0, 8)} (skipped ${x.skipped}), b ${y.stateHash.slice(0, 8)} (skipped ${y.skipped})`
      return x.stateHash === y.stateHash ? { x, y } : null
    },
    () => `identical state hashes after the crash (${hashes})`,
    30_000,
    250
  )
  t.is(shown.x.applied, shown.y.applied, 'both applied the same ops')
  t.is(shown.x.stateHash, shown.y.stateHash, 'identical state on both nodes')
  const after = await c.json<PostInfo>(a.home, 'post', key, 'after the crash')
  t.ok(after.id, 'the restarted node still writes')
})
