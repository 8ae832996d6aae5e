/**
 * A NAT lab with Flux in it, shared by the NAT tests, `npm run nat-lab` and the `nat` bench
 * suite: one lab, a private DHT bootstrap (`flux dht`) on the public side, a relay node started
 * on demand, and pairs of `flux up` nodes behind routers of the NAT kinds a pairing names.
 */
import fs from 'fs'
import os from 'os'
import path from 'path'
import type { CreatedInvite, NodeStatus, PeerInfo, ProjectDetail, Route } from '../../src/api.js'
import { Lab, type NatKind, type Router } from './lab.js'
import { LabFlux, fluxJson, runFlux, type LabNode } from './nodes.js'
import { waitFor } from '../cli/helpers.js'

export interface Pairing {
  /** Short and unique: names the lab's namespaces. */
  tag: string
  name: string
  /** Node A's NAT, and node B's (`same`: behind A's router, on A's LAN). */
  a: NatKind
  b: NatKind | 'same'
  /** Both nodes get `--relay` to the lab's relay node. */
  relay: boolean
  /** The route the connection must take. */
  route: Route
}

export const PAIRINGS: Pairing[] = [
  {
    tag: 'cc',
    name: 'consistent/consistent',
    a: 'consistent',
    b: 'consistent',
    relay: false,
    route: 'holepunched'
  },
  {
    tag: 'cr',
    name: 'consistent/random',
    a: 'consistent',
    b: 'random',
    relay: false,
    route: 'holepunched'
  },
  {
    tag: 'rr',
    name: 'random/random via a relay',
    a: 'random',
    b: 'random',
    relay: true,
    route: 'relayed'
  },
  { tag: 'sn', name: 'same NAT', a: 'consistent', b: 'same', relay: false, route: 'direct' }
]

export interface Pair {
  a: LabNode
  b: LabNode
  ra: Router
  rb: Router
}

export class NatWorld {
  private relayId: string | null = null
  private constructor(
    readonly lab: Lab,
    readonly flux: LabFlux,
    readonly bootstrap: string,
    readonly dir: string
  ) {}

  /** Build the lab's internet and run `flux dht` on it. */
  static async open(name: string): Promise<NatWorld> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `flux-nat-${name}-`))
    const lab = new Lab(name)
    lab.removeWithLab(dir)
    try {
      await lab.start()
      const flux = new LabFlux(lab, dir)
      const bootstrap = await flux.dht(await lab.publicHost('dht'))
      return new NatWorld(lab, flux, bootstrap, dir)
    } catch (err) {
      await lab.destroy()
      throw err
    }
  }

  /**
   * The relay node (started once): a node on the public side, `--serve-relay --reachable`, with
   * no profile and no project: it only forwards. Resolves with its relay id.
   */
  async relay(): Promise<string> {
    if (this.relayId !== null) return this.relayId
    const host = await this.lab.publicHost('relay')
    const node = await this.flux.up(
      host,
      'relay',
      this.bootstrap,
      ['--serve-relay', '--reachable'],
      {
        profile: false
      }
    )
    const status = await node.call('status', {})
    if (status.nat.relaying === null) throw new Error('the relay node does not say it relays')
    this.relayId = status.nat.relaying.id
    return this.relayId
  }

  /** Routers, hosts and two `flux up` nodes for a pairing. */
  async pair(p: Pairing, tag = p.tag): Promise<Pair> {
    const extra = p.relay ? ['--relay', await this.relay()] : []
    const ra = await this.lab.router(`${tag}-ra`, p.a)
    const rb = p.b === 'same' ? ra : await this.lab.router(`${tag}-rb`, p.b)
    const [ha, hb] = [await this.lab.host(ra, `${tag}-a`), await this.lab.host(rb, `${tag}-b`)]
    const [a, b] = await Promise.all([
      this.flux.up(ha, `${tag}-a`, this.bootstrap, extra),
      this.flux.up(hb, `${tag}-b`, this.bootstrap, extra)
    ])
    return { a, b, ra, rb }
  }

  async close(): Promise<void> {
    try {
      await this.flux.stopAll()
    } finally {
      await this.lab.destroy()
    }
  }
}

export interface Joined {
  key: string
  /** Wall time of `flux project join CODE` on B, until it exits writable (ms). */
  joinMs: number
}

/**
 * A creates a project and invites B; B joins with `flux project join` (the real verb). The
 * bound is generous: through a port-randomizing NAT HyperDHT punches at most every 20 s, and
 * under load a join took up to a minute.
 */
export async function createAndJoin(a: LabNode, b: LabNode, timeout = '3m'): Promise<Joined> {
  const created = await runFlux(['project', 'create', 'Lab kiln', '--home', a.home])
  if (created.code !== 0) throw new Error(`project create: ${created.stderr}`)
  const key = created.stdout.trim()
  const invite = await fluxJson<CreatedInvite>(a.home, 'project', 'invite', key)
  const started = Date.now()
  const joined = await runFlux([
    'project',
    'join',
    invite.code,
    '--home',
    b.home,
    '--timeout',
    timeout
  ])
  const joinMs = Date.now() - started
  if (joined.code !== 0) throw new Error(`project join exited ${joined.code}: ${joined.stderr}`)
  return { key, joinMs }
}

/** Both nodes hold the same state with `posts` posts; resolves with the state hash. */
export async function converged(
  nodes: LabNode[],
  key: string,
  posts: number,
  timeout = 60_000
): Promise<string> {
  let last: Array<ProjectDetail | null> = []
  return waitFor(
    async () => {
      last = await Promise.all(
        nodes.map((n) => fluxJson<ProjectDetail>(n.home, 'project', 'show', key).catch(() => null))
      )
      const first = last[0]
      if (!first || first.stateHash === null) return null
      const same = last.every((d) => d !== null && d.stateHash === first.stateHash)
      return same && first.posts === posts ? first.stateHash : null
    },
    () =>
      `${nodes.map((n) => n.name).join(' and ')} to converge on ${posts} posts (last: ${last
        .map((d) => (d ? `${d.posts} posts ${d.stateHash?.slice(0, 8)}` : '?'))
        .join(', ')})`,
    timeout,
    200
  )
}

/** How `from` sees its connection to `to`, once there is one (`flux peers --json`). */
export async function peerOf(from: LabNode, to: LabNode, timeout = 30_000): Promise<PeerInfo> {
  const id = (await to.call('status', {})).peerId
  return waitFor(
    async () => {
      const peers = await fluxJson<PeerInfo[]>(from.home, 'peers')
      return peers.find((p) => p.id === id && p.route !== 'unknown') ?? null
    },
    `${from.name} to list ${to.name} as a peer`,
    timeout
  )
}

export function status(n: LabNode): Promise<NodeStatus> {
  return fluxJson<NodeStatus>(n.home, 'status')
}
