/**
 * The shapes a node reports to its users (the control channel, the CLI's --json output).
 * Keys are z-base-32, times are ms since the epoch.
 */
import type { JsonValue, Role } from './autobase/ops.js'

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
}

export interface MemberInfo {
  id: string
  name: string | null
  role: Role
  removed: boolean
  you: boolean
  addedBy: string
  addedAt: number
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
  you: string
  invites: InviteInfo[]
}

export interface InviteInfo {
  id: string
  role: Role
  expires: number
  uses: number
  used: number
}

export interface CreatedInvite extends InviteInfo {
  code: string
  project: string
}

export interface PostInfo {
  id: string
  seq: number
  author: string
  authorName: string | null
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
  id: string
  address: string | null
  connectedAt: number
  initiator: boolean
}

export interface NodeStatus {
  home: string
  peerId: string
  pid: number
  startedAt: number
  bootstrap: string[] | null
  host: string | null
  peers: number
  projects: ProjectSummary[]
}

/** Progress of long work (joining, syncing), for people and --json consumers. */
export interface Progress {
  phase: 'pairing' | 'paired' | 'syncing' | 'writable' | 'done'
  message: string
  /** Ops applied locally so far, when syncing. */
  applied?: number
}
