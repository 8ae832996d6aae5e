/**
 * Use-cases inside a project: post, read the feed, manage tasks and records, archive. Each
 * checks what it can up front so the person gets a clear error; apply checks everything
 * again, for every peer.
 */
import type { FluxNode } from '../node.js'
import type { Project } from '../project/project.js'
import type { JsonValue } from '../autobase/shapes.js'
import type { Role } from '../views/project.js'
import { FluxError } from '../errors.js'
import { LIMITS, MAX_REPLICAS } from '../project/ops.js'
import { MAX_DECAY } from '../project/credits.js'
import { decodeKey, encodeKey, toHex, looksLikeKey } from '../identity/keys.js'
import { memberNames, postInfo, taskInfo } from './describe.js'
import { requireReadable, requireWritable } from './guards.js'
import type { ProjectActions } from './projects.js'
import type { KvInfo, PostInfo, ProjectDetail, TaskInfo } from '../api.js'

export class ContentActions {
  constructor(
    private readonly node: FluxNode,
    private readonly projects: ProjectActions
  ) {}

  private async writable(ref: string): Promise<Project> {
    const project = await this.node.projects.resolve(ref)
    await requireWritable(project, this.node.profile, this.node.clock)
    // the profile may know of the revocation before the project does (members cut a revoked
    // device's node off, so the project's own record of it may never arrive)
    await this.node.devices.requireNotRevoked('write to projects', { projects: false })
    return project
  }

  private async readable(ref: string): Promise<Project> {
    const project = await this.node.projects.resolve(ref)
    await requireReadable(project)
    return project
  }

  /** Resolve a post or task id from a full id or a unique prefix of at least 4 characters. */
  private async resolveId(project: Project, kind: 'post' | 'task', ref: string): Promise<string> {
    const text = ref.trim().toLowerCase()
    if (!/^[0-9a-f]{4,32}$/.test(text))
      throw new FluxError('INVALID_INPUT', `"${ref}" is not a ${kind} id`)
    const ids = await project.view.idsByPrefix(kind, text)
    if (ids.length === 0) throw new FluxError('NOT_FOUND', `no ${kind} ${ref} in this project`)
    if (ids.length > 1)
      throw new FluxError('INVALID_INPUT', `"${ref}" matches several ${kind}s: give more of the id`)
    return ids[0] as string
  }

  /** Resolve a member from "me", a name, a z32/hex profile id, or a unique id prefix. */
  async resolveMember(project: Project, ref: string): Promise<string> {
    const text = ref.trim()
    if (text === 'me') return project.memberId
    if (looksLikeKey(text)) {
      const hex = toHex(decodeKey(text, 'member id'))
      const m = await project.view.member(hex)
      if (m === null || m.removed)
        throw new FluxError('NOT_FOUND', `${text} is not a member of this project`)
      return hex
    }
    const matches = (await project.view.members()).filter(
      (m) =>
        !m.removed &&
        ((m.name?.value ?? '').toLowerCase() === text.toLowerCase() ||
          (text.length >= 4 && encodeKey(Buffer.from(m.profile, 'hex')).startsWith(text)))
    )
    if (matches.length === 1) return (matches[0] as { profile: string }).profile
    if (matches.length > 1)
      throw new FluxError('INVALID_INPUT', `"${text}" matches several members: use the full id`)
    throw new FluxError(
      'NOT_FOUND',
      `no member "${text}" in this project (see \`flux project show\`)`
    )
  }

  async post(ref: string, text: string, replyTo?: string): Promise<PostInfo> {
    if (text.length > LIMITS.text) {
      throw new FluxError(
        'INVALID_INPUT',
        `a post is at most ${LIMITS.text} characters (this one has ${text.length}): split it`
      )
    }
    const project = await this.writable(ref)
    const parent = replyTo ? await this.resolveId(project, 'post', replyTo) : null
    // a reply names its parent by number too (layouts 2 and 3 find posts by number)
    const at = parent === null ? null : await project.view.postAt(parent)
    const op = await project.append({
      type: 'post/add',
      text,
      replyTo: parent,
      ...(at !== null && at.n > 0 ? { replyAt: at.n } : {})
    })
    await project.update()
    const post = await project.view.post(op.id)
    if (post === null) throw await notApplied(project, op.id, 'post')
    const author = await project.view.member(post.author)
    return postInfo(post, new Map([[post.author, author?.name?.value ?? null]]))
  }

  async feed(ref: string, opts: { limit?: number } = {}): Promise<PostInfo[]> {
    const project = await this.readable(ref)
    const names = await memberNames(project)
    return (await project.view.feed(opts)).map((p) => postInfo(p, names))
  }

  async addTask(ref: string, title: string, assignee?: string): Promise<TaskInfo> {
    const project = await this.writable(ref)
    const who = assignee ? await this.resolveMember(project, assignee) : null
    const op = await project.append({ type: 'task/add', title, assignee: who })
    await project.update()
    return this.task(project, op.id)
  }

  async setTask(
    ref: string,
    id: string,
    change: { title?: string; assignee?: string | null; done?: boolean }
  ): Promise<TaskInfo> {
    const project = await this.writable(ref)
    const taskId = await this.resolveId(project, 'task', id)
    const current = await project.view.task(taskId)
    if (current === null) throw new FluxError('NOT_FOUND', `no task ${id}`)
    const ops: Promise<unknown>[] = []
    if (change.title !== undefined) {
      ops.push(
        project.append({
          type: 'task/set',
          task: taskId,
          field: 'title',
          value: change.title,
          prev: current.title.id
        })
      )
    }
    if (change.assignee !== undefined) {
      const who =
        change.assignee === null ? null : await this.resolveMember(project, change.assignee)
      ops.push(
        project.append({
          type: 'task/set',
          task: taskId,
          field: 'assignee',
          value: who,
          prev: current.assignee.id
        })
      )
    }
    if (change.done !== undefined) {
      ops.push(
        project.append({
          type: 'task/set',
          task: taskId,
          field: 'done',
          value: change.done,
          prev: current.done.id
        })
      )
    }
    if (ops.length === 0)
      throw new FluxError('USAGE', 'nothing to change: give --title, --assign or --done')
    await Promise.all(ops)
    await project.update()
    return this.task(project, taskId)
  }

  private async task(project: Project, id: string): Promise<TaskInfo> {
    const t = await project.view.task(id)
    if (t === null) throw await notApplied(project, id, 'task')
    return taskInfo(t, await memberNames(project))
  }

  async tasks(ref: string): Promise<TaskInfo[]> {
    const project = await this.readable(ref)
    const names = await memberNames(project)
    return (await project.view.tasks()).map((t) => taskInfo(t, names))
  }

  async kvSet(ref: string, key: string, value: JsonValue): Promise<KvInfo> {
    const project = await this.writable(ref)
    const current = await project.view.kv(key)
    await project.append({ type: 'kv/set', key, value, prev: current?.id ?? null })
    await project.update()
    return this.kvGet(ref, key)
  }

  async kvDel(ref: string, key: string): Promise<{ key: string; deleted: boolean }> {
    const project = await this.writable(ref)
    const current = await project.view.kv(key)
    if (current === null || current.deleted) throw new FluxError('NOT_FOUND', `no record "${key}"`)
    await project.append({ type: 'kv/del', key, prev: current.id })
    await project.update()
    return { key, deleted: true }
  }

  async kvGet(ref: string, key: string): Promise<KvInfo> {
    const project = await this.readable(ref)
    const r = await project.view.kv(key)
    if (r === null || r.deleted) throw new FluxError('NOT_FOUND', `no record "${key}"`)
    return { key, value: r.value, by: encodeKey(Buffer.from(r.by, 'hex')), ts: r.ts }
  }

  async kvList(ref: string): Promise<KvInfo[]> {
    const project = await this.readable(ref)
    return (await project.view.kvList()).map(({ key, record }) => ({
      key,
      value: record.value,
      by: encodeKey(Buffer.from(record.by, 'hex')),
      ts: record.ts
    }))
  }

  private async adminProject(ref: string, what: string, allowArchived = false): Promise<Project> {
    const project = await this.node.projects.resolve(ref)
    if (allowArchived) {
      await requireReadable(project)
      if (!project.writable)
        throw new FluxError('NOT_WRITABLE', 'this node is not a writer of the project')
    } else await requireWritable(project, this.node.profile, this.node.clock)
    const me = await project.view.member(project.memberId)
    if (me === null || me.removed || me.role !== 'admin')
      throw new FluxError('NOT_ALLOWED', `only admins can ${what}`)
    return project
  }

  async archive(ref: string, archived = true): Promise<ProjectDetail> {
    const project = await this.adminProject(
      ref,
      archived ? 'archive a project' : 'unarchive a project',
      true
    )
    const info = await project.view.project()
    if (info?.archived.value === archived) {
      throw new FluxError(
        archived ? 'PROJECT_ARCHIVED' : 'INVALID_INPUT',
        archived ? 'the project is already archived' : 'the project is not archived'
      )
    }
    await project.append({ type: 'project/archive', archived, prev: info?.archived.id ?? null })
    await project.update()
    return this.projects.describe(project, { hash: false })
  }

  async setProject(
    ref: string,
    change: { name?: string; description?: string; replicas?: number; decay?: number }
  ): Promise<ProjectDetail> {
    const { replicas, decay } = change
    if (decay !== undefined && !(Number.isInteger(decay) && decay >= 0 && decay <= MAX_DECAY)) {
      throw new FluxError('INVALID_INPUT', `decay is a whole percent from 0 to ${MAX_DECAY}`)
    }
    if (replicas !== undefined && !(Number.isInteger(replicas) && replicas >= 1)) {
      throw new FluxError('INVALID_INPUT', 'replicas must be a whole number of at least 1')
    }
    if (replicas !== undefined && replicas > MAX_REPLICAS) {
      throw new FluxError('INVALID_INPUT', `a project keeps at most ${MAX_REPLICAS} replicas`)
    }
    const project = await this.adminProject(ref, 'change project details')
    const info = await project.view.project()
    if (decay !== undefined) {
      await project.append({ type: 'credits/decay', percent: decay, prev: info?.decay?.id ?? null })
    }
    if (replicas !== undefined) {
      await project.append({ type: 'project/replicas', replicas, prev: info?.replicas?.id ?? null })
    }
    if (change.name !== undefined) {
      await project.append({
        type: 'project/set',
        field: 'name',
        value: change.name,
        prev: info?.name.id ?? null
      })
    }
    if (change.description !== undefined) {
      await project.append({
        type: 'project/set',
        field: 'description',
        value: change.description,
        prev: info?.description.id ?? null
      })
    }
    await project.update()
    return this.projects.describe(project, { hash: false })
  }

  async setRole(ref: string, member: string, role: Role): Promise<ProjectDetail> {
    const project = await this.adminProject(ref, 'change roles')
    const profile = await this.resolveMember(project, member)
    await project.append({ type: 'member/role', profile, role })
    await project.update()
    return this.projects.describe(project, { hash: false })
  }

  async setName(ref: string, name: string): Promise<ProjectDetail> {
    const project = await this.writable(ref)
    const me = await project.view.member(project.memberId)
    await project.append({ type: 'member/name', name, prev: me?.name?.id ?? null })
    await project.update()
    return this.projects.describe(project, { hash: false })
  }
}

/** The error for an op that was appended but is not in the view: the peers' verdict, if any. */
async function notApplied(project: Project, opId: string, what: string): Promise<FluxError> {
  const reason = await project.view.rejection(opId)
  return reason === null
    ? new FluxError('INTERNAL', `the ${what} was appended but not applied yet`)
    : new FluxError('NOT_ALLOWED', `the ${what} was rejected: ${reason}`)
}
