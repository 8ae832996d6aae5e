/**
 * FluxNode, the composition root: one node owns one home folder. It opens the store, the
 * network and one service per capability, wires them together, and closes them in reverse
 * order. Everything else lives in the services (src/services) and the use-cases (src/app).
 */
import fs from 'fs/promises'
import type Corestore from 'corestore'
import BlindPairing from 'blind-pairing'
import { Service } from './util/service.js'
import { systemClock, type Clock } from './util/clock.js'
import { encodeKey } from './identity/keys.js'
import { Network } from './swarm/network.js'
import { homePaths, openStore } from './store/home.js'
import { NodeState } from './store/node-state.js'
import { ProjectRegistry } from './services/projects.js'
import { ProfileService } from './services/profile.js'
import { ProfileProjects } from './services/profile-projects.js'
import { WriterService } from './services/writers.js'
import { InviteService } from './services/invites.js'
import { LinkService } from './services/links.js'
import { DeviceService } from './services/devices.js'
import { ProfileHostingService } from './services/profile-hosting.js'
import { RecoveryService } from './services/recovery.js'
import { PeerDirectory } from './services/peers.js'
import { AdmissionService } from './services/admission.js'
import { Membership } from './services/membership.js'
import { RelayOffers } from './services/relay-offers.js'
import { ProjectHosts } from './services/project-hosts.js'
import { ProjectGroup } from './services/project-group.js'
import { CreditsService } from './services/credits.js'
import { PhonebookService } from './services/phonebook.js'
import { MeshService } from './services/mesh.js'
import type { FluxNodeOptions, FluxNodeEvents } from './node-options.js'
import type { DeviceKeys } from './identity/profile-keys.js'

export type { FluxNodeOptions, FluxNodeEvents }

/** How long a closing node waits for connected hosts to hold what it wrote (ms). */
const SETTLE_HOSTS = 3000

/** A service that reports problems that did not stop it. */
interface Warns {
  on(event: 'warning', listener: (err: unknown) => void): unknown
}

export class FluxNode extends Service<FluxNodeEvents> {
  readonly home: string
  readonly clock: Clock
  readonly startedAt: number
  store!: Corestore
  state!: NodeState
  network!: Network
  pairing!: BlindPairing
  membership!: Membership
  admission!: AdmissionService
  projects!: ProjectRegistry
  profile!: ProfileService
  profileProjects!: ProfileProjects
  writers!: WriterService
  invites!: InviteService
  links!: LinkService
  devices!: DeviceService
  hosting!: ProfileHostingService
  recovery!: RecoveryService
  peers!: PeerDirectory
  relayOffers!: RelayOffers
  projectHosts!: ProjectHosts
  projectGroup!: ProjectGroup
  credits!: CreditsService
  phonebook!: PhonebookService
  mesh!: MeshService
  /** Lets connections say hello once the profile's unlock is over (see openAll). */
  private releaseHello: () => void = () => {}
  /** Opened services, in order: closed in reverse. */
  private readonly running: Array<{ close(): Promise<void> }> = []

  constructor(readonly opts: FluxNodeOptions) {
    super()
    this.home = homePaths(opts.home).home
    this.clock = opts.clock ?? systemClock
    this.startedAt = this.clock.now()
  }

  get peerId(): string {
    return encodeKey(this.network.publicKey)
  }

  protected override async _open(): Promise<void> {
    try {
      await this.openAll()
    } catch (err) {
      // ready-resource does not run _close after a failed open: release what was opened
      await this.closeAll().catch(() => {})
      throw err
    }
  }

  protected override async _close(): Promise<void> {
    await this.closeAll()
  }

  private async openAll(): Promise<void> {
    const { home, clock, opts } = this
    const paths = homePaths(home)
    await fs.mkdir(paths.home, { recursive: true, mode: 0o700 })
    const store = (this.store = await openStore(paths.store, home))
    this.running.push(store)
    const state = (this.state = NodeState.at(home))
    await state.load()
    const keyPair = await store.createKeyPair('flux/swarm')
    const { bootstrap, host, firewalled, relays } = opts
    const relayKeyPair = opts.serveRelay ? await store.createKeyPair('flux/relay') : null
    const network = (this.network = new Network({
      ...{ store, keyPair, clock },
      ...{ bootstrap, host, firewalled, relays, relayKeyPair }
    }))
    // until the profile is unlocked, a peer hears nothing from us (it would judge us as a
    // node without one): our hello waits for the outcome
    const unlocking = opts.profile?.keys instanceof Promise ? opts.profile.keys : null
    if (unlocking) network.holdHello(new Promise((resolve) => (this.releaseHello = resolve)))
    await this.start(network)
    const pairing = (this.pairing = new BlindPairing(network.swarm, {
      poll: opts.pairingPoll ?? 2000
    }))
    this.running.push(pairing)

    const projects = (this.projects = new ProjectRegistry({ store, network, state, clock, home }))
    const core = { store, network, state, clock, projects }
    const profile = (this.profile = new ProfileService({ ...core, home, kdf: opts.kdf }))
    const profileProjects = (this.profileProjects = new ProfileProjects({ profile, projects }))
    const membership = (this.membership = new Membership({ ...core, profile }))
    this.admission = new AdmissionService({ ...core, membership, blocked: opts.blocked })
    const writers = (this.writers = new WriterService({ ...core, profile, profileProjects }))
    const deps = { ...core, profile, profileProjects, writers, pairing }
    this.invites = new InviteService(deps)
    this.links = new LinkService(deps)
    this.devices = new DeviceService(deps)
    this.hosting = new ProfileHostingService(deps)
    this.recovery = new RecoveryService({ ...deps, home, hosting: this.hosting })
    this.peers = new PeerDirectory(deps)
    this.relayOffers = new RelayOffers({ network, membership })
    const projectHosts = (this.projectHosts = new ProjectHosts(core))
    this.projectGroup = new ProjectGroup({ clock, network, projects, projectHosts })
    this.credits = new CreditsService({ clock, network, projects, profile })
    const phonebook = (this.phonebook = new PhonebookService({
      ...deps,
      admission: this.admission
    }))
    this.mesh = new MeshService({ ...core, admission: this.admission, phonebook })
    this.wire()
    // opened in this order, closed in reverse
    const base = [projects, profile, profileProjects, membership, this.admission, writers]
    const people = [this.invites, this.links, this.devices, this.hosting, this.recovery, this.peers]
    const mesh = [this.relayOffers, projectHosts, this.projectGroup, this.credits, phonebook]
    // what can be told without the keys is told before the node answers (a missing node.json)
    if (unlocking) profile.requireEntry()
    for (const service of [...base, ...people, ...mesh, this.mesh]) await this.start(service)
    if (unlocking) {
      // not awaited: the node serves meanwhile; a failure reaches profile.unlocked()
      const release = (): void => this.releaseHello()
      profile.unlock(unlocking).then(release, release)
    } else if (opts.profile) await profile.activate(opts.profile.keys as DeviceKeys)
  }

  /** How the services hear of each other, and what the node tells its interfaces. */
  private wire(): void {
    const { projects, profile, writers, invites } = this
    profile.on('active', (me) => projects.setMember(me))
    profile.on('active', () => writers.askEverywhere())
    this.profileProjects.on('synced', () => writers.askEverywhere())
    projects.on('project-open', (project) => void writers.want(project))
    projects.on('project-close', (key) => writers.forget(key))
    projects.on('project-update', (key) => this.emit('project-update', key))
    projects.on('disk-full', (key, free) => this.emit('disk-full', key, free))
    invites.on('invite-admitted', (info) => this.emit('invite-admitted', info))
    invites.on('invite-denied', (info) => this.emit('invite-denied', info))
    invites.on('invite-ignored', (info) => this.emit('invite-ignored', info))
    const services: Warns[] = [projects, profile, this.profileProjects, writers, invites]
    services.push(this.links, this.devices, this.membership, this.admission, this.relayOffers)
    services.push(this.projectHosts, this.projectGroup, this.credits, this.phonebook, this.mesh)
    for (const s of [...services, this.hosting, this.recovery, this.network]) {
      s.on('warning', (err) => this.emit('warning', err))
    }
  }

  private async start(service: { ready(): Promise<void>; close(): Promise<void> }): Promise<void> {
    this.running.push(service)
    await service.ready()
  }

  private async closeAll(): Promise<void> {
    this.releaseHello()
    // what we wrote last reaches the hosts connected to us (bounded)
    if (this.projectHosts?.opened) await this.projectHosts.settle(SETTLE_HOSTS).catch(() => {})
    await this.pairing?.close().catch(() => {}) // its members stop before the swarm they use
    if (this.network?.opened) await this.network.close().catch(() => {}) // bases drain first
    for (const service of this.running.splice(0).reverse()) {
      await service.close().catch((err: unknown) => this.emit('warning', err))
    }
  }
}
