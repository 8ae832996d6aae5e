import crypto from 'hypercore-crypto'

const NAMESPACE = Buffer.from('flux/project-topic/v1')

/**
 * The swarm topic of a project: a hash of its discovery key (itself a keyed hash of the
 * project key), so neither the key nor the discovery key used by replication appears on the DHT.
 */
export function projectTopic(discoveryKey: Buffer): Buffer {
  return crypto.hash([NAMESPACE, discoveryKey])
}

const PROFILE_NAMESPACE = Buffer.from('flux/profile-topic/v1')

/**
 * The swarm topic of a profile: a hash of its discovery public key (derived from the
 * identity, never the profile id), where its devices and hosts meet (DESIGN.md "Profiles").
 */
export function profileTopic(discoveryPublicKey: Buffer): Buffer {
  return crypto.hash([PROFILE_NAMESPACE, discoveryPublicKey])
}

/** What the registry needs of Hyperswarm. */
interface Joinable {
  join(topic: Buffer, opts: { server: boolean; client: boolean }): Discovery
  leave(topic: Buffer): Promise<void>
  /** Paused: nothing is announced until it resumes (which refreshes every topic). */
  suspended: boolean
}

interface Discovery {
  flushed(): Promise<void>
  refresh(opts: { server: boolean; client: boolean }): Promise<void>
}

/** Whether a node announces itself on a topic (server) and looks others up (client). */
export interface TopicMode {
  server: boolean
  client: boolean
}

const BOTH: TopicMode = { server: true, client: true }

const VOLUNTEER_NAMESPACE = Buffer.from('flux/volunteers/v1')

/**
 * Where nodes that volunteer storage announce themselves (`flux host offer`), and where a
 * member whose project has too few live copies looks them up (DESIGN.md "Group nodes").
 */
export const VOLUNTEER_TOPIC: Buffer = crypto.hash([VOLUNTEER_NAMESPACE])

/**
 * The topics a node is on, counted per owner (a project, the profile, a hosted profile...):
 * one owner leaving a topic does not pull it from another. The swarm joins a topic when its
 * first owner asks and leaves it when the last one goes.
 */
export class Topics {
  private readonly joined = new Map<
    string,
    { owners: Set<string>; discovery: Discovery; mode: TopicMode }
  >()

  constructor(private readonly swarm: Joinable) {}

  /**
   * Join a topic for `owner`, as server and client unless `mode` says otherwise (a topic's
   * mode is what its owners need together; it widens, it does not narrow until all leave).
   * Announcing is awaited before looking up, which avoids the race where two peers joining at
   * the same instant never find each other.
   */
  async join(topic: Buffer, owner: string, mode: TopicMode = BOTH): Promise<void> {
    const hex = topic.toString('hex')
    const known = this.joined.get(hex)
    if (known) {
      known.owners.add(owner)
      const wider = {
        server: known.mode.server || mode.server,
        client: known.mode.client || mode.client
      }
      if (wider.server === known.mode.server && wider.client === known.mode.client) return
      known.mode = wider
      if (!this.swarm.suspended) await known.discovery.refresh(wider).catch(() => {})
      return
    }
    const discovery = this.swarm.join(topic, { ...mode })
    this.joined.set(hex, { owners: new Set([owner]), discovery, mode: { ...mode } })
    if (this.swarm.suspended) return
    await discovery.flushed()
    await discovery.refresh({ ...mode }).catch(() => {})
  }

  /** `owner` no longer needs the topic; the swarm leaves it once nobody does. */
  async leave(topic: Buffer, owner: string): Promise<void> {
    const hex = topic.toString('hex')
    const known = this.joined.get(hex)
    if (!known || !known.owners.delete(owner) || known.owners.size > 0) return
    this.joined.delete(hex)
    await this.swarm.leave(topic)
  }

  /** How the node is on a topic (null: not through this registry). */
  modeOf(topic: Buffer): TopicMode | null {
    const known = this.joined.get(topic.toString('hex'))
    return known ? { ...known.mode } : null
  }

  /** Who holds a topic (empty when the node is not on it). */
  owners(topic: Buffer): string[] {
    return [...(this.joined.get(topic.toString('hex'))?.owners ?? [])]
  }

  get size(): number {
    return this.joined.size
  }
}
