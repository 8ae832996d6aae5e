/**
 * The shapes a node reports to its users (the control channel, the CLI's --json output).
 * Keys are z-base-32, times are ms since the epoch.
 */
import type { JsonValue } from './autobase/shapes.js'
import type { Role } from './views/project.js'
import type { PhonebookSnapshot } from './views/phonebook.js'

export type { PhonebookSnapshot }

export interface ProjectSummary {
  key: string
  name: string | null
  role: Role | null
  writable: boolean
  readable: boolean
  public: boolean
  archived: boolean
  members: number
  posts: number
  tasks: number
  /** Ops applied to the view (accepted) and skipped (invalid or not allowed). */
  applied: number
  skipped: number
  /** Peers replicating this project with us right now. */
  peers: number
  /** Writer cores this node follows. */
  writers: number
  /** Blocks peers have that this node has not downloaded yet (0: in sync). */
  behind: number
  /**
   * Why the project cannot be read right now (its base was closed by an error, or reading it
   * failed), null while it works; the counters are then 0. One broken project never makes the
   * node's status fail.
   */
  error: string | null
}

/** A member: a profile (its id), writing from one or more devices. */
export interface MemberInfo {
  /** The member's profile id. */
  id: string
  name: string | null
  role: Role
  removed: boolean
  you: boolean
  /** Writer cores (one per device) the profile writes through. */
  writers: number
  addedBy: string
  addedAt: number
  /** One of its writers signs the project's history (an indexer, as signed). */
  signs: boolean
}

export interface ProjectDetail extends ProjectSummary {
  description: string
  creator: string | null
  createdAt: number | null
  memberList: MemberInfo[]
  /**
   * Digest of the whole view: equal on peers that hold the same state. Computed on request
   * (`project show`); null in the results of create, join and other writes.
   */
  stateHash: string | null
  viewLength: number
  /** How much of the view the signers have signed (the stable prefix). */
  signedLength: number
  /** A change of signers is recorded but not yet signed by the old ones. */
  signersChanging: boolean
  /** This node's profile id; null on a node without a profile (hosting only). */
  you: string | null
  invites: InviteInfo[]
  /** The project's group of live copies as this node sees it (null when it cannot read it). */
  group: GroupInfo | null
}

/** A project's live copies (replicas) against its target. */
export interface GroupInfo {
  target: number
  live: number
  /** Fewer live copies than the target. */
  degraded: boolean
  degradedSince: number | null
  replicas: Array<{
    /** The peer (z-base-32), or null for this node. */
    peer: string | null
    held: number
    known: number
    current: boolean
  }>
  /** The volunteer asked last to host it, while that request stands. */
  asked: string | null
}

/** An invite recorded in a project (any member admits with it while it is open). */
export interface InviteInfo {
  id: string
  role: Role
  expires: number
  uses: number
  used: number
  revoked: boolean
  /** Not revoked, not expired (by this node's clock), uses left. */
  open: boolean
  /** The profile that made it. */
  by: string
}

export interface CreatedInvite extends InviteInfo {
  code: string
  project: string
}

/** What a node knows of a device's revocation (`flux verify` asks the node of its home). */
export interface RevocationInfo {
  /** Whether the node knows the profile (its own, or a member of a project it reads). */
  known: boolean
  /** The revoked device (this one, or one it was linked through), by whom and when. */
  revoked: { device: string; by: string; at: number } | null
}

export interface PostInfo {
  id: string
  seq: number
  /** The author's profile id, and the device it wrote from. */
  author: string
  authorName: string | null
  device: string
  text: string
  replyTo: string | null
  ts: number
}

export interface TaskInfo {
  id: string
  seq: number
  title: string
  assignee: string | null
  assigneeName: string | null
  done: boolean
  createdBy: string
  createdAt: number
}

export interface KvInfo {
  key: string
  value: JsonValue
  by: string
  ts: number
}

export interface PeerInfo {
  /** The peer's node id (its swarm key, z-base-32). */
  id: string
  address: string | null
  connectedAt: number
  initiator: boolean
  /** 'admitted': replicating; 'pending': held by the admission gate. */
  state: 'admitted' | 'pending'
  /** Who the peer proved to be; null when it has no profile or has not said yet. */
  profile: PeerProfile | null
  /** Bad feature messages it sent (a peer past a limit is disconnected). */
  strikes: number
  /** How the connection travels now (a relayed one turns holepunched if a punch succeeds later). */
  route: Route
}

/**
 * How a connection travels: `direct` (one side is reachable, or both are on one LAN),
 * `holepunched` (through both NATs, by HyperDHT's holepunching), `relayed` (through a relay node
 * that forwards the end-to-end encrypted stream), `unknown` (not connected yet, or closing).
 */
export type Route = 'direct' | 'holepunched' | 'relayed' | 'unknown'

/**
 * This node's NAT as HyperDHT sees it: `open` (peers can reach it unasked), `consistent` (a NAT
 * that keeps one public port for every peer: holepunching works), `random` (a NAT that picks a new
 * port per peer: holepunching works only with a consistent peer; two random ones need a relay),
 * `unknown` (not enough samples yet).
 */
export type NatKind = 'open' | 'consistent' | 'random' | 'unknown'

/** Connection attempts to one peer that keep failing. */
export interface DialFailure {
  /** The peer's node id. */
  peer: string
  /** HyperDHT's error code, e.g. HOLEPUNCH_DOUBLE_RANDOMIZED_NATS. */
  code: string
  /** What it means, for people. */
  reason: string
  /** Whether the last attempt went through a relay. */
  relayed: boolean
  /** Failed attempts in a row, and when the first and the last failed. */
  count: number
  first: number
  last: number
}

export interface NatStatus {
  /** HyperDHT's own judgement: true until it has proved peers can reach it unasked. */
  firewalled: boolean
  kind: NatKind
  /** The address the DHT sees this node at (`host:port`, or `host` when the port is random). */
  publicAddress: string | null
  /** Whether that address is not one of this machine's own (null: not known yet). */
  behindNat: boolean | null
  /** Relay nodes this node may relay through when holepunching cannot work (their relay ids). */
  relays: string[]
  /** When this node relays for its peers (`flux up --serve-relay`): its relay id and load. */
  relaying: { id: string; clients: number; pairs: number } | null
  /** Connection attempts that are failing now, per peer. */
  failing: DialFailure[]
  /** Connections opened since start, by how they travelled when they opened. */
  connections: { direct: number; holepunched: number; relayed: number }
}

/** Whether any DHT node answers: with none, no peer can be found. */
export interface DhtStatus {
  /** DHT nodes this node knows now (its routing table). */
  nodes: number
  /** No DHT node answered for a while (a bootstrap that is wrong, down or unreachable). */
  silent: boolean
  /** Since when none answered (ms since the epoch), while silent. */
  silentSince: number | null
}

/** The profile behind a peer, from the device proof it sent for its node. */
export interface PeerProfile {
  /** The profile id (z-base-32). */
  id: string
  /** Its name as the projects we share with it know it, else as its device says. */
  name: string | null
  /** Where the name comes from: a project both hold, our own profile, or the peer's claim. */
  nameFrom: 'project' | 'profile' | 'peer' | null
  /** The device (z-base-32) and whether it is a delegate. */
  device: string
  delegated: boolean
  /** A device revoked in a project or profile this node holds. */
  revoked: boolean
}

export interface NodeStatus {
  home: string
  peerId: string
  pid: number
  startedAt: number
  bootstrap: string[] | null
  host: string | null
  peers: number
  /**
   * Whether the node runs as a profile: 'unlocking' while `flux up` still derives the key
   * file's key (calls that need the profile wait for it), 'none' on a hosting-only node.
   */
  profile: 'none' | 'unlocking' | 'active'
  projects: ProjectSummary[]
  /** The user's toggles, and how many peers wait for approval or are blocked. */
  toggles: ToggleState
  /** Behind which NAT, as HyperDHT can tell; relays; failing connection attempts. */
  nat: NatStatus
  /** Whether any DHT node answers. */
  dht: DhtStatus
  /** The phonebook held (null: none) and Auto-Connect's work. */
  mesh: MeshStatus
}

export interface MeshStatus {
  /** The phonebook this node holds (z-base-32), or null; its live entries. */
  phonebook: string | null
  entries: number
  /** Announced on the mesh topic; looking it up; peers Auto-Connect dialed and connected now. */
  announced: boolean
  looking: boolean
  autoConnected: number
}

/** Progress of long work (joining, syncing), for people and --json consumers. */
export interface Progress {
  phase:
    | 'pairing'
    | 'paired'
    | 'syncing'
    | 'writable'
    | 'done'
    | 'searching'
    | 'found'
    | 'profile'
    | 'project'
    | 'copy'
  message: string
  /** Ops applied locally so far, when syncing. */
  applied?: number
}

export interface DeviceInfo {
  id: string
  name: string
  you: boolean
  delegated: boolean
  expiresAt: number | null
  revoked: { by: string; at: number } | null
  addedBy: string | null
  addedAt: number
}

export interface WhoAmI {
  profile: string
  name: string
  device: string
  delegated: boolean
  expiresAt: number | null
  /** The profile Autobase key, and whether this device writes to it yet. */
  base: string | null
  profileWritable: boolean
  devices: DeviceInfo[]
  projects: number
}

export interface CreatedLink {
  code: string
  profile: string
  expires: number
  /** For a delegation: how long the device may act for the profile after it joins (ms). */
  delegateFor: number | null
}

export interface RecoveryAnswer {
  peer: string
  base: string
  length: number
  valid: boolean
  chosen: boolean
}

export interface RecoveryReport {
  whoami: WhoAmI
  /** Every copy heard of: peers' answers, and a home copy given with `--from` (its peer is `copy <folder>`). */
  answered: RecoveryAnswer[]
  /** What was read from a copy of a home (`flux recover --from`), or absent. */
  fromCopy?: { dir: string; cores: number; blocks: number; projects: number }
  projects: Array<{ key: string; name: string; writable: boolean; posts: number }>
}

/** A new profile (`flux init`): `phrase` is shown once and stored nowhere. */
export interface InitResult {
  profile: string
  name: string
  device: string
  phrase: string
}

/** A message signed as the profile (`flux sign`). */
export interface SignResult {
  profile: string
  device: string
  signature: string
}

/** This device's proof (`flux device proof`): a delegate's is its time-limited grant. */
export interface DeviceProofInfo {
  profile: string
  device: string
  delegated: boolean
  proof: string
}

/** The user's toggles (whitepaper 5.2), and what waits for them. */
export interface ToggleState {
  accept: boolean
  pause: boolean
  isolate: boolean
  autoConnect: boolean
  /** Peers waiting for approval (I Accept) and peers blocked. */
  pending: number
  blocked: number
}

/** The result of setting a toggle: the new state, and toggles it switched off. */
export interface ToggleChangeResult {
  toggles: ToggleState
  /** Toggles turned off as a consequence ('auto-connect' when a restriction went on). */
  off: string[]
}

/** A peer waiting for the user's approval (I Accept). */
export interface PendingInfo {
  /** Its node id (z-base-32). */
  id: string
  /** The profile it proved (id, name as it claims it), if any. */
  profile: string | null
  name: string | null
  address: string | null
  firstSeen: number
  lastSeen: number
  attempts: number
  /** We found it on the topic of a project we hold. */
  sharesProject: boolean
  /** Its connection is open now (approving admits it at once). */
  connected: boolean
}

/** What the user decided about a peer. */
export interface PeerRuleInfo {
  id: string
  approvedAt: number | null
  blockedAt: number | null
  profile: string | null
  name: string | null
}

/** A project this node hosts (`flux host list`). */
export interface HostedProjectInfo {
  /** Project key (z-base-32). */
  key: string
  /** Most bytes kept, or null for no bound. */
  quota: number | null
  /** Bytes of blocks held. */
  bytes: number
  /** Cores held (every writer's core and the view cores the members told of). */
  cores: number
  /** Blocks held, and blocks known to exist, across its cores. */
  held: number
  known: number
  /** 'syncing' (blocks known and not held yet), 'current', or 'quota-reached' (growth stopped). */
  status: 'syncing' | 'current' | 'quota-reached'
  /** Whether this node can read it (it is also a member, or the project is public). */
  member: boolean
  peers: number
  addedAt: number
  lastActivity: number | null
}

/** The result of `flux host check PEER PROJECT`. */
export interface HostCheckResult {
  /** The peer checked (z-base-32) and the project (z-base-32). */
  peer: string
  project: string
  /** Blocks asked; held and matching our copy; not held; held but different. */
  asked: number
  passed: number
  missing: number
  wrong: number
  /** Every block asked was held and matched. */
  ok: boolean
  /** The host is a member: this check was recorded as evidence for its hosting credits. */
  attested: boolean
}

/** What this node volunteers to host for its peers (`flux host offer`). */
export interface HostOffer {
  /** Bytes offered in all, or null when it does not volunteer. */
  quota: number | null
  /** Bytes of that not used yet. */
  free: number
}

/** One member's credits in one project, after decay (`flux credits`). */
export interface CreditRow {
  /** Profile id (z-base-32) and its name in the project. */
  profile: string
  name: string | null
  contributions: number
  uptime: number
  hosting: number
  support: number
  total: number
  achievements: number
}

/** The credits of one project, as every peer that holds the same view computes them. */
export interface ProjectCredits {
  key: string
  name: string | null
  /** The epoch the fold is taken at (from the ops, never the local clock). */
  epoch: number
  /** Percent taken off per idle epoch (0: no decay). */
  decay: number
  /** One hash of every member's totals: equal on peers that agree. */
  hash: string
  members: CreditRow[]
}

/** The evidence behind one member's credits (`flux credits explain`). */
export interface CreditExplanation {
  project: string
  profile: string
  name: string | null
  totals: CreditRow
  evidence: Array<{
    kind: string
    signer: string
    signerName: string | null
    epoch: number
    op: string
    counted: boolean
  }>
  achievements: AchievementInfo[]
}

export interface AchievementInfo {
  project: string
  profile: string
  name: string | null
  id: string
  title: string
  /** The op that unlocked it, and when (op time). */
  op: string
  ts: number
  value: number
}

/** `flux connect PEER`: the peer reached, and whether a phonebook is now shared with it. */
export interface ConnectResult {
  /** The peer's id (z-base-32). */
  peer: string
  route: Route
  phonebook: {
    /** The phonebook this node holds now (z-base-32), or null. */
    key: string | null
    shared: boolean
    /** Why it is not shared (a toggle on either side, both holding one...). */
    reason: string | null
  }
}

/** One node in a phonebook, as every peer of it lists it. */
export interface PhonebookEntryInfo {
  /** The node's peer id (z-base-32). */
  peer: string
  /** Keyed hash of its profile id (key: the phonebook key), or null. */
  profile: string | null
  hints: string[]
  /** Keyed hashes of its projects; `shared`: how many of ours are among them. */
  projects: number
  shared: number
  /** Its signed time, and last seen as every peer judges it (clamped to mesh time). */
  seen: number
  at: number
  removed: boolean
  /** This node itself; connected now. */
  self: boolean
  connected: boolean
}

/** `flux phonebook`: the phonebook this node holds, or key null when it holds none. */
export interface PhonebookInfo {
  key: string | null
  /** Digest of the view's keys and values: equal on peers that applied the same ops. */
  hash: string | null
  /** The view's version (Hyperbee), for `--at`. */
  version: number
  writable: boolean
  writers: number
  entries: PhonebookEntryInfo[]
  /** Ops every peer skipped, and how many per writer (hex writer key). */
  skipped: number
  strikes: Record<string, number>
  /** The node's place on the mesh topic, and peers Auto-Connect dialed. */
  mesh: { server: boolean; client: boolean; autoDialed: number }
}

/** `flux phonebook import FILE`: the snapshot checked, then used. */
export interface ImportResult {
  /** The snapshot's phonebook (z-base-32) and how many entries it held, every one verified. */
  key: string
  entries: number
  /** Its nodes dialed; whether this node holds that phonebook now; entries carried into it. */
  dialed: number
  joined: boolean
  carried: number
}
