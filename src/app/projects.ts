/**
 * Use-cases for projects as a whole: create, invite, join, leave, list and show. Each checks
 * what it can up front and then asks the services.
 */
import { FluxError } from '../errors.js'
import { decodeKey, encodeKey, looksLikeKey, toHex } from '../identity/keys.js'
import { createWriterProof } from '../identity/writer-proof.js'
import { CAUSAL, LAYOUT } from '../views/project.js'
import type { FluxNode } from '../node.js'
import type { Project } from '../project/project.js'
import type { InviteOptions, JoinOptions } from '../services/invites.js'
import { waitFor } from '../util/until.js'
import { requireOnline, requireReadable, requireWritable } from './guards.js'
import { describeProject, summarizeProject } from './describe.js'
import type { CreatedInvite, InviteInfo, ProjectDetail, ProjectSummary } from '../api.js'

/** How long leaving waits for a peer to take our last block before deleting it (ms). */
const HAND_OVER = 5000
/** How long an indexer that leaves waits for the others to sign its replacement (ms). */
const INDEXING_HAND_OVER = 60_000

export class ProjectActions {
  constructor(private readonly node: FluxNode) {}

  /** Create a project; this node becomes its first admin. */
  async create(opts: {
    name: string
    description?: string
    public?: boolean
    /**
     * The view layout: older ones only to make a project as it was made before (tests): 1 with
     * causal rule 1, 2 with rule 2.
     */
    layout?: 1 | 2 | typeof LAYOUT
  }): Promise<ProjectDetail> {
    const { profile, projects, writers } = this.node
    const keys = profile.requireFullDevice('create projects')
    const project = await projects.create({ public: !!opts.public }, async (p) => {
      await p.append({
        type: 'project/init',
        name: opts.name,
        description: opts.description ?? '',
        public: !!opts.public,
        as: createWriterProof(keys, p.discoveryKey, p.writerKey),
        ...(opts.layout === 1 ? {} : { layout: opts.layout ?? LAYOUT, causal: CAUSAL })
      })
      await p.update()
      return (await p.view.project()) !== null
    })
    await writers.introduce(project)
    return this.describe(project, { hash: false })
  }

  /** Issue an invite code for a project. */
  async invite(ref: string, opts: InviteOptions = {}): Promise<CreatedInvite> {
    const project = await this.node.projects.resolve(ref)
    await requireWritable(project, this.node.profile, this.node.clock)
    return this.node.invites.create(project, opts)
  }

  /**
   * Join a project by invite code (becoming a writer) or by bare key (hosting it: a private
   * project's data stays unreadable; a public one can be read).
   */
  async join(codeOrKey: string, opts: JoinOptions = {}): Promise<ProjectDetail> {
    const text = codeOrKey.trim()
    if (!looksLikeKey(text)) requireOnline(this.node, 'joining by invite')
    const project = looksLikeKey(text)
      ? await this.node.invites.hostByKey(decodeKey(text, 'project key'))
      : await this.node.invites.join(text, opts)
    return this.describe(project, { hash: false })
  }

  /**
   * Cancel this node's join of the project an invite code is for (`flux project join` on
   * Ctrl-C): see InviteService.cancelJoin.
   */
  cancelJoin(code: string): { state: 'cancelled' | 'accepted' | 'none' } {
    return { state: this.node.invites.cancelJoin(code.trim()) }
  }

  /**
   * Stop holding a project and delete its data here. A member removes itself first (the
   * creator too: admin rights and indexing pass on by the project's rule), unless it is the
   * last member. An indexer stays until the others have signed the hand-over (bounded by
   * `timeout`): leaving earlier would stall the project's signed history. When nobody is online
   * to take over, it fails with HANDOVER_PENDING and keeps the project; `force` leaves anyway.
   */
  async leave(
    ref: string,
    opts: { force?: boolean; timeout?: number } = {}
  ): Promise<{ key: string }> {
    const { projects, writers } = this.node
    const project = await projects.resolve(ref)
    const key = toHex(project.key)
    const me = project.memberId
    const member = project.writable ? await project.view.member(me) : null
    const others =
      member !== null && (await project.view.members()).some((m) => !m.removed && m.profile !== me)
    if (others) {
      if (!member.removed) await project.append({ type: 'member/remove', profile: me })
      if (!opts.force) await this.handOverIndexing(project, opts.timeout ?? INDEXING_HAND_OVER)
      await this.handOver(project)
    }
    await this.node.profileProjects.forget(key).catch(() => {})
    writers.forget(key)
    await projects.remove(key)
    return { key: encodeKey(project.key) }
  }

  /** Wait until the signed indexers no longer count on us (they signed our replacement). */
  private async handOverIndexing(project: Project, timeout: number): Promise<void> {
    const me = project.writerId
    const signing = async (): Promise<boolean> => (await project.signedIndexers()).includes(me)
    if (!(await signing())) return
    await waitFor(
      async () => ((await signing()) ? null : true),
      { emitter: project, event: 'update' },
      timeout,
      'no member took over indexing',
      this.node.clock
    ).catch((err: unknown) => {
      if (!(err instanceof FluxError) || err.code !== 'TIMEOUT') throw err
      throw new FluxError(
        'HANDOVER_PENDING',
        "this node signs the project's history and no other member is online to take over: " +
          'the project is kept here; leave again once another member is online, or pass ' +
          '--force to leave now (the signed history then waits until a signer comes back)'
      )
    })
  }

  /**
   * Our data is about to be deleted: give a peer that replicates the project a moment (bounded)
   * to take our last block, the removal of ourselves, so that it reaches the project.
   */
  private async handOver(project: Project): Promise<void> {
    const local = project.base.local
    const length = local.length
    if (local.peers.length === 0) return
    await waitFor(
      async () => (local.peers.some((p) => p.remoteLength >= length) ? true : null),
      { emitter: local, event: 'upload' },
      HAND_OVER,
      'no peer took our last block',
      this.node.clock
    ).catch(() => {})
  }

  summaries(): Promise<ProjectSummary[]> {
    return Promise.all(this.node.projects.list().map((p) => summarizeProject(p)))
  }

  /** One project's details, with its state hash (which reads the whole view). */
  async show(ref: string): Promise<ProjectDetail> {
    return this.describe(await this.node.projects.resolve(ref))
  }

  /** A project's details; `hash: false` skips the state hash. */
  async describe(project: Project, opts: { hash?: boolean } = {}): Promise<ProjectDetail> {
    if (this.node.projects.get(toHex(project.key)) === null) {
      throw new FluxError('PROJECT_NOT_FOUND', 'project is not held by this node')
    }
    const readable = await project.readable()
    const invites = readable ? await this.node.invites.list(project) : []
    const group = readable ? await this.node.projectGroup.state(project) : null
    return describeProject(project, invites, opts, group)
  }

  /** The invites recorded in a project: open ones first. */
  async invites(ref: string): Promise<InviteInfo[]> {
    const project = await this.node.projects.resolve(ref)
    await requireReadable(project)
    return this.node.invites.list(project)
  }

  /** Revoke an invite (admins, or the member who made it). */
  async uninvite(ref: string, invite: string): Promise<InviteInfo> {
    const project = await this.node.projects.resolve(ref)
    await requireWritable(project, this.node.profile, this.node.clock)
    return this.node.invites.revoke(project, invite)
  }
}
