/**
 * What a use-case checks before it writes or reads a project, so the person gets a clear
 * error up front (apply checks everything again, on every peer).
 */
import { FluxError } from '../errors.js'
import { toHex } from '../identity/keys.js'
import type { Project } from '../project/project.js'
import type { ProfileService } from '../services/profile.js'
import type { Clock } from '../util/clock.js'

/** Require that this node may write to the project now; throws a clear error if not. */
export async function requireWritable(
  project: Project,
  profile: ProfileService,
  clock: Clock
): Promise<void> {
  const stopped = project.stoppedError()
  if (stopped !== null) throw stopped
  if (!(await project.readable())) {
    throw new FluxError(
      'PROJECT_UNREADABLE',
      'this node holds the project by key only: join with an invite to read and write'
    )
  }
  if (!project.writable) {
    throw new FluxError('NOT_WRITABLE', 'this node is not (or no longer) a writer of the project')
  }
  const self = await project.view.writer(project.writerId)
  if (self?.delegated && self.expiresAt !== null && clock.now() >= self.expiresAt) {
    throw new FluxError(
      'DELEGATION_EXPIRED',
      `this device's delegation ended at ${new Date(self.expiresAt).toISOString()}`
    )
  }
  if (self?.removed) {
    const keys = profile.keys
    const revoked = keys
      ? await project.view.revoked(project.memberId, toHex(keys.device.publicKey))
      : null
    throw revoked
      ? new FluxError('DEVICE_REVOKED', 'this device was revoked: its ops are not accepted')
      : new FluxError('NOT_WRITABLE', 'this device no longer writes to the project')
  }
  const info = await project.view.project()
  if (info?.archived.value) {
    throw new FluxError('PROJECT_ARCHIVED', 'the project is archived: it is read-only')
  }
}

/** Work that needs the network (pairing, recovery) cannot start while the node is paused. */
export function requireOnline(node: { network: { paused: boolean } }, what: string): void {
  if (node.network.paused) {
    throw new FluxError(
      'NODE_PAUSED',
      `the node is paused: ${what} needs the network (turn it on with \`flux toggle pause off\`)`
    )
  }
}

export async function requireReadable(project: Project): Promise<void> {
  const stopped = project.stoppedError()
  if (stopped !== null) throw stopped
  if (!(await project.readable())) {
    throw new FluxError(
      'PROJECT_UNREADABLE',
      'this node holds the project by key only: its data is encrypted'
    )
  }
}
