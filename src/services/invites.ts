/**
 * Invites and joining. A member issues invite codes (blind-pairing invites recorded in
 * node.json, with a role, a number of uses and an expiry this node enforces) and admits the
 * joiners who use them; a joiner uses a code to become a writer of the project, or holds a
 * project by its bare key (hosting it).
 */
import BlindPairing from 'blind-pairing'
import crypto from 'hypercore-crypto'
import { Service } from '../util/service.js'
import type { Clock } from '../util/clock.js'
import { Mutex } from '../util/mutex.js'
import { FluxError } from '../errors.js'
import { decodeKey, encodeKey, fromHex, toHex } from '../identity/keys.js'
import {
  createWriterProof,
  decodeWriterProof,
  encodeWriterProof,
  verifyWriterProof
} from '../identity/writer-proof.js'
import type { Project } from '../project/project.js'
import type { Role } from '../views/project.js'
import { decodeInviteCode, encodeInviteCode, expiredMessage } from '../swarm/codes.js'
import { askToPair, openRequest, spent } from '../swarm/pairing.js'
import type { NodeState } from '../store/node-state.js'
import type { DeniedRecord, InviteRecord } from '../views/project.js'
import { waitFor } from '../util/until.js'
import type { ProfileService } from './profile.js'
import type { ProjectRegistry } from './projects.js'
import type { WriterService } from './writers.js'
import type { CreatedInvite, InviteInfo, Progress } from '../api.js'

export interface InvitesEvents {
  'invite-created': [info: { project: string; id: string }]
  'invite-admitted': [info: { project: string; writer: string }]
  'invite-denied': [info: { project: string; reason: string }]
  /** A request with an invite this node did not issue (another member may have). */
  'invite-ignored': [info: { project: string }]
  /** This node joined a project by invite and writes to it. */
  'project-joined': [info: { project: string }]
  warning: [err: unknown]
}

export interface InvitesDeps {
  pairing: BlindPairing
  state: NodeState
  clock: Clock
  projects: ProjectRegistry
  profile: ProfileService
  writers: WriterService
}

export interface InviteOptions {
  role?: Role
  /** Lifetime in ms. */
  expires?: number
  uses?: number
}

export interface JoinOptions {
  /** Expected project (key); a code for another project is refused before any network. */
  project?: string | undefined
  /** Give up after this many ms. */
  timeout?: number
  onProgress?: (p: Progress) => void
}

export const DEFAULT_INVITE_TTL = 24 * 3600 * 1000
const DEFAULT_JOIN_TIMEOUT = 120_000
/**
 * How long a member that did not make the invite lets its maker answer first (ms, plus up to
 * half again at random so that two such members rarely answer together). A pairing request
 * reaches a member once per channel or DHT record, so the wait is on time, not on asks.
 * Politeness only: apply counts the use whoever answers.
 */
const DEFER_TO_MAKER = 2000

/** What blind-pairing tells a candidate the project refused, by the reason apply gave. */
const DENIED_STATUS: Record<string, number> = {
  'invite used up': 2,
  'invite expired': 3,
  'invite revoked': 1
}

function deniedError(d: DeniedRecord): FluxError {
  if (d.reason === 'invite used up') {
    return new FluxError(
      'INVITE_USED',
      "another joiner took this invite's last use at the same moment: ask for a new one"
    )
  }
  if (d.reason === 'invite expired') {
    return new FluxError(
      'INVITE_EXPIRED',
      'this invite had expired when the project saw it: ask for a new one'
    )
  }
  return new FluxError('INVITE_REJECTED', `the project refused this invite: ${d.reason}`)
}

/**
 * Why a join got no answer: the member who made the invite (named when the code names them)
 * is not online, and no other member that knows the invite is either.
 */
function noAnswer(maker: string | null, timeout: number): string {
  const within = `no member of the project answered within ${Math.round(timeout / 1000)}s`
  if (maker === null) return `${within}: none is online, or none knows this invite`
  return (
    `${within}: the member who made this invite (${maker}) must be online, ` +
    'or another member who has seen the invite'
  )
}

/** An invite that can still admit someone, as far as this node's clock says. */
function isOpen(r: InviteRecord, now: number): boolean {
  return !r.revoked && r.expires > now && r.used < r.uses
}

function inviteInfo(r: InviteRecord, now: number): InviteInfo {
  return {
    id: r.id,
    role: r.role,
    expires: r.expires,
    uses: r.uses,
    used: r.used,
    revoked: r.revoked,
    open: isOpen(r, now),
    by: encodeKey(fromHex(r.by))
  }
}

export class InviteService extends Service<InvitesEvents> {
  /** Pairing members listening for joiners, per project (key hex). */
  private readonly members = new Map<string, BlindPairing.Member>()
  private readonly lock = new Mutex()
  private readonly checking = new Set<string>()
  /** Members deferring to an invite's maker (cut short on close). */
  private readonly waits = new Set<{ resolve: () => void }>()
  /**
   * Joins under way, per project (discovery key hex). blind-pairing allows one candidate per
   * project at a time, so a second join of the same project is refused plainly (JOIN_PENDING),
   * and a join is cancelled through here (`flux project join` on Ctrl-C).
   */
  private readonly joining = new Map<string, { abort: AbortController; paired: boolean }>()

  constructor(private readonly deps: InvitesDeps) {
    super()
    const check = (project: Project): void => {
      this.refresh(project).catch((err: unknown) => this.emit('warning', err))
    }
    deps.projects.on('project-open', (project) => check(project))
    deps.projects.on('project-update', (key) => {
      const project = deps.projects.get(key)
      if (project !== null) check(project)
    })
    deps.projects.on('project-close', (key) => {
      const member = this.members.get(key)
      this.members.delete(key)
      void member?.close().catch(() => {})
    })
  }

  protected override async _close(): Promise<void> {
    for (const wait of [...this.waits]) wait.resolve()
    for (const member of this.members.values()) await member.close().catch(() => {})
    this.members.clear()
  }

  /** The invites recorded in a project, open ones first. */
  async list(project: Project): Promise<InviteInfo[]> {
    const now = this.deps.clock.now()
    const all = (await project.view.invites()).map((r) => inviteInfo(r, now))
    return [...all.filter((i) => i.open), ...all.filter((i) => !i.open)]
  }

  /**
   * Issue an invite code, recorded in the project so that any member can admit with it; its
   * uses and expiry are counted by apply on every peer.
   */
  async create(project: Project, opts: InviteOptions = {}): Promise<CreatedInvite> {
    const { clock } = this.deps
    const role = opts.role ?? 'member'
    const me = await project.view.member(project.memberId)
    if (me === null || me.removed) throw new FluxError('NOT_ALLOWED', 'only members can invite')
    if (role === 'admin' && me.role !== 'admin') {
      throw new FluxError('NOT_ALLOWED', 'only admins can invite admins')
    }
    const uses = opts.uses ?? 1
    if (!Number.isInteger(uses) || uses < 1 || uses > 1000) {
      throw new FluxError('INVALID_INPUT', 'uses must be a whole number from 1 to 1000')
    }
    const expires = clock.now() + (opts.expires ?? DEFAULT_INVITE_TTL)
    const created = BlindPairing.createInvite(project.key, { expires })
    const id = created.id.toString('hex')
    const publicKey = created.publicKey.toString('hex')
    const op = await project.append({
      type: 'invite/add',
      invite: { id, publicKey, role, uses, expires }
    })
    await project.update()
    const record = await project.view.invite(id)
    if (record === null) {
      const why = (await project.view.rejection(op.id)) ?? 'not applied yet'
      throw new FluxError('NOT_ALLOWED', `the invite was refused: ${why}`)
    }
    this.listen(project)
    this.emit('invite-created', { project: toHex(project.key), id })
    // the code names its maker, so that a joiner who finds no one online knows whom to ask
    const maker = me.name?.value ?? this.deps.profile.name
    return {
      code: encodeInviteCode(created.invite, maker === '' ? null : maker),
      project: encodeKey(project.key),
      ...inviteInfo(record, clock.now())
    }
  }

  /** Revoke an invite (admins, or the member who made it): no one joins with it from now on. */
  async revoke(project: Project, ref: string): Promise<InviteInfo> {
    const text = ref.trim().toLowerCase()
    const matches = (await project.view.invites()).filter(
      (i) => text.length >= 4 && i.id.startsWith(text)
    )
    if (matches.length !== 1) {
      throw new FluxError(
        matches.length === 0 ? 'NOT_FOUND' : 'INVALID_INPUT',
        matches.length === 0
          ? `no invite "${ref}" in this project (see \`flux project invites\`)`
          : `"${ref}" matches ${matches.length} invites: give more of the id`
      )
    }
    const record = matches[0] as InviteRecord
    const me = await project.view.member(project.memberId)
    if (me === null || me.removed || (me.role !== 'admin' && record.by !== me.profile)) {
      throw new FluxError('NOT_ALLOWED', 'only admins, or the member who made it, revoke an invite')
    }
    if (record.revoked) throw new FluxError('INVALID_INPUT', 'this invite is already revoked')
    await project.append({ type: 'invite/revoke', invite: record.id })
    await project.update()
    const after = await project.view.invite(record.id)
    return inviteInfo(after ?? record, this.deps.clock.now())
  }

  /** Listen for joiners while the project has an open invite (any member's). */
  private async refresh(project: Project): Promise<void> {
    const key = toHex(project.key)
    if (this.checking.has(key) || this.members.has(key) || project.closing) return
    this.checking.add(key)
    try {
      const now = this.deps.clock.now()
      const open = (await project.view.invites()).some((r) => isOpen(r, now))
      if (open && project.writable) this.listen(project)
    } finally {
      this.checking.delete(key)
    }
  }

  private listen(project: Project): void {
    const key = toHex(project.key)
    if (this.members.has(key) || this.closing || project.closing) return
    if (this.deps.pairing.closing) return // the node is closing
    const member = this.deps.pairing.addMember({
      discoveryKey: project.discoveryKey,
      onadd: async (req) => {
        try {
          const invite = await project.view.invite(req.inviteId.toString('hex'))
          if (invite !== null && invite.by !== project.memberId && !project.closing) {
            await this.defer(DEFER_TO_MAKER * (1 + Math.random() / 2))
          }
          await this.lock.run(() => this.admit(project, req))
        } catch (err) {
          // a request from the network must never take the node down
          this.emit('warning', err)
        }
      }
    })
    // opening fails when the node's swarm is already gone (the node is closing)
    member.ready().catch((err: unknown) => this.emit('warning', err))
    this.members.set(key, member)
  }

  /**
   * Answer one pairing request with an invite recorded in the project: the checks the library
   * leaves to us, then the member/add op; the peers' apply has the last word on the use.
   */
  private async admit(project: Project, req: BlindPairing.MemberRequest): Promise<void> {
    const key = toHex(project.key)
    const invite = await project.view.invite(req.inviteId.toString('hex'))
    if (invite === null) {
      // not recorded here (yet): another member may know it, and a request cannot be denied
      // without the invite's key anyway
      this.emit('invite-ignored', { project: key })
      return
    }
    const userData = openRequest(req, invite.publicKey)
    if (userData === null) return
    const as = decodeWriterProof(userData)
    const proof = verifyWriterProof(as, project.discoveryKey)
    const confirm = (): void =>
      req.confirm({ key: project.key, encryptionKey: project.base.encryptionKey })
    const deny = (status: number, reason: string): void => {
      req.deny({ status })
      this.emit('invite-denied', { project: key, reason })
    }
    if (proof !== null && invite.admitted.includes(proof.writer)) return confirm() // asked again
    if (invite.revoked) return deny(1, 'revoked')
    const over = spent(invite, this.deps.clock.now())
    if (over !== null) return deny(over.status, over.reason)
    if (proof === null || as === null || project.closing || !project.writable) {
      req.deny({ status: 1 })
      return
    }
    const existing = await project.view.member(proof.profile)
    if (existing !== null && !existing.removed) {
      // another device of a profile that is already a member: its proof is the authority
      if ((await project.view.writer(proof.writer)) === null) {
        await project.append({ type: 'writer/add', as })
      }
    } else {
      await project.append({ type: 'member/add', role: invite.role, invite: invite.id, as })
    }
    await project.update()
    const denied = await project.view.denied(proof.writer)
    if (denied !== null) return deny(DENIED_STATUS[denied.reason] ?? 1, denied.reason)
    confirm()
    this.emit('invite-admitted', { project: key, writer: proof.writer })
  }

  /** Wait `ms` of real time (cut short when the service closes). */
  private defer(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wait = { timer: setTimeout(() => done(), ms), resolve: () => done() }
      const done = (): void => {
        clearTimeout(wait.timer)
        this.waits.delete(wait)
        resolve()
      }
      this.waits.add(wait)
    })
  }

  /** Hold a project by its bare key: a private project's data stays unreadable here. */
  hostByKey(key: Buffer): Promise<Project> {
    return this.deps.projects.adopt(toHex(key), null, 'key')
  }

  /** Join a project with an invite code: pair with a member, then wait to be a writer. */
  async join(code: string, opts: JoinOptions = {}): Promise<Project> {
    const { profile, projects, clock } = this.deps
    profile.requireKeys()
    const decoded = decodeInviteCode(code)
    if (opts.project !== undefined) {
      const expected = decodeKey(opts.project, 'project key')
      if (!crypto.discoveryKey(expected).equals(decoded.discoveryKey)) {
        throw new FluxError(
          'INVITE_WRONG_PROJECT',
          `this invite is for another project, not ${encodeKey(expected)}`
        )
      }
    }
    if (decoded.expires !== 0 && decoded.expires <= clock.now()) {
      throw new FluxError(
        'INVITE_EXPIRED',
        expiredMessage('invite', decoded.expires, clock.now(), 'ask for a new one')
      )
    }
    const previous = projects.byDiscoveryKey(toHex(decoded.discoveryKey))
    if (previous?.writable) {
      throw new FluxError(
        'PROJECT_EXISTS',
        `you are already a member of ${encodeKey(previous.key)}`
      )
    }
    const dk = toHex(decoded.discoveryKey)
    if (this.joining.has(dk)) {
      throw new FluxError(
        'JOIN_PENDING',
        'this node is already joining this project (another `flux project join` is waiting ' +
          'for an answer): wait for it, or stop it (Ctrl-C, or `flux project join --cancel CODE`)'
      )
    }
    const entry = { abort: new AbortController(), paired: false }
    this.joining.set(dk, entry)
    try {
      return await this.pairAndWait(decoded, previous, entry, opts)
    } finally {
      this.joining.delete(dk)
    }
  }

  /**
   * Cancel the join under way for the project of `code`: 'cancelled' while it still waits for
   * a member's answer; 'accepted' once a member let us in (the project is ours then: the join
   * finishes); 'none' when no join of that project is under way.
   */
  cancelJoin(code: string): 'cancelled' | 'accepted' | 'none' {
    const entry = this.joining.get(toHex(decodeInviteCode(code).discoveryKey))
    if (entry === undefined) return 'none'
    if (entry.paired) return 'accepted'
    entry.abort.abort()
    return 'cancelled'
  }

  private async pairAndWait(
    decoded: ReturnType<typeof decodeInviteCode>,
    previous: Project | null,
    entry: { abort: AbortController; paired: boolean },
    opts: JoinOptions
  ): Promise<Project> {
    const { profile, projects, clock } = this.deps
    const keys = profile.requireKeys()
    const progress = opts.onProgress ?? (() => {})
    const { ns, writer } = await projects.futureWriter(decoded.discoveryKey)
    if (entry.abort.signal.aborted) throw new FluxError('CANCELLED', 'cancelled: nothing joined')
    progress({ phase: 'pairing', message: 'asking the project members to let us in' })
    const userData = encodeWriterProof(createWriterProof(keys, decoded.discoveryKey, writer))
    const timeout = opts.timeout ?? DEFAULT_JOIN_TIMEOUT
    const result = await askToPair(
      this.deps.pairing,
      decoded.invite,
      userData,
      timeout,
      {
        used: ['INVITE_USED', 'this invite has already been used: ask for a new one'],
        expired: ['INVITE_EXPIRED', 'this invite has expired: ask for a new one'],
        rejected: [
          'INVITE_REJECTED',
          'the project refused this invite: it is unknown there (revoked, or for another project)'
        ],
        failed: 'pairing failed',
        timeout: noAnswer(decoded.maker, timeout),
        cancelled: 'cancelled before any member answered: nothing joined'
      },
      entry.abort.signal
    )
    entry.paired = true
    progress({ phase: 'paired', message: 'accepted: opening the project' })
    if (previous) await projects.release(toHex(previous.key))
    const project = await projects.adopt(toHex(result.key), result.encryptionKey, 'invite', ns)
    let syncing = true
    const onUpdate = (): void => {
      void project.view.system().then((s) => {
        // a count read before we finished must not arrive after 'writable'
        if (syncing) progress({ phase: 'syncing', message: 'syncing', applied: s.applied })
      })
    }
    project.on('update', onUpdate)
    let denied: DeniedRecord | null = null
    try {
      progress({ phase: 'syncing', message: 'waiting to be added as a writer' })
      // a member let us in; the project's apply has the last word (another joiner may have
      // taken the last use of the invite at the same moment, through another member)
      denied = await waitFor(
        async () => {
          if (project.writable) return 'writable'
          return project.view.denied(toHex(writer))
        },
        { emitter: project, event: 'update' },
        timeout,
        'not yet accepted as a writer: no member is online to add us',
        clock
      ).then((r) => (r === 'writable' ? null : r))
      await project.update()
    } finally {
      syncing = false
      project.off('update', onUpdate)
    }
    if (denied !== null) {
      await projects.remove(toHex(project.key))
      throw deniedError(denied)
    }
    this.deps.writers.introduceWhenSynced(project)
    progress({ phase: 'writable', message: 'joined: this node is now a writer' })
    this.emit('project-joined', { project: toHex(project.key) })
    return project
  }
}
