/**
 * Every method of the control protocol: its name, its parameters and its result, in one map
 * shared by the client (the CLI, the demo, the benchmarks) and the server. A method missing
 * from the server's table, or called with the wrong parameters, does not compile.
 */
import type { JsonValue } from '../autobase/shapes.js'
import type { BackupReport } from '../store/home-copy.js'
import type { Role } from '../views/project.js'
import type {
  AchievementInfo,
  CreditExplanation,
  ProjectCredits,
  ConnectResult,
  CreatedInvite,
  CreatedLink,
  DeviceInfo,
  DeviceProofInfo,
  HostCheckResult,
  HostedProjectInfo,
  HostOffer,
  InitResult,
  InviteInfo,
  KvInfo,
  NodeStatus,
  PeerInfo,
  PeerRuleInfo,
  PendingInfo,
  PhonebookInfo,
  PhonebookSnapshot,
  ImportResult,
  ToggleChangeResult,
  ToggleState,
  PostInfo,
  ProjectDetail,
  ProjectSummary,
  RecoveryReport,
  RevocationInfo,
  SignResult,
  TaskInfo,
  WhoAmI
} from '../api.js'

type None = Record<string, never>
type P = { project: string }

export interface ControlMethods {
  status: { params: None; result: NodeStatus }
  peers: { params: None; result: PeerInfo[] }
  'node.stop': { params: None; result: { stopping: true } }
  'node.backup': { params: { dir: string }; result: BackupReport }

  'project.create': {
    params: { name: string; description?: string; public?: boolean }
    result: ProjectDetail
  }
  'project.invite': {
    params: P & { role?: Role; expires?: number; uses?: number }
    result: CreatedInvite
  }
  'project.join': {
    params: { code: string; project?: string; timeout?: number }
    result: ProjectDetail
  }
  /** Cancel this node's join of the project of `code` (a join waiting for an answer). */
  'project.join.cancel': {
    params: { code: string }
    result: { state: 'cancelled' | 'accepted' | 'none' }
  }
  'project.invites': { params: P; result: InviteInfo[] }
  'project.uninvite': { params: P & { invite: string }; result: InviteInfo }
  'project.list': { params: None; result: ProjectSummary[] }
  'project.show': { params: P; result: ProjectDetail }
  'project.leave': { params: P & { force?: boolean }; result: { key: string } }
  'project.archive': { params: P & { archived?: boolean }; result: ProjectDetail }
  'project.set': {
    params: P & { name?: string; description?: string; replicas?: number; decay?: number }
    result: ProjectDetail
  }
  'project.role': { params: P & { member: string; role?: Role }; result: ProjectDetail }

  'member.name': { params: P & { name: string }; result: ProjectDetail }
  'post.add': { params: P & { text: string; replyTo?: string }; result: PostInfo }
  'post.feed': { params: P & { limit?: number }; result: PostInfo[] }
  'task.add': { params: P & { title: string; assignee?: string }; result: TaskInfo }
  'task.set': {
    params: P & { id: string; title?: string; assignee?: string | null; done?: boolean }
    result: TaskInfo
  }
  'task.list': { params: P; result: TaskInfo[] }
  'kv.set': { params: P & { key: string; value: JsonValue }; result: KvInfo }
  'kv.get': { params: P & { key: string }; result: KvInfo }
  'kv.del': { params: P & { key: string }; result: { key: string; deleted: boolean } }
  'kv.list': { params: P; result: KvInfo[] }

  'toggle.show': { params: None; result: ToggleState }
  'toggle.set': { params: { toggle: string; on: boolean }; result: ToggleChangeResult }
  'peer.pending': { params: None; result: PendingInfo[] }
  'peer.approve': { params: { peer: string }; result: PeerRuleInfo }
  'peer.dismiss': { params: { peer: string }; result: PendingInfo }
  'peer.block': { params: { peer: string }; result: PeerRuleInfo }
  'peer.unblock': { params: { peer: string }; result: PeerRuleInfo }
  'peer.blocked': { params: None; result: PeerRuleInfo[] }
  'peer.connect': { params: { peer: string; timeout?: number }; result: ConnectResult }
  'phonebook.show': { params: { at?: number }; result: PhonebookInfo }
  'phonebook.export': { params: { at?: number }; result: PhonebookSnapshot }
  'phonebook.import': { params: { snapshot: unknown; timeout?: number }; result: ImportResult }

  'credits.show': { params: { project?: string }; result: ProjectCredits[] }
  'credits.explain': { params: { project: string; member: string }; result: CreditExplanation }
  'achievements.list': {
    params: { project?: string; member?: string }
    result: AchievementInfo[]
  }

  'host.add': { params: { project: string; quota?: number }; result: HostedProjectInfo }
  'host.list': { params: None; result: HostedProjectInfo[] }
  'host.offer': { params: { quota: number | null }; result: HostOffer }
  'host.remove': { params: { project: string }; result: { key: string; freed: boolean } }
  'host.check': {
    params: { peer: string; project: string; blocks?: number }
    result: HostCheckResult
  }

  whoami: { params: None; result: WhoAmI }
  /** `material`: what the client derived from the new phrase (identity/handover.ts). */
  'profile.init': {
    params: { name: string; passphrase: string; material: string }
    result: InitResult
  }
  /** `material`: what the client derived from the phrase; the phrase never crosses. */
  'profile.recover': {
    params: { material: string; passphrase: string; timeout?: number; from?: string }
    result: RecoveryReport
  }
  'profile.sign': { params: { message: string }; result: SignResult }
  'profile.revocation': { params: { profile: string; device: string }; result: RevocationInfo }
  'device.link': { params: { expires?: number; delegateFor?: number }; result: CreatedLink }
  'device.join': {
    params: { code: string; passphrase: string; name?: string; timeout?: number }
    result: WhoAmI
  }
  'device.list': { params: None; result: DeviceInfo[] }
  'device.revoke': { params: { device: string }; result: { device: DeviceInfo; projects: number } }
  'device.proof': { params: None; result: DeviceProofInfo }
}

export type MethodName = keyof ControlMethods
export type ParamsOf<M extends MethodName> = ControlMethods[M]['params']
export type ResultOf<M extends MethodName> = ControlMethods[M]['result']
