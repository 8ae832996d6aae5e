/**
 * The project registry: the projects this node holds, each a Project in its own Corestore
 * namespace, announced on its topic. Opens them at start, creates and adopts new ones, finds
 * them by key, prefix or name, and removes one with its data.
 */
import fs from 'fs/promises'
import crypto from 'hypercore-crypto'
import Autobase from 'autobase'
import type Corestore from 'corestore'
import { Service } from '../util/service.js'
import type { Clock } from '../util/clock.js'
import { FluxError } from '../errors.js'
import { decodeKey, encodeKey, fromHex, looksLikeKey, toHex } from '../identity/keys.js'
import { Project } from '../project/project.js'
import { firstViewCores, neverApplied } from './first-views.js'
import { projectTopic } from '../swarm/topics.js'
import type { Network } from '../swarm/network.js'
import type { NodeState, ProjectEntry } from '../store/node-state.js'

export interface ProjectsEvents {
  /** A project is held and open (at start, created, joined, adopted). */
  'project-open': [project: Project, entry: ProjectEntry]
  /** A project's view changed (project key, hex). */
  'project-update': [key: string]
  /** This node became a writer of a project. */
  'project-writable': [project: Project]
  /** A project is no longer held (left, or replaced by a joined copy). */
  'project-close': [key: string]
  /** A project stopped on a full disk (its failure is DISK_FULL); free bytes on the home's disk. */
  'disk-full': [key: string, free: number]
  warning: [err: unknown]
}

export interface ProjectsDeps {
  store: Corestore
  network: Network
  state: NodeState
  clock: Clock
  /** The home folder: its disk is checked when a project stops. */
  home: string
}

const TOPIC_OWNER = 'projects'

export class ProjectRegistry extends Service<ProjectsEvents> {
  private readonly held = new Map<string, { entry: ProjectEntry; project: Project }>()
  private memberId = ''

  constructor(private readonly deps: ProjectsDeps) {
    super()
  }

  protected override async _open(): Promise<void> {
    for (const entry of this.deps.state.projects()) {
      try {
        await this.open(entry)
      } catch (err) {
        this.emit('warning', err)
      }
    }
  }

  protected override async _close(): Promise<void> {
    for (const { project } of [...this.held.values()].reverse()) {
      await project.close().catch(() => {})
    }
    this.held.clear()
  }

  /** Every project held here. */
  list(): Project[] {
    return [...this.held.values()].map((h) => h.project)
  }

  /** The project of this key (hex), if held. */
  get(keyHex: string): Project | null {
    return this.held.get(keyHex)?.project ?? null
  }

  /** How this node holds a project (its namespace, key, how it came). */
  entryOf(project: Project): ProjectEntry {
    const held = this.held.get(toHex(project.key))
    if (!held) throw new FluxError('PROJECT_NOT_FOUND', 'project is not held by this node')
    return held.entry
  }

  /** The held project whose discovery key (hex) this is. */
  byDiscoveryKey(hex: string): Project | null {
    for (const { project } of this.held.values()) {
      if (toHex(project.discoveryKey) === hex) return project
    }
    return null
  }

  /** This node's profile (hex) as a member: every project learns it. */
  setMember(profileHex: string): void {
    this.memberId = profileHex
    for (const { project } of this.held.values()) project.memberId = profileHex
  }

  /**
   * Find a held project by key (z32 or hex), unique key prefix, or exact name.
   * Throws PROJECT_NOT_FOUND, PROJECT_AMBIGUOUS or KEY_MALFORMED.
   */
  async resolve(ref: string): Promise<Project> {
    const text = ref.trim()
    if (looksLikeKey(text)) {
      const project = this.get(toHex(decodeKey(text, 'project key')))
      if (!project)
        throw new FluxError('PROJECT_NOT_FOUND', `this node does not hold project ${text}`)
      return project
    }
    const matches: Project[] = []
    for (const { project } of this.held.values()) {
      const z = encodeKey(project.key)
      const name = (await project.view.project())?.name.value
      if (
        (text.length >= 4 && z.startsWith(text)) ||
        (name !== undefined && name.toLowerCase() === text.toLowerCase())
      ) {
        matches.push(project)
      }
    }
    if (matches.length === 1) return matches[0] as Project
    if (matches.length > 1) {
      throw new FluxError(
        'PROJECT_AMBIGUOUS',
        `"${text}" matches ${matches.length} projects: use the full key`
      )
    }
    throw new FluxError(
      'PROJECT_NOT_FOUND',
      `no project here matches "${text}" (see \`flux project list\`)`
    )
  }

  /**
   * Create a project: a fresh base, `init` writes its first ops; only if the project then
   * exists is it kept (else it is closed and nothing is recorded).
   */
  async create(
    opts: { public: boolean },
    init: (project: Project) => Promise<boolean>
  ): Promise<Project> {
    const encryptionKey = opts.public ? null : crypto.randomBytes(32)
    const ns = newNamespace()
    const project = this.make({ key: null, ns, encryptionKey })
    await project.ready()
    let created: boolean
    try {
      created = await init(project)
    } catch (err) {
      await this.discard(project)
      throw err
    }
    if (!created) {
      await this.discard(project)
      throw new FluxError(
        'INVALID_INPUT',
        'the project could not be created: its name or description is invalid'
      )
    }
    const entry: ProjectEntry = {
      key: toHex(project.key),
      ns,
      encryptionKey: encryptionKey === null ? null : toHex(encryptionKey),
      via: 'created',
      addedAt: this.deps.clock.now()
    }
    await this.deps.state.putProject(entry)
    await this.track(entry, project)
    return project
  }

  /**
   * Hold a project by key (open it if this node does not yet): a member's project after
   * joining, a linked or recovered device's project, or a project hosted by key.
   */
  async adopt(
    keyHex: string,
    encryptionKey: Buffer | null,
    via: ProjectEntry['via'],
    ns: string = newNamespace()
  ): Promise<Project> {
    const existing = this.get(keyHex)
    if (existing) return existing
    const entry: ProjectEntry = {
      key: keyHex,
      ns,
      encryptionKey: encryptionKey === null ? null : toHex(encryptionKey),
      via,
      addedAt: this.deps.clock.now()
    }
    await this.deps.state.putProject(entry)
    return this.open(entry)
  }

  /**
   * The writer key this node will have in the project of `discoveryKey`, and the namespace it
   * lives in: the namespace of a copy already held (by key) is reused.
   */
  async futureWriter(discoveryKey: Buffer): Promise<{ ns: string; writer: Buffer }> {
    const previous = this.byDiscoveryKey(toHex(discoveryKey))
    const ns = previous ? this.entryOf(previous).ns : newNamespace()
    // not getLocalCore: its session is exclusive, and the base of a copy held by key holds
    // that lock while it runs (the join then waited for ever, past its timeout)
    const writer = await Autobase.getLocalKey(this.deps.store.namespace(ns))
    return { ns, writer }
  }

  /** Stop holding a project (its copy by key, before the joined copy takes its place). */
  async release(keyHex: string): Promise<void> {
    const held = this.held.get(keyHex)
    if (!held) return
    this.held.delete(keyHex)
    await held.project.close()
    this.emit('project-close', keyHex)
  }

  /** Stop holding a project and delete its data from disk. */
  async remove(keyHex: string): Promise<void> {
    const held = this.held.get(keyHex)
    if (!held) return
    const { project } = held
    const cores = await coresOf(project)
    this.held.delete(keyHex)
    await this.deps.network.topics.leave(projectTopic(project.discoveryKey), TOPIC_OWNER)
    await project.close()
    await this.deps.state.deleteProject(keyHex)
    this.emit('project-close', keyHex)
    await purgeCores(this.deps.store, cores)
  }

  /** A project that was never kept: closed, its cores deleted. */
  private async discard(project: Project): Promise<void> {
    const cores = await coresOf(project)
    await project.close()
    await purgeCores(this.deps.store, cores)
  }

  private make(e: { key: Buffer | null; ns: string; encryptionKey: Buffer | null }): Project {
    return new Project(this.deps.store.namespace(e.ns), {
      key: e.key,
      encryptionKey: e.encryptionKey,
      clock: this.deps.clock,
      wakeup: this.deps.network.wakeup
    })
  }

  private async open(entry: ProjectEntry): Promise<Project> {
    await this.prepareCopy(fromHex(entry.key), entry.ns)
    const project = this.make({
      key: fromHex(entry.key),
      ns: entry.ns,
      encryptionKey: entry.encryptionKey === null ? null : fromHex(entry.encryptionKey)
    })
    await project.ready()
    await this.track(entry, project)
    return project
  }

  /**
   * Make the store ready for the copy of a project held in namespace `ns`, before its base
   * opens. Two things can outlive an earlier copy here (leave, then join again, by invite or by
   * key), because they are shared by every namespace of the store:
   * - Autobase boots a base from a pointer it leaves on the bootstrap core ('autobase/local':
   *   the writer core it wrote with). A pointer left by an earlier membership names that
   *   membership's writer core, which the project removed: the new copy would write with it
   *   (NOT_WRITABLE for ever). The namespace a project is held in is the truth: point at its
   *   own writer core.
   * - The first view cores (first-views.ts): their keys come from the project key alone. A
   *   copy that never applied anything owns nothing in them, so what they hold is an earlier
   *   copy's state, which would close the new base: delete them. Leaving deletes them since
   *   this was found; this also heals a node that left before.
   */
  private async prepareCopy(key: Buffer, ns: string): Promise<void> {
    const local = Autobase.getLocalCore(this.deps.store.namespace(ns))
    let fresh: boolean
    try {
      await local.ready()
      fresh = await neverApplied(local)
      const localKey = local.key as Buffer
      if (!localKey.equals(key)) await this.pointLocal(key, localKey)
    } finally {
      await local.close()
    }
    if (fresh) await purgeCores(this.deps.store, firstViewCores(key))
  }

  private async pointLocal(key: Buffer, localKey: Buffer): Promise<void> {
    const bootstrap = this.deps.store.get({ key, active: false })
    try {
      await bootstrap.ready()
      const pointer = await bootstrap.getUserData('autobase/local')
      // no pointer: a fresh bootstrap core, Autobase writes one when the base opens
      if (pointer != null && !localKey.equals(pointer)) {
        await bootstrap.setUserData('autobase/local', localKey)
      }
    } finally {
      await bootstrap.close()
    }
  }

  private async track(entry: ProjectEntry, project: Project): Promise<void> {
    project.memberId = this.memberId
    this.held.set(entry.key, { entry, project })
    project.on('update', () => this.emit('project-update', entry.key))
    project.on('writable', () => this.emit('project-writable', project))
    project.on('warning', (err: unknown) => this.emit('warning', err))
    project.on('stopped', () => {
      checkDisk(project, this.deps.home).then(
        (free) => free !== null && this.emit('disk-full', entry.key, free),
        () => {}
      )
    })
    await this.deps.network.topics.join(projectTopic(project.discoveryKey), TOPIC_OWNER)
    this.emit('project-open', project, entry)
  }
}

/** Below this much free space, a project that stopped is taken to have met a full disk. */
export const LOW_DISK = 32 * 1024 * 1024

/** Bytes free for us on the disk holding `path`. */
export async function freeSpace(path: string): Promise<number> {
  const st = await fs.statfs(path)
  return st.bavail * st.bsize
}

/**
 * A project whose base stopped: Autobase reports a failed write as "Batch was not applied" or
 * a closed session, never the cause. When the home's disk is (nearly) full, say so (and return
 * the free bytes; null: not a full disk). `flux up` then reopens the node once space returns
 * (control/daemon.ts): RocksDB keeps its ENOSPC error until its store is reopened.
 */
async function checkDisk(project: Project, home: string): Promise<number | null> {
  const free = await freeSpace(home)
  if (free >= LOW_DISK) return null
  project.failure = new FluxError(
    'DISK_FULL',
    `no space left on the disk of ${home} (${Math.floor(free / 1024)} KiB free): the project ` +
      'stopped writing; what was acknowledged is kept. Free some space: the node (flux up) ' +
      'reopens by itself once space returns.'
  )
  return free
}

function newNamespace(): string {
  return crypto.randomBytes(16).toString('hex')
}

/**
 * Every core of a project this node knows: its writers (all members'), its view cores, and the
 * first view cores every copy starts from (first-views.ts).
 */
export async function coresOf(project: Project): Promise<Buffer[]> {
  const keys = new Map<string, Buffer>()
  const add = (key: Buffer | null | undefined): void => {
    if (key) keys.set(toHex(key), key)
  }
  add(project.key)
  add(project.writerKey)
  for (const m of await project.view.members().catch(() => [])) {
    for (const w of m.writers) add(fromHex(w))
  }
  for (const w of project.base.activeWriters) add(w.core.key as Buffer)
  const views = (project.base as unknown as ViewLister)._viewStore?.listViews?.() ?? []
  for (const v of views) add(v.key)
  for (const k of firstViewCores(project.key)) add(k)
  return [...keys.values()]
}

interface ViewLister {
  _viewStore?: { listViews?: () => Array<{ key: Buffer }> }
}

/** Delete cores from storage (hypercore 11.39's purge); cores not stored here are skipped. */
export async function purgeCores(store: Corestore, keys: Buffer[]): Promise<void> {
  for (const key of keys) {
    if (!(await store.storage.hasCore(crypto.discoveryKey(key)))) continue
    const core = store.get({ key, active: false })
    await core.ready()
    await core.purge()
  }
}
