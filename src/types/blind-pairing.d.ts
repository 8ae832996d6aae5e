declare module 'blind-pairing' {
  import type Hyperswarm from 'hyperswarm'
  interface CreatedInvite {
    id: Buffer
    invite: Buffer
    seed: Buffer
    publicKey: Buffer
    discoveryKey: Buffer
    expires: number
  }
  interface DecodedInvite {
    id: Buffer
    seed: Buffer
    discoveryKey: Buffer
    expires: number
  }
  interface MemberRequest {
    inviteId: Buffer
    userData: Buffer | null
    open(publicKey: Buffer): Buffer
    confirm(res: { key: Buffer; encryptionKey?: Buffer | null; additional?: unknown }): void
    deny(opts?: { status?: number }): void
  }
  interface Member {
    ready(): Promise<void>
    close(): Promise<void>
    flushed(): Promise<void>
  }
  interface Candidate {
    ready(): Promise<void>
    close(): Promise<void>
    pairing: Promise<{ key: Buffer; encryptionKey: Buffer | null; data: Buffer | null } | null>
    paired: unknown
    /** Emits 'rejected' (err with a code) when a member denies us; `pairing` itself never rejects. */
    request: { on(event: 'rejected', fn: (err: Error & { code?: string }) => void): void }
  }
  class BlindPairing {
    constructor(swarm: Hyperswarm, opts?: { poll?: number })
    static createInvite(key: Buffer, opts?: { expires?: number; data?: Buffer }): CreatedInvite
    static decodeInvite(invite: Buffer): DecodedInvite
    addMember(opts: {
      discoveryKey: Buffer
      announce?: boolean
      onadd: (req: MemberRequest) => Promise<void> | void
    }): Member
    addCandidate(opts: {
      invite: Buffer
      userData: Buffer
      onadd?: (res: unknown) => Promise<void> | void
    }): Candidate
    readonly closing: Promise<void> | null
    ready(): Promise<void>
    close(): Promise<void>
  }
  namespace BlindPairing {
    export type { CreatedInvite, DecodedInvite, MemberRequest, Member, Candidate }
  }
  export = BlindPairing
}
