/**
 * `flux host add/list/remove/check` through the real CLI and a real `flux up`: a node without a
 * profile hosts a project by key, shows it, checks it is held, and frees it; bad input exits
 * non-zero with a code and changes nothing.
 */
import test from 'brittle'
import { cli, waitFor } from './helpers.js'
import type { HostCheckResult, HostedProjectInfo, NodeStatus } from '../../src/api.js'

test('cli - host: add with a quota, list, check, remove; bad input changes nothing', async (t) => {
  t.timeout(120_000)
  const c = cli(t)
  await c.dht()
  const a = await c.up(await t.tmp())
  const h = await c.up(await t.tmp(), [], { profile: false })
  const key = (await c.run(a.home, 'project', 'create', 'Kiln')).stdout.trim()
  for (let i = 0; i < 5; i++) await c.run(a.home, 'post', key, `firing ${i}`)

  const added = await c.json<HostedProjectInfo>(h.home, 'host', 'add', key, '--quota', '50MB')
  t.is(added.key, key, 'hosted by its key')
  t.is(added.quota, 50_000_000, '--quota 50MB is 50,000,000 bytes')
  t.is(added.member, false, 'not a member: it cannot read it')

  const current = async (): Promise<HostedProjectInfo | null> => {
    const list = await c.json<HostedProjectInfo[]>(h.home, 'host', 'list')
    const mine = list.find((x) => x.key === key) ?? null
    return mine !== null && mine.status === 'current' && mine.cores >= 2 && mine.held > 0
      ? mine
      : null
  }
  const listed = await waitFor(current, 'the host to be current', 30_000, 250)
  t.ok(listed, 'flux host list shows it current, with the cores the creator told of')
  const text = (await c.run(h.home, 'host', 'list')).stdout
  t.ok(/current/.test(text) && /50\.0 MB/.test(text), text)

  const hostId = (await c.json<NodeStatus>(h.home, 'status')).peerId
  const check = await c.run(a.home, 'host', 'check', hostId, key, '--json')
  t.is(check.code, 0, 'the check passes: exit 0')
  const result = check.json as HostCheckResult
  t.ok(result.ok && result.passed === result.asked && result.asked > 0, 'every block matched')
  const said = (await c.run(a.home, 'host', 'check', hostId, key)).stdout
  t.ok(/^passed: /.test(said), said)

  const bad = await c.run(h.home, 'host', 'add', key, '--quota', 'lots')
  t.is(bad.code, 2, 'a bad quota is a usage error')
  t.ok(/USAGE: --quota: "lots" is not a size/.test(bad.stderr), bad.stderr)
  const badKey = await c.run(h.home, 'host', 'add', 'not-a-key')
  t.not(badKey.code, 0, 'a bad key exits non-zero')
  t.ok(/KEY_MALFORMED/.test(badKey.stderr), badKey.stderr)
  const still = await c.json<HostedProjectInfo[]>(h.home, 'host', 'list')
  t.is(still.length, 1, 'nothing changed')
  t.is(still[0]?.quota, 50_000_000, 'the quota is unchanged')

  const removed = await c.run(h.home, 'host', 'remove', key)
  t.is(removed.code, 0, 'removed')
  t.ok(/its space is freed/.test(removed.stdout), removed.stdout)
  t.alike(await c.json<HostedProjectInfo[]>(h.home, 'host', 'list'), [], 'nothing hosted')
  const again = await c.run(h.home, 'host', 'remove', key)
  t.not(again.code, 0, 'removing twice exits non-zero')
  t.ok(/NOT_FOUND/.test(again.stderr), again.stderr)
})
