import test from 'brittle'
import { cli, waitFor, type Cli, type FluxNodeProc } from './helpers.js'
import type { CreatedInvite, PostInfo, ProjectDetail } from '../../src/api.js'

/** Posts `n` texts one by one through `node`; the ids its `flux post` acknowledged. */
async function post(c: Cli, node: FluxNodeProc, key: string, n: number, tag: string) {
  const ids: string[] = []
  for (let i = 0; i < n; i++)
    ids.push((await c.json<PostInfo>(node.home, 'post', key, `${tag} ${i}`)).id)
  return ids
}

/** Wait until every node shows the same feed, holding `want`, and the same state hash. */
async function converged(c: Cli, nodes: FluxNodeProc[], key: string, want: string[], what: string) {
  let seen = ''
  return waitFor(
    async () => {
      const shown = await Promise.all(
        nodes.map((n) => c.json<ProjectDetail>(n.home, 'project', 'show', key))
      )
      const feeds = await Promise.all(nodes.map((n) => c.json<PostInfo[]>(n.home, 'feed', key)))
      const lines = feeds.map((f) => f.map((p) => p.id).join(','))
      seen = feeds.map((f, i) => `${f.length} posts ${shown[i]?.stateHash?.slice(0, 8)}`).join('; ')
      const all = feeds.every((f) => want.every((id) => f.some((p) => p.id === id)))
      const same = lines.every((l) => l === lines[0])
      const hashes = shown.every((s) => s.stateHash !== null && s.stateHash === shown[0]?.stateHash)
      return all && same && hashes ? feeds[0]! : null
    },
    () => `${what} (${seen})`,
    60_000,
    250
  )
}

test('cli - partition by SIGSTOP: a frozen member misses nothing once it runs again, and the others never wait for it', async (t) => {
  t.timeout(180_000)
  const c = cli(t)
  await c.dht()
  const [a, b, d] = [
    await c.up(await t.tmp()),
    await c.up(await t.tmp()),
    await c.up(await t.tmp())
  ]
  const key = (await c.run(a.home, 'project', 'create', 'Partitions')).stdout.trim()
  for (const n of [b, d]) {
    const invite = await c.json<CreatedInvite>(a.home, 'project', 'invite', key)
    t.is((await c.run(n.home, 'project', 'join', invite.code)).code, 0, 'joined')
  }
  const acked = await post(c, a, key, 2, 'before')
  await converged(c, [a, b, d], key, acked, 'three members in sync')

  // round 1: a member is frozen; the other two write and agree without it
  let frozen = Date.now()
  b.child.kill('SIGSTOP')
  acked.push(...(await post(c, a, key, 6, 'a while b is frozen')))
  acked.push(...(await post(c, d, key, 6, 'd while b is frozen')))
  await converged(c, [a, d], key, acked, 'a and d agree while b is frozen')
  b.child.kill('SIGCONT')
  t.comment(`b frozen for ${((Date.now() - frozen) / 1000).toFixed(1)} s`)
  await converged(c, [a, b, d], key, acked, 'b catches up once it runs again')

  // round 2: the creator (an indexer) is frozen; the others write on, then it heals
  frozen = Date.now()
  a.child.kill('SIGSTOP')
  acked.push(...(await post(c, b, key, 6, 'b while a is frozen')))
  acked.push(...(await post(c, d, key, 6, 'd while a is frozen')))
  await converged(c, [b, d], key, acked, 'b and d agree while the creator is frozen')
  a.child.kill('SIGCONT')
  t.comment(`a frozen for ${((Date.now() - frozen) / 1000).toFixed(1)} s`)
  const feed = await converged(c, [a, b, d], key, acked, 'the creator catches up')

  t.is(feed.length, acked.length, `every acknowledged post once (${feed.length})`)
  t.is(new Set(feed.map((p) => p.id)).size, feed.length, 'no duplicate')
  // each writer's posts stay in the order it wrote them
  for (const tag of ['a while b', 'd while b', 'b while a', 'd while a']) {
    const mine = feed.filter((p) => p.text.startsWith(tag)).map((p) => p.text)
    t.alike(
      mine,
      [...Array(6).keys()].map((i) => `${tag} is frozen ${i}`),
      `${tag}: in order`
    )
  }
  const after = await c.json<PostInfo>(a.home, 'post', key, 'after both partitions')
  await converged(c, [a, b, d], key, [...acked, after.id], 'writes go on after the heal')
})
