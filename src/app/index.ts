/**
 * The use-cases: what people do with a node, grouped as the CLI groups them. The control
 * socket, the demo, the benchmarks and the tests all go through here.
 */
import type { FluxNode } from '../node.js'
import { ContentActions } from './content.js'
import { ProfileActions } from './profile.js'
import { ProjectActions } from './projects.js'
import { AdmissionActions } from './admission.js'
import { HostingActions } from './hosting.js'
import { CreditsActions } from './credits.js'
import { MeshActions } from './mesh.js'
import type { NodeStatus, PeerInfo, Progress } from '../api.js'
import { makeBackup, type BackupReport } from '../store/home-copy.js'

export class FluxApp {
  readonly projects: ProjectActions
  readonly content: ContentActions
  readonly profile: ProfileActions
  readonly admission: AdmissionActions
  readonly hosting: HostingActions
  readonly credits: CreditsActions
  readonly mesh: MeshActions

  constructor(readonly node: FluxNode) {
    this.projects = new ProjectActions(node)
    this.content = new ContentActions(node, this.projects)
    this.profile = new ProfileActions(node)
    this.admission = new AdmissionActions(node)
    this.hosting = new HostingActions(node)
    this.credits = new CreditsActions(node, this.content)
    this.mesh = new MeshActions(node)
  }

  /** Back up this home into `dir` (see store/home-copy.ts); again on one folder: what is new. */
  backup(dir: string, onProgress: (p: Progress) => void = () => {}): Promise<BackupReport> {
    const node = this.node
    return makeBackup({
      store: node.store,
      home: node.home,
      dir,
      now: node.clock.now(),
      onProgress: (p) =>
        onProgress({ phase: 'copy', message: `${p.cores}/${p.of} cores, ${p.blocks} blocks` })
    })
  }

  peers(): Promise<PeerInfo[]> {
    return this.node.peers.list()
  }

  async status(): Promise<NodeStatus> {
    const node = this.node
    return {
      home: node.home,
      peerId: node.peerId,
      pid: process.pid,
      startedAt: node.startedAt,
      bootstrap: node.opts.bootstrap ?? null,
      host: node.opts.host ?? null,
      peers: [...node.network.sessions.values()].filter((s) => s.admitted).length,
      profile: node.profile.state,
      projects: await this.projects.summaries(),
      toggles: this.admission.toggles(),
      nat: node.network.nat.status(),
      dht: node.network.dhtStatus(),
      mesh: await this.mesh.status()
    }
  }
}
