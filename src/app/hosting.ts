/**
 * Use-cases for hosting projects for offline peers: `flux host add`, `list`, `remove`, `check`.
 */
import { FluxError } from '../errors.js'
import { decodeKey, encodeKey, fromHex, looksLikeKey, toHex } from '../identity/keys.js'
import type { FluxNode } from '../node.js'
import type { HostCheckResult, HostedProjectInfo, HostOffer } from '../api.js'
import type { HostedInfo } from '../services/project-hosts.js'
import type { Project } from '../project/project.js'

/** Fewest characters of a key prefix accepted. */
const MIN_PREFIX = 4

export class HostingActions {
  constructor(private readonly node: FluxNode) {}

  /** Host a project by its key (any node, member or not), or change its quota. */
  async add(keyText: string, quota: number | null = null): Promise<HostedProjectInfo> {
    if (quota !== null && (!Number.isSafeInteger(quota) || quota <= 0)) {
      throw new FluxError('INVALID_INPUT', 'the quota must be a positive number of bytes')
    }
    const key = decodeKey(keyText, 'project key')
    return this.describe(await this.node.projectHosts.add(key, quota))
  }

  /**
   * Volunteer `quota` bytes to host projects of the peers we connect to (they ask when their
   * project has fewer live copies than its target); null stops volunteering (what is hosted
   * stays hosted until removed).
   */
  async offer(quota: number | null): Promise<HostOffer> {
    if (quota !== null && (!Number.isSafeInteger(quota) || quota <= 0)) {
      throw new FluxError('INVALID_INPUT', 'the offer must be a positive number of bytes')
    }
    const now = await this.node.projectHosts.setOffer(quota)
    return { quota, free: now?.free ?? 0 }
  }

  list(): HostedProjectInfo[] {
    return this.node.projectHosts.list().map((h) => this.describe(h))
  }

  async remove(ref: string): Promise<{ key: string; freed: boolean }> {
    const hex = this.resolveHosted(ref)
    const done = await this.node.projectHosts.remove(fromHex(hex))
    return { key: encodeKey(fromHex(done.key)), freed: done.freed }
  }

  /**
   * Check that a connected peer holds a project's data: random blocks among those this node
   * holds (as a member or as a host), salted with a fresh nonce, compared with our copy.
   */
  async check(peerRef: string, projectRef: string, blocks = 8): Promise<HostCheckResult> {
    const { cores, key } = await this.coresFor(projectRef)
    const peer = this.resolvePeer(peerRef)
    const r = await this.node.projectHosts.check(peer, cores, blocks)
    // a member that passed is credited for hosting (evidence signed by us, the checker)
    let attested = false
    const profile = this.node.network.sessions.get(peer)?.identity?.profile
    const project = this.node.projects.get(toHex(key))
    if (r.ok && profile !== undefined && project !== null) {
      attested = await this.node.credits.attestHosting(project, profile)
    }
    return { ...r, peer: encodeKey(fromHex(peer)), project: encodeKey(key), attested }
  }

  /**
   * The cores to check: a member checks the writer cores (every holder has the same blocks;
   * a view core's blocks are partly computed by each peer); a host that is not a member, the
   * cores its members told it of.
   */
  private async coresFor(ref: string): Promise<{ cores: Buffer[]; key: Buffer }> {
    const hosted = this.findHosted(ref)
    const project =
      hosted === null ? await this.node.projects.resolve(ref) : this.node.projects.get(hosted)
    if (project !== null && (await project.readable())) {
      return { cores: await writersOf(project), key: project.key }
    }
    const hex = hosted ?? toHex((project as Project).key)
    const entry = this.node.state.hostedProject(hex)
    return { cores: (entry?.cores ?? [hex]).map(fromHex), key: fromHex(hex) }
  }

  private describe(h: HostedInfo): HostedProjectInfo {
    const project = this.node.projects.get(h.key)
    return {
      ...h,
      key: encodeKey(fromHex(h.key)),
      member: project !== null && project.base.encryptionKey !== null
    }
  }

  /** A hosted project (hex) from its key or a unique prefix of it, or null. */
  private findHosted(ref: string): string | null {
    const text = ref.trim()
    if (looksLikeKey(text)) {
      const hex = toHex(decodeKey(text, 'project key'))
      return this.node.projectHosts.get(hex) ? hex : null
    }
    if (text.length < MIN_PREFIX) return null
    const all = this.node.projectHosts.list().map((h) => h.key)
    const matches = all.filter(
      (hex) => hex.startsWith(text.toLowerCase()) || encodeKey(fromHex(hex)).startsWith(text)
    )
    if (matches.length > 1) {
      throw new FluxError('INVALID_INPUT', `"${text}" matches ${matches.length} hosted projects`)
    }
    return matches[0] ?? null
  }

  private resolveHosted(ref: string): string {
    const hex = this.findHosted(ref)
    if (hex === null) {
      throw new FluxError(
        'NOT_FOUND',
        `this node does not host "${ref.trim()}" (see \`flux host list\`)`
      )
    }
    return hex
  }

  /** A connected peer (hex) from its id or a unique prefix of it. */
  private resolvePeer(ref: string): string {
    const text = ref.trim()
    const sessions = [...this.node.network.sessions.values()].filter((s) => s.admitted)
    let matches: string[]
    if (looksLikeKey(text)) {
      const hex = toHex(decodeKey(text, 'peer id'))
      matches = sessions.some((s) => s.key === hex) ? [hex] : []
    } else if (text.length < MIN_PREFIX) {
      throw new FluxError('INVALID_INPUT', `"${text}" is too short: give the peer id`)
    } else {
      matches = sessions.map((s) => s.key).filter((hex) => encodeKey(fromHex(hex)).startsWith(text))
    }
    if (matches.length > 1) {
      throw new FluxError('INVALID_INPUT', `"${text}" matches ${matches.length} peers`)
    }
    const found = matches[0]
    if (found === undefined) {
      throw new FluxError(
        'PEER_NOT_CONNECTED',
        `no connected peer "${text}": the host must be connected to be checked (see \`flux peers\`)`
      )
    }
    return found
  }
}

/** A project's writer cores: the bootstrap and every member's (removed ones too). */
async function writersOf(project: Project): Promise<Buffer[]> {
  const keys = new Set([toHex(project.key)])
  for (const m of await project.view.members()) for (const w of m.writers) keys.add(w)
  return [...keys].map(fromHex)
}
