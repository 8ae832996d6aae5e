/**
 * What a node remembers about itself outside any base: the projects it holds, the invites and
 * link codes it issued, the public facts of its profile and the profiles it hosts. A small
 * JSON file (HOME/node.json), versioned, checked section by section when it is read, and
 * replaced atomically (write, fsync, rename) on every change.
 */
import fs from 'fs/promises'
import { FluxError } from '../errors.js'
import { homePaths } from './home.js'
import { DEFAULT_TOGGLES, type Toggles } from '../policy/admission.js'
import {
  parseState,
  type HostedProfile,
  type HostedProject,
  type InviteEntry,
  type PeerRule,
  type PendingPeer,
  type PhonebookEntry,
  type ProfileEntry,
  type ProjectEntry,
  type StateFile
} from './state-shape.js'

export type {
  HostedProfile,
  HostedProject,
  InviteEntry,
  PeerRule,
  PendingPeer,
  PhonebookEntry,
  ProfileEntry,
  ProjectEntry,
  StateFile
}

export class NodeState {
  private data: StateFile = {
    version: 1,
    projects: {},
    invites: {},
    profile: null,
    hosted: {},
    hostedProjects: {},
    offer: null,
    toggles: { ...DEFAULT_TOGGLES },
    peers: {},
    pending: {},
    phonebook: null
  }
  private writing: Promise<void> = Promise.resolve()

  constructor(private readonly file: string) {}

  /** Read the file (none yet: an empty state). Throws STATE_CORRUPT naming what is wrong. */
  async load(): Promise<void> {
    let text: string
    try {
      text = await fs.readFile(this.file, 'utf-8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw new FluxError('STATE_CORRUPT', `cannot read ${this.file}: ${(err as Error).message}`)
    }
    this.data = parseState(text, this.file)
  }

  projects(): ProjectEntry[] {
    return Object.values(this.data.projects)
  }

  project(keyHex: string): ProjectEntry | null {
    return this.data.projects[keyHex] ?? null
  }

  invite(idHex: string): InviteEntry | null {
    return this.data.invites[idHex] ?? null
  }

  invites(projectHex: string): InviteEntry[] {
    return Object.values(this.data.invites).filter((i) => i.project === projectHex)
  }

  async putProject(entry: ProjectEntry): Promise<void> {
    this.data.projects[entry.key] = entry
    await this.save()
  }

  async deleteProject(keyHex: string): Promise<void> {
    delete this.data.projects[keyHex]
    for (const [id, inv] of Object.entries(this.data.invites))
      if (inv.project === keyHex) delete this.data.invites[id]
    await this.save()
  }

  profile(): ProfileEntry | null {
    return this.data.profile ?? null
  }

  async putProfile(entry: ProfileEntry): Promise<void> {
    this.data.profile = entry
    await this.save()
  }

  hosted(): HostedProfile[] {
    return Object.values(this.data.hosted)
  }

  async putHosted(entry: HostedProfile): Promise<void> {
    this.data.hosted[entry.discovery] = entry
    await this.save()
  }

  /** Projects hosted by key (`flux host add`). */
  hostedProjects(): HostedProject[] {
    return Object.values(this.data.hostedProjects)
  }

  hostedProject(keyHex: string): HostedProject | null {
    return this.data.hostedProjects[keyHex] ?? null
  }

  async putHostedProject(entry: HostedProject): Promise<void> {
    this.data.hostedProjects[entry.key] = entry
    await this.save()
  }

  async deleteHostedProject(keyHex: string): Promise<void> {
    delete this.data.hostedProjects[keyHex]
    await this.save()
  }

  /** Bytes volunteered to host peers' projects, or null. */
  offer(): number | null {
    return this.data.offer
  }

  async putOffer(bytes: number | null): Promise<void> {
    this.data.offer = bytes
    await this.save()
  }

  toggles(): Toggles {
    return { ...this.data.toggles }
  }

  async putToggles(toggles: Toggles): Promise<void> {
    this.data.toggles = { ...toggles }
    await this.save()
  }

  /** What the user decided about each peer it approved or blocked. */
  peerRules(): PeerRule[] {
    return Object.values(this.data.peers)
  }

  /** Record a peer's rule (a rule with neither approval nor block is removed). */
  async putPeerRule(rule: PeerRule): Promise<void> {
    if (rule.approvedAt === null && rule.blockedAt === null) delete this.data.peers[rule.peer]
    else this.data.peers[rule.peer] = rule
    await this.save()
  }

  phonebook(): PhonebookEntry | null {
    return this.data.phonebook === null ? null : { ...this.data.phonebook }
  }

  async putPhonebook(entry: PhonebookEntry | null): Promise<void> {
    this.data.phonebook = entry === null ? null : { ...entry }
    await this.save()
  }

  pending(): PendingPeer[] {
    return Object.values(this.data.pending)
  }

  /** Replace the approval queue (it is small and bounded). */
  async putPending(rows: PendingPeer[]): Promise<void> {
    this.data.pending = Object.fromEntries(rows.map((r) => [r.peer, r]))
    await this.save()
  }

  async putInvite(entry: InviteEntry): Promise<void> {
    this.data.invites[entry.id] = entry
    await this.save()
  }

  private save(): Promise<void> {
    const snapshot = JSON.stringify(this.data, null, 2)
    this.writing = this.writing.then(async () => {
      const tmp = `${this.file}.${process.pid}.tmp`
      const fh = await fs.open(tmp, 'w', 0o600)
      try {
        await fh.writeFile(snapshot)
        await fh.sync()
      } finally {
        await fh.close()
      }
      await fs.rename(tmp, this.file)
    })
    return this.writing
  }

  static at(home: string): NodeState {
    return new NodeState(homePaths(home).state)
  }
}
