/**
 * Group nodes: a project keeps its target of live copies by itself. Volunteers offer storage;
 * when the project has fewer live copies than its target for long enough (mesh time, on an
 * injectable clock), its member asks the nearest volunteer to host it; a host that goes away is
 * replaced. Real nodes on a loopback testnet.
 */
import test from 'brittle'
import { mesh, until, type TestNode } from '../helpers/index.js'
import { ManualClock } from '../../src/util/clock.js'
import { GRACE, rankVolunteers } from '../../src/services/project-group.js'
import { projectDetail } from '../../src/cli/output.js'
import { decodeKey, toHex } from '../../src/identity/keys.js'
import type { ProjectDetail } from '../../src/api.js'

test('group - rankVolunteers is the same whoever computes it, and sorts by distance', (t) => {
  const d = 'f0'.repeat(32)
  const near = 'f1'.repeat(32)
  const far = '0f'.repeat(32)
  const mid = '70'.repeat(32)
  t.alike(rankVolunteers(d, [far, near, mid]), [near, mid, far])
  t.alike(rankVolunteers(d, [mid, far, near]), [near, mid, far], 'whatever the order given')
})

test('group - target 3 with 4 volunteers: degraded, filled by volunteers, a lost host replaced', async (t) => {
  t.timeout(180_000)
  const m = await mesh(t)
  const clock = new ManualClock()
  const a = await m.create({ name: 'A', clock })
  const volunteers: TestNode[] = []
  for (let i = 0; i < 4; i++) {
    const v = await m.create({ noProfile: true })
    await v.app.hosting.offer(50_000_000)
    volunteers.push(v)
  }
  const { key } = await a.app.projects.create({ name: 'kiln' })
  await a.app.content.setProject(key, { replicas: 3 })
  for (let i = 0; i < 10; i++) await a.app.content.post(key, `firing ${i}`)
  const show = (): Promise<ProjectDetail> => a.app.projects.show(key)

  const first = await show()
  t.is(first.group?.target, 3, 'the target is 3')
  t.is(first.group?.live, 1, 'only A holds it')
  t.ok(first.group?.degraded, 'degraded')
  t.ok(/replicas\s+1 of 3 live: DEGRADED/.test(projectDetail(first)), 'project show says so')

  // A looks volunteers up while the project is short; nobody is asked before the grace ends
  await until(a.node, () => a.node.projectGroup.volunteerIds().length === 4, 30_000, 'volunteers')
  t.absent((await show()).group?.asked, 'nobody asked yet: the grace has not passed')
  clock.advance(GRACE)
  await a.node.projectGroup.check()

  const vids = volunteers.map((v) => toHex(decodeKey(v.node.peerId)))
  const ranked = rankVolunteers(
    toHex(a.node.projects.get(toHex(decodeKey(key)))!.discoveryKey),
    vids
  )
  const healthy = async (): Promise<ProjectDetail | null> => {
    await a.node.projectGroup.check()
    const d = await show()
    return d.group && !d.group.degraded && d.group.live >= 3 ? d : null
  }
  const full = await until(a.node, healthy, 60_000, 'the group to reach its target')
  t.ok(/replicas\s+3 of 3 live: healthy/.test(projectDetail(full)), 'project show: healthy')
  const hosts = (full.group?.replicas ?? []).filter((r) => r.peer !== null && r.current)
  const hostIds = hosts.map((r) => toHex(decodeKey(r.peer as string))).sort()
  t.alike(hostIds, ranked.slice(0, 2).sort(), 'the two nearest volunteers host it')

  // one live host goes away for good: degraded, then replaced after the grace
  const lost = volunteers.find((v) => toHex(decodeKey(v.node.peerId)) === ranked[0])!
  await lost.node.close()
  const down = await until(
    a.node,
    async () => {
      await a.node.projectGroup.check()
      const d = await show()
      return d.group?.degraded ? d : null
    },
    30_000,
    'the group to notice the lost host'
  )
  t.is(down.group?.live, 2, 'two live copies left')
  clock.advance(GRACE)
  const back = await until(a.node, healthy, 60_000, 'a replacement')
  const now = (back.group?.replicas ?? []).filter((r) => r.peer !== null && r.current)
  const nowIds = now.map((r) => toHex(decodeKey(r.peer as string)))
  t.ok(nowIds.includes(ranked[2] as string), 'the next volunteer took over')
  t.absent(nowIds.includes(ranked[0] as string), 'the lost host is not counted')
  const replacement = volunteers.find((v) => toHex(decodeKey(v.node.peerId)) === ranked[2])!
  const info = replacement.node.projectHosts.get(toHex(decodeKey(key)))
  t.ok(info !== null && info.held >= info.known && info.known > 0, 'it holds a full copy')
})
