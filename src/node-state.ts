/**
 * What a node remembers about itself outside any project: the projects it holds and the
 * invites it has issued. A small JSON file, replaced atomically on every change.
 */
import fs from 'fs/promises'
import path from 'path'
import type { Role } from './autobase/ops.js'

export interface ProjectEntry {
  /** Project key (hex). */
  key: string
  /** Corestore namespace of this project on this node (hex). */
  ns: string
  /** Data encryption key (hex), or null (public project, or held by key only). */
  encryptionKey: string | null
  /** 'profile': opened because the profile holds it (a linked or recovered device). */
  via: 'created' | 'invite' | 'key' | 'profile'
  addedAt: number
}

/** The profile this node runs as: public facts only (its secrets live in profile.key). */
export interface ProfileEntry {
  /** Profile id (hex). */
  id: string
  name: string
  /** The profile discovery public key (hex): its swarm topic is derived from it. */
  discovery: string
  /** The recovery box public key (hex): project keys are sealed to it for recovery. */
  recovery: string
  /** The profile Autobase key (hex), once created or found. */
  base: string | null
  /** A signature of the profile over the base key (see profile/manager.ts `baseStatement`). */
  baseSig: string | null
}

/** A profile of another member that this node keeps available (it cannot read it). */
export interface HostedProfile {
  profile: string
  discovery: string
  base: string
  sig: string
  /** Its writer cores (hex), as its devices told us. */
  cores: string[]
}

export interface InviteEntry {
  /** Invite id (hex). */
  id: string
  /** Project key (hex). */
  project: string
  /** Invite public key (hex): opens a candidate's request. */
  publicKey: string
  role: Role
  /** Absolute expiry in ms since the epoch. */
  expires: number
  uses: number
  used: number
  createdAt: number
  /** Writer keys (hex) admitted with this invite; device keys for a link code. */
  admitted: string[]
  /** 'link': a device link code for this node's profile (`project` is the profile base key). */
  kind?: 'project' | 'link'
  /** For a delegation link: how long (ms) the linked device may act for the profile. */
  delegateFor?: number | null
}

interface StateFile {
  version: 1
  projects: Record<string, ProjectEntry>
  invites: Record<string, InviteEntry>
  profile?: ProfileEntry | null
  hosted?: Record<string, HostedProfile>
}

export class NodeState {
  private data: StateFile = { version: 1, projects: {}, invites: {} }
  private writing: Promise<void> = Promise.resolve()

  constructor(private readonly file: string) {}

  async load(): Promise<void> {
    try {
      const parsed = JSON.parse(await fs.readFile(this.file, 'utf-8')) as StateFile
      if (parsed.version === 1)
        this.data = {
          version: 1,
          projects: parsed.projects ?? {},
          invites: parsed.invites ?? {},
          profile: parsed.profile ?? null,
          hosted: parsed.hosted ?? {}
        }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
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
    return Object.values(this.data.hosted ?? {})
  }

  async putHosted(entry: HostedProfile): Promise<void> {
    this.data.hosted = { ...(this.data.hosted ?? {}), [entry.discovery]: entry }
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
    return new NodeState(path.join(home, 'node.json'))
  }
}
