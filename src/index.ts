/**
 * Flux: a decentralized, offline-first mesh for building projects together.
 * The public face of the library: re-exports only.
 */
export { FluxNode, DEFAULT_INVITE_TTL } from './node.js'
export type { FluxNodeOptions, FluxNodeEvents, JoinOptions, InviteOptions } from './node.js'
export { Actions } from './actions.js'
export { Project } from './project/project.js'
export { ProjectView } from './views/queries.js'
export { FluxError, isFluxError } from './errors.js'
export type { FluxErrorCode } from './errors.js'
export { ControlClient } from './control/client.js'
export { startDaemon } from './control/daemon.js'
export type { Daemon } from './control/daemon.js'
export { startBootstrap } from './swarm/bootstrap.js'
export type { RunningBootstrap, BootstrapOptions } from './swarm/bootstrap.js'
export { encodeKey, decodeKey } from './identity/keys.js'
export type * from './api.js'
export type { Op, OpBody, OpType, Role } from './autobase/ops.js'
