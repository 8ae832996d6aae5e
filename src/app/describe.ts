/** Turn a project's view into the shapes people see (api.ts). */
import type { Project } from '../project/project.js'
import type {
  GroupInfo,
  InviteInfo,
  MemberInfo,
  PostInfo,
  ProjectDetail,
  ProjectSummary,
  TaskInfo
} from '../api.js'
import type { MemberRecord, PostRecord, TaskRecord } from '../views/project.js'
import { encodeKey, fromHex } from '../identity/keys.js'
import type { GroupState } from '../services/project-group.js'

export function z(hex: string): string {
  return encodeKey(fromHex(hex))
}

/**
 * A project's summary, from the counters apply keeps: it never scans the view. Never throws:
 * a project whose base failed (or cannot be read now) is summarized with its error.
 */
export async function summarizeProject(project: Project): Promise<ProjectSummary> {
  if (project.failure === null) {
    try {
      return await readSummary(project)
    } catch (err) {
      return brokenSummary(project, project.failure ?? err)
    }
  }
  return brokenSummary(project, project.failure)
}

function brokenSummary(project: Project, err: unknown): ProjectSummary {
  const why = err instanceof Error ? err.message : 'unknown error'
  return {
    key: encodeKey(project.key),
    name: null,
    role: null,
    writable: false,
    readable: false,
    public: false,
    archived: false,
    members: 0,
    posts: 0,
    tasks: 0,
    applied: 0,
    skipped: 0,
    writers: 0,
    behind: 0,
    peers: 0,
    error: `the project stopped: ${why}`
  }
}

async function readSummary(project: Project): Promise<ProjectSummary> {
  const [info, sys, me, readable] = await Promise.all([
    project.view.project(),
    project.view.system(),
    project.view.member(project.memberId),
    project.readable()
  ])
  return {
    key: encodeKey(project.key),
    name: info?.name.value ?? null,
    role: me !== null && !me.removed ? me.role : null,
    writable: project.writable,
    readable,
    public: info?.public ?? false,
    archived: info?.archived.value ?? false,
    members: sys.members,
    posts: sys.posts,
    tasks: sys.tasks,
    applied: sys.applied,
    skipped: sys.skipped,
    ...project.syncState(),
    error: null
  }
}

/**
 * A project's details. The state hash reads the whole view, so it is computed only when
 * asked for (`flux project show`), never on the paths of joining or writing.
 */
export async function describeProject(
  project: Project,
  invites: InviteInfo[],
  opts: { hash?: boolean } = {},
  group: GroupState | null = null
): Promise<ProjectDetail> {
  const summary = await summarizeProject(project)
  const info = await project.view.project()
  const members = await project.view.members()
  const signed = await project.signedIndexers()
  const signs = new Set<string>()
  for (const writer of signed) {
    const w = await project.view.writer(writer)
    if (w !== null) signs.add(w.profile)
  }
  return {
    ...summary,
    description: info?.description.value ?? '',
    creator: info ? z(info.creator) : null,
    createdAt: info?.createdAt ?? null,
    memberList: members.map((m) => memberInfo(m, project.memberId, signs.has(m.profile))),
    stateHash: opts.hash === false ? null : await project.view.stateHash(),
    viewLength: project.base.view.core.length,
    signedLength: project.base.view.core.signedLength,
    signersChanging: project.tipIndexers().join() !== signed.join(),
    you: project.memberId === '' ? null : z(project.memberId),
    invites,
    group: group === null ? null : groupInfo(group)
  }
}

function groupInfo(g: GroupState): GroupInfo {
  return {
    ...g,
    replicas: g.replicas.map((r) => ({ ...r, peer: r.peer === null ? null : z(r.peer) })),
    asked: g.asked === null ? null : z(g.asked)
  }
}

export function memberInfo(m: MemberRecord, self: string, signs = false): MemberInfo {
  return {
    id: z(m.profile),
    name: m.name?.value ?? null,
    role: m.role,
    removed: m.removed,
    you: m.profile === self,
    writers: m.writers.length,
    addedBy: z(m.addedBy),
    addedAt: m.addedAt,
    signs
  }
}

export type Names = Map<string, string | null>

export async function memberNames(project: Project): Promise<Names> {
  const names: Names = new Map()
  for (const m of await project.view.members()) names.set(m.profile, m.name?.value ?? null)
  return names
}

export function postInfo(p: PostRecord, names: Names): PostInfo {
  return {
    id: p.id,
    seq: p.seq,
    author: z(p.author),
    authorName: names.get(p.author) ?? null,
    device: z(p.device),
    text: p.text,
    replyTo: p.replyTo,
    ts: p.ts
  }
}

export function taskInfo(t: TaskRecord, names: Names): TaskInfo {
  const assignee = t.assignee.value
  return {
    id: t.id,
    seq: t.seq,
    title: t.title.value,
    assignee: assignee === null ? null : z(assignee),
    assigneeName: assignee === null ? null : (names.get(assignee) ?? null),
    done: t.done.value,
    createdBy: z(t.createdBy),
    createdAt: t.createdAt
  }
}
