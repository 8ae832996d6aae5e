/** Every error code Flux raises. Callers branch on `code`, never on message text. */
export type FluxErrorCode =
  | 'USAGE'
  | 'NO_NODE'
  | 'NODE_RUNNING'
  | 'NODE_UNREACHABLE'
  | 'NODE_CLOSED'
  | 'KEY_MALFORMED'
  | 'PROJECT_NOT_FOUND'
  | 'PROJECT_AMBIGUOUS'
  | 'PROJECT_EXISTS'
  | 'PROJECT_ARCHIVED'
  | 'PROJECT_UNREADABLE'
  | 'NOT_WRITABLE'
  | 'NOT_ALLOWED'
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'INVITE_MALFORMED'
  | 'INVITE_CORRUPT'
  | 'INVITE_EXPIRED'
  | 'INVITE_USED'
  | 'INVITE_WRONG_PROJECT'
  | 'INVITE_REJECTED'
  | 'TIMEOUT'
  | 'CONTROL_PROTOCOL'
  | 'CONTROL_UNSAFE'
  | 'NO_PROFILE'
  | 'PROFILE_EXISTS'
  | 'PHRASE_INVALID'
  | 'PASSPHRASE_WRONG'
  | 'KEYFILE_CORRUPT'
  | 'KEYFILE_IO'
  | 'DEVICE_PROOF_INVALID'
  | 'SIGNATURE_MALFORMED'
  | 'LINK_MALFORMED'
  | 'LINK_CORRUPT'
  | 'LINK_EXPIRED'
  | 'LINK_USED'
  | 'LINK_REJECTED'
  | 'DEVICE_REVOKED'
  | 'DELEGATION_EXPIRED'
  | 'DEVICE_NOT_FOUND'
  | 'RECOVERY_NO_PEERS'
  | 'PASSPHRASE_REQUIRED'
  | 'STATE_CORRUPT'
  | 'STATE_VERSION'
  | 'STATE_MISSING'
  | 'STORE_CORRUPT'
  | 'BACKUP_UNREADABLE'
  | 'HOME_COPIED'
  | 'HOME_NOT_FOLDER'
  | 'ADDRESS_IN_USE'
  | 'ADDRESS_UNAVAILABLE'
  | 'ADDRESS_INVALID'
  | 'BASE_STOPPED'
  | 'DISK_FULL'
  | 'PEER_NOT_FOUND'
  | 'TOGGLE_CONFLICT'
  | 'NODE_PAUSED'
  | 'HANDOVER_PENDING'
  | 'PEER_NOT_CONNECTED'
  | 'NOTHING_TO_CHECK'
  | 'CONNECT_REFUSED'
  | 'PEER_HELD'
  | 'SNAPSHOT_INVALID'
  | 'JOIN_PENDING'
  | 'CANCELLED'
  | 'INTERNAL'

/** The one error class of Flux: `err.code` is stable, the message is for people. */
export class FluxError extends Error {
  readonly code: FluxErrorCode

  constructor(code: FluxErrorCode, message: string) {
    super(`${code}: ${message}`)
    this.name = 'FluxError'
    this.code = code
  }

  /** The message without its code prefix. */
  get detail(): string {
    return this.message.slice(this.code.length + 2)
  }

  toJSON(): { code: FluxErrorCode; message: string } {
    return { code: this.code, message: this.detail }
  }

  static from(err: unknown): FluxError {
    if (err instanceof FluxError) return err
    const message = err instanceof Error ? err.message : String(err)
    return new FluxError('INTERNAL', message)
  }
}

export function isFluxError(err: unknown, code?: FluxErrorCode): err is FluxError {
  return err instanceof FluxError && (code === undefined || err.code === code)
}
