/**
 * The life of one project on a local mesh, step by step: three people start nodes with their
 * profiles, create, invite and join, write concurrently with a conflict, a node goes offline
 * and catches up, one person links her phone as a second device of her profile and posts from
 * it, the project is archived, and the final check that every node holds the same state.
 */
import type { ProjectDetail, Progress } from '../api.js'
import { FluxError, isFluxError } from '../errors.js'
import type { LocalMesh, MeshNode } from './mesh.js'
import type { Reporter } from './report.js'
import { poll } from './wait.js'

export interface StoryBounds {
  /** Joining by invite, per node. */
  join: number
  /** Nodes reaching the same state (also: a restarted node catching up). */
  converge: number
}

export const DEFAULT_STORY_BOUNDS: StoryBounds = { join: 60_000, converge: 60_000 }

export interface FinalRow {
  node: string
  name: string
  applied: number
  skipped: number
  stateHash: string
}

export interface Outcome {
  ok: boolean
  /** The common state hash when ok. */
  hash: string | null
  rows: FinalRow[]
  /** Why the check failed, for people. */
  problem: string | null
}

const PROJECT = 'Solar kiln'
/** Who runs each node: node 4 is Amara's second device (her phone), not a person of its own. */
const PEOPLE = ['Amara', 'Bruno', 'Chen', 'Amara (phone)'] as const

function short(text: string, n = 8): string {
  return text.length > n ? `${text.slice(0, n)}…` : text
}

function quote(text: string): string {
  return `"${text}"`
}

function node(mesh: LocalMesh, i: number): MeshNode {
  const n = mesh.nodes[i]
  if (!n) throw new FluxError('INTERNAL', `the mesh has no node ${i + 1}`)
  return n
}

function person(n: MeshNode): string {
  return PEOPLE[n.index - 1] ?? n.label
}

function shows(nodes: MeshNode[], key: string): Promise<ProjectDetail[]> {
  return Promise.all(nodes.map((n) => n.call('project.show', { project: key })))
}

function same(details: ProjectDetail[]): boolean {
  const first = details[0]
  if (!first) return false
  return details.every((d) => d.stateHash === first.stateHash && d.applied === first.applied)
}

/** Wait (bounded) until all `nodes` hold the same state of the project. */
function converged(
  nodes: MeshNode[],
  key: string,
  timeout: number,
  what: string
): Promise<ProjectDetail[]> {
  return poll(
    what,
    async () => {
      const details = await shows(nodes, key)
      return same(details) ? details : null
    },
    { timeout, interval: 200 }
  )
}

export async function runStory(
  mesh: LocalMesh,
  r: Reporter,
  bounds: StoryBounds = DEFAULT_STORY_BOUNDS
): Promise<Outcome> {
  const [n1, n2, n3, n4] = [node(mesh, 0), node(mesh, 1), node(mesh, 2), node(mesh, 3)]
  const all = [n1, n2, n3]

  await r.step(
    'bootstrap',
    '0. Start a private HyperDHT bootstrap on loopback (flux dht)',
    async () => {
      const { address, pid } = await mesh.startBootstrap()
      r.note(`bootstrap listening on ${address} (pid ${pid})`, { address, pid })
      r.data('spawn', { name: 'bootstrap', pid })
    }
  )

  await r.step(
    'start',
    '1. Three people each create a profile (flux init) and start a node (flux up)',
    async () => {
      await Promise.all(
        all.map(async (n) => {
          const profile = await mesh.initProfile(n, person(n))
          const status = await mesh.startNode(n)
          const pid = n.child?.pid ?? 0
          r.data('spawn', { name: n.label, pid, home: n.home })
          r.note(
            `${n.label} ready as ${profile.name} (profile ${short(profile.profile)}): ` +
              `peer ${short(status.peerId)} (pid ${pid})`,
            { node: n.index, profile: profile.profile, peerId: status.peerId, pid }
          )
        })
      )
      r.note('each profile key is sealed in its home under a passphrase; the phrases are not kept')
    }
  )

  const key = await r.step(
    'create',
    `2. Node 1 creates the project ${quote(PROJECT)}`,
    async () => {
      const created = await n1.call('project.create', {
        name: PROJECT,
        description: 'A solar timber kiln for the village workshop'
      })
      r.note(`project key ${created.key}`, { key: created.key })
      return created.key
    }
  )

  const ids = await r.step(
    'join',
    '3. Node 1 invites nodes 2 and 3; they join and pick names',
    async () => {
      const invite = await n1.call('project.invite', { project: key, uses: 2 })
      r.note(`node 1 issued one invite good for ${invite.uses} people: ${short(invite.code, 16)}`, {
        invite: invite.id
      })
      const joined = await Promise.all(
        [n2, n3].map(async (n) => {
          let lastApplied = -1
          const onProgress = (p: Progress): void => {
            if (p.phase === 'syncing' && p.applied !== undefined) {
              if (p.applied === lastApplied) return
              lastApplied = p.applied
              r.note(`${n.label}: syncing, ${p.applied} ops applied`, { node: n.index, ...p })
              return
            }
            r.note(`${n.label}: ${p.message}`, { node: n.index, ...p })
          }
          const detail = await n.call(
            'project.join',
            { code: invite.code, project: key, timeout: bounds.join },
            onProgress,
            bounds.join + 5_000
          )
          return detail.you
        })
      )
      await Promise.all(all.map((n) => n.call('member.name', { project: key, name: person(n) })))
      r.note(`names set: ${all.map((n) => `${n.label} is ${person(n)}`).join(', ')}`)
      // everyone should see everyone's name before the feed is shown
      await poll(
        'every node to see all three names',
        async () => {
          const details = await shows(all, key)
          const named = details.every(
            (d) => d.memberList.filter((m) => !m.removed && m.name !== null).length === all.length
          )
          return named ? true : null
        },
        { timeout: bounds.converge, interval: 200 }
      )
      r.note('every node sees all three members by name')
      // member ids of nodes 2 and 3, to assign tasks to them
      return { n2: joined[0] ?? '', n3: joined[1] ?? '' }
    }
  )

  const taskId = await r.step('together', '4. Everyone writes at the same time', async () => {
    const [task] = await Promise.all([
      (async () => {
        const post = await n1.call('post.add', {
          project: key,
          text: 'Kickoff: the kiln should dry 2 m³ of timber per batch. Ideas welcome!'
        })
        r.note(`${person(n1)} posted ${quote(post.text)}`)
        const t = await n1.call('task.add', { project: key, title: 'Build the frame' })
        r.note(`${person(n1)} added task ${quote(t.title)} (${short(t.id)})`)
        return t
      })(),
      n2
        .call('post.add', { project: key, text: 'I can source cedar for the frame.' })
        .then((p) => r.note(`${person(n2)} posted ${quote(p.text)}`)),
      n3
        .call('post.add', {
          project: key,
          text: 'Glazing: twin-wall polycarbonate costs less than glass.'
        })
        .then((p) => r.note(`${person(n3)} posted ${quote(p.text)}`))
    ])
    await poll(
      `nodes 2 and 3 to receive task ${short(task.id)}`,
      async () => {
        const lists = await Promise.all([n2, n3].map((n) => n.call('task.list', { project: key })))
        return lists.every((l) => l.some((t) => t.id === task.id)) ? true : null
      },
      { timeout: bounds.converge, interval: 150 }
    )
    r.note(
      `at the same moment: ${person(n1)} assigns it to ${person(n2)}, ` +
        `${person(n2)} and ${person(n3)} both rename it (a conflict)`
    )
    await Promise.all([
      n1.call('task.set', { project: key, id: task.id, assignee: ids.n2 }),
      n2.call('task.set', {
        project: key,
        id: task.id,
        title: 'Build the frame from cedar'
      }),
      n3.call('task.set', {
        project: key,
        id: task.id,
        title: 'Build the frame from steel'
      })
    ])
    await converged(all, key, bounds.converge, 'the three nodes to agree after the conflict')
    const seen = await Promise.all(
      all.map(async (n) => {
        const list = await n.call('task.list', { project: key })
        const t = list.find((x) => x.id === task.id)
        if (!t) throw new FluxError('NOT_FOUND', `${n.label} lost task ${task.id}`)
        r.note(
          `${n.label} (${person(n)}) sees ${quote(t.title)}, assigned to ${t.assigneeName ?? t.assignee ?? 'nobody'}`,
          { node: n.index, title: t.title, assignee: t.assignee }
        )
        return t.title
      })
    )
    if (new Set(seen).size !== 1) {
      throw new FluxError('INTERNAL', `the nodes disagree on the title: ${seen.join(' / ')}`)
    }
    r.note(
      `same winner on every node: ${quote(seen[0] ?? '')} (concurrent edits: later timestamp wins, then op id)`
    )
    const feed = await n3.call('post.feed', { project: key })
    r.note(`node 3's feed has ${feed.length} posts:`)
    for (const p of feed) r.note(`  ${p.authorName ?? short(p.author)}: ${p.text}`)
    return task.id
  })

  await r.step(
    'offline',
    '5. Node 3 goes offline; the others keep working; it comes back',
    async () => {
      const before = await n3.call('project.show', { project: key })
      const pid = n3.child?.pid ?? 0
      const exit = await mesh.stopNode(n3)
      r.note(
        `node 3 (${person(n3)}) stopped with SIGTERM (pid ${pid}, exit ${exit.signal ?? exit.code}); its home is kept`,
        { pid, exit }
      )
      await Promise.all([
        (async () => {
          await n1.call('post.add', { project: key, text: 'Frame drawings are done.' })
          await n1.call('task.set', { project: key, id: taskId, done: true })
          r.note(`${person(n1)} posted and marked the frame task done`)
        })(),
        (async () => {
          const t = await n2.call('task.add', {
            project: key,
            title: 'Order polycarbonate sheets',
            assignee: ids.n3
          })
          await n2.call('post.add', {
            project: key,
            text: 'Cedar delivered to the yard.'
          })
          r.note(`${person(n2)} added ${quote(t.title)} for ${person(n3)} and posted`)
        })()
      ])
      const [target] = await converged([n1, n2], key, bounds.converge, 'nodes 1 and 2 to agree')
      if (!target) throw new FluxError('INTERNAL', 'no state from nodes 1 and 2')
      r.note(
        `nodes 1 and 2 agree: ${target.applied} ops applied; node 3 stopped at ${before.applied}`
      )
      const started = Date.now()
      const status = await mesh.startNode(n3)
      const newPid = n3.child?.pid ?? 0
      r.data('spawn', { name: n3.label, pid: newPid, home: n3.home })
      r.note(
        `node 3 started again on the same home: same peer ${short(status.peerId)}, ` +
          `answering after ${Date.now() - started} ms (pid ${newPid})`,
        { pid: newPid }
      )
      let last = -1
      const caught = await poll(
        `node 3 to catch up to ${target.applied} ops`,
        async () => {
          const d = await n3.call('project.show', { project: key })
          if (d.applied !== last) {
            last = d.applied
            r.note(`node 3: ${d.applied} / ${target.applied} ops applied`, { applied: d.applied })
          }
          if (d.applied < target.applied) return null
          // against node 1 as it is now: an op still on its way when nodes 1 and 2 first
          // agreed (seen under load) makes that first agreement a state nobody keeps
          const now = await n1.call('project.show', { project: key })
          return d.stateHash === now.stateHash ? d : null
        },
        { timeout: bounds.converge, interval: 150 }
      )
      r.note(
        `node 3 caught up ${Date.now() - started} ms after its restart: ` +
          `${before.applied} → ${caught.applied} ops, state ${short(caught.stateHash ?? '')} matches`,
        { stateHash: caught.stateHash }
      )
    }
  )

  await r.step(
    'link',
    `6. ${person(n1)} links her phone (node 4) to her profile, and posts from it`,
    async () => {
      const status = await mesh.startNode(n4) // no flux init: a fresh device
      const pid = n4.child?.pid ?? 0
      r.data('spawn', { name: n4.label, pid, home: n4.home })
      r.note(`node 4 started with no profile: peer ${short(status.peerId)} (pid ${pid})`, { pid })
      const link = await n1.call('device.link', { expires: 10 * 60_000 })
      r.note(`node 1 made a one-use link code, valid 10 minutes: ${short(link.code, 16)}`)
      const who = await n4.call(
        'device.join',
        { code: link.code, passphrase: mesh.passphrase, name: 'phone', timeout: bounds.join },
        (p: Progress) => r.note(`node 4: ${p.message}`, { node: 4, ...p }),
        bounds.join + 5_000
      )
      r.note(
        `node 4 is a device of ${who.name} now (profile ${short(who.profile)}, ` +
          `${who.devices.length} devices); it holds ${who.projects} project(s)`
      )
      const post = await n4.call('post.add', {
        project: key,
        text: 'From my phone: the vents are cut.'
      })
      const seen = await poll(
        "node 2 to see the phone's post",
        async () => {
          const feed = await n2.call('post.feed', { project: key })
          return feed.find((p) => p.id === post.id) ?? null
        },
        { timeout: bounds.converge, interval: 150 }
      )
      r.note(
        `node 2 sees it written by ${seen.authorName ?? short(seen.author)} ` +
          `(profile ${short(seen.author)}) from device ${short(seen.device)}`
      )
    }
  )

  await r.step('archive', '7. Node 1 archives the project (read-only from now on)', async () => {
    const d = await n1.call('project.archive', { project: key })
    r.note(`archived with ${d.posts} posts, ${d.tasks} tasks and ${d.members} members`)
    await poll(
      'every node to see the project archived',
      async () => ((await shows(all, key)).every((x) => x.archived) ? true : null),
      { timeout: bounds.converge, interval: 150 }
    )
    const refused = await n2.call('post.add', { project: key, text: 'One more thing...' }).then(
      () => null,
      (err: unknown) => err
    )
    if (!isFluxError(refused, 'PROJECT_ARCHIVED')) {
      const got = refused === null ? 'it was accepted' : String(refused)
      throw new FluxError('INTERNAL', `a post to the archived project should be refused: ${got}`)
    }
    r.note(`every node sees it archived; node 2's late post is refused (${refused.code})`)
  })

  return r.step('check', '8. Final check: project.show on every node', async () => {
    let details: ProjectDetail[]
    let problem: string | null = null
    const every = [...all, n4]
    try {
      details = await converged(every, key, bounds.converge, 'the four nodes to agree')
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err)
      details = await shows(every, key)
    }
    const rows: FinalRow[] = details.map((d, i) => ({
      node: `node ${i + 1}`,
      name: PEOPLE[i] ?? '',
      applied: d.applied,
      skipped: d.skipped,
      stateHash: d.stateHash ?? ''
    }))
    r.table(
      ['node', 'name', 'applied ops', 'skipped', 'state hash'],
      [false, false, true, true, false],
      rows.map((x) => [
        x.node,
        x.name,
        String(x.applied),
        String(x.skipped),
        x.stateHash.slice(0, 16)
      ])
    )
    r.data('final', { rows })
    const ok = problem === null && same(details)
    if (ok) r.note(`identical: all ${rows.length} nodes hold state ${rows[0]?.stateHash ?? ''}`)
    return { ok, hash: ok ? (rows[0]?.stateHash ?? null) : null, rows, problem }
  })
}
