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
import { decodeKey, encodeKey, toHex } from '../identity/keys.js'
import {
  createWriterProof,
  decodeWriterProof,
  encodeWriterProof,
  verifyWriterProof
} from '../identity/writer-proof.js'
import type { Project } from '../project/project.js'
import type { Role } from '../views/project.js'
import { decodeInviteCode, encodeInviteCode } from '../swarm/codes.js'
import { askToPair, openRequest, spent } from '../swarm/pairing.js'
import type { InviteEntry, NodeState } from '../store/node-state.js'
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

export class InviteService extends Service<InvitesEvents> {
  /** Pairing members listening for joiners, per project (key hex). */
  private readonly members = new Map<string, BlindPairing.Member>()
  private readonly lock = new Mutex()

  constructor(private readonly deps: InvitesDeps) {
    super()
    deps.projects.on('project-open', (project, entry) => {
      if (this.active(entry.key).length > 0) this.listen(project)
    })
    deps.projects.on('project-close', (key) => {
      const member = this.members.get(key)
      this.members.delete(key)
      void member?.close().catch(() => {})
    })
  }

  protected override async _close(): Promise<void> {
    for (const member of this.members.values()) await member.close().catch(() => {})
    this.members.clear()
  }

  /** The invites this node issued for a project. */
  list(projectHex: string): InviteInfo[] {
    return this.deps.state.invites(projectHex).map((i) => ({
      id: i.id,
      role: i.role,
      expires: i.expires,
      uses: i.uses,
      used: i.used
    }))
  }

  /** Issue an invite code. Expiry and uses are enforced by this node when it admits. */
  async create(project: Project, opts: InviteOptions = {}): Promise<CreatedInvite> {
    const { state, clock } = this.deps
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
    const entry: InviteEntry = {
      id: created.id.toString('hex'),
      project: toHex(project.key),
      publicKey: created.publicKey.toString('hex'),
      role,
      expires,
      uses,
      used: 0,
      createdAt: clock.now(),
      admitted: []
    }
    await state.putInvite(entry)
    this.listen(project)
    this.emit('invite-created', { project: entry.project, id: entry.id })
    return {
      code: encodeInviteCode(created.invite),
      project: encodeKey(project.key),
      id: entry.id,
      role,
      expires,
      uses,
      used: 0
    }
  }

  private active(projectHex: string): InviteEntry[] {
    const now = this.deps.clock.now()
    return this.deps.state.invites(projectHex).filter((i) => i.expires > now && i.used < i.uses)
  }

  private listen(project: Project): void {
    const key = toHex(project.key)
    if (this.members.has(key)) return
    const member = this.deps.pairing.addMember({
      discoveryKey: project.discoveryKey,
      onadd: (req) =>
        this.lock.run(async () => {
          try {
            await this.admit(project, req)
          } catch (err) {
            // a request from the network must never take the node down
            this.emit('warning', err)
          }
        })
    })
    this.members.set(key, member)
  }

  /** Answer one pairing request: the checks the library leaves to us, then the member/add op. */
  private async admit(project: Project, req: BlindPairing.MemberRequest): Promise<void> {
    const { state, clock } = this.deps
    const key = toHex(project.key)
    const invite = state.invite(req.inviteId.toString('hex'))
    if (invite === null || invite.project !== key) {
      // Not ours: another member may have issued it, so stay silent (a request cannot be
      // denied without the invite's key anyway).
      this.emit('invite-ignored', { project: key })
      return
    }
    const userData = openRequest(req, invite.publicKey)
    if (userData === null) return
    const as = decodeWriterProof(userData)
    const proof = verifyWriterProof(as, project.discoveryKey)
    const confirm = (): void =>
      req.confirm({ key: project.key, encryptionKey: project.base.encryptionKey })
    if (proof !== null && invite.admitted.includes(proof.writer)) {
      confirm() // the same candidate asking again (it missed our first answer)
      return
    }
    const over = spent(invite, clock.now())
    if (over !== null) {
      req.deny({ status: over.status })
      this.emit('invite-denied', { project: key, reason: over.reason })
      return
    }
    if (proof === null || as === null || project.closing) {
      req.deny({ status: 1 })
      return
    }
    invite.used++
    invite.admitted.push(proof.writer)
    await state.putInvite(invite)
    const existing = await project.view.member(proof.profile)
    if (existing === null || existing.removed) {
      await project.append({ type: 'member/add', role: invite.role, invite: invite.id, as })
    } else if ((await project.view.writer(proof.writer)) === null) {
      // another device of a profile that is already a member
      await project.append({ type: 'writer/add', as })
    }
    confirm()
    this.emit('invite-admitted', { project: key, writer: proof.writer })
  }

  /** Hold a project by its bare key: a private project's data stays unreadable here. */
  hostByKey(key: Buffer): Promise<Project> {
    return this.deps.projects.adopt(toHex(key), null, 'key')
  }

  /** Join a project with an invite code: pair with a member, then wait to be a writer. */
  async join(code: string, opts: JoinOptions = {}): Promise<Project> {
    const { profile, projects, clock } = this.deps
    const keys = profile.requireKeys()
    const decoded = decodeInviteCode(code)
    const progress = opts.onProgress ?? (() => {})
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
        `this invite expired at ${new Date(decoded.expires).toISOString()}: ask for a new one`
      )
    }
    const previous = projects.byDiscoveryKey(toHex(decoded.discoveryKey))
    if (previous?.writable) {
      throw new FluxError(
        'PROJECT_EXISTS',
        `you are already a member of ${encodeKey(previous.key)}`
      )
    }
    const { ns, writer } = await projects.futureWriter(decoded.discoveryKey)
    progress({ phase: 'pairing', message: 'asking the project members to let us in' })
    const userData = encodeWriterProof(createWriterProof(keys, decoded.discoveryKey, writer))
    const timeout = opts.timeout ?? DEFAULT_JOIN_TIMEOUT
    const result = await askToPair(this.deps.pairing, decoded.invite, userData, timeout, {
      used: ['INVITE_USED', 'this invite has already been used: ask for a new one'],
      expired: ['INVITE_EXPIRED', 'this invite has expired: ask for a new one'],
      rejected: [
        'INVITE_REJECTED',
        'the project refused this invite: it is unknown there (revoked, or for another project)'
      ],
      failed: 'pairing failed',
      timeout: `no member of the project answered within ${Math.round(timeout / 1000)}s: none is online, or none knows this invite`
    })
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
    try {
      progress({ phase: 'syncing', message: 'waiting to be added as a writer' })
      await project.waitWritable(timeout)
      await project.update()
    } finally {
      syncing = false
      project.off('update', onUpdate)
    }
    this.deps.writers.introduceWhenSynced(project)
    progress({ phase: 'writable', message: 'joined: this node is now a writer' })
    this.emit('project-joined', { project: toHex(project.key) })
    return project
  }
}
