declare module 'keet-identity-key' {
  interface KeyPair {
    publicKey: Buffer
    secretKey: Buffer
  }
  interface VerifyOptions {
    receipt?: Buffer
    expectedIdentity?: Uint8Array
    expectedDevice?: Uint8Array
  }
  interface VerifiedProof {
    receipt: Buffer
    identityPublicKey: Buffer
    devicePublicKey: Buffer
  }
  /** The HD key chain behind an identity; `seed` is derived from the mnemonic. */
  interface KeyChain {
    seed: Buffer
    clear(): void
  }
  class IdentityKey {
    readonly keyChain: KeyChain
    readonly identityKeyPair: KeyPair
    readonly profileDiscoveryKeyPair: KeyPair
    readonly identityPublicKey: Buffer
    readonly profileDiscoveryPublicKey: Buffer
    static generateMnemonic(): string
    /** Rejects for an invalid mnemonic (bad word, count or checksum). */
    static from(opts: { mnemonic: string } | { seed: Buffer }): Promise<IdentityKey>
    /** Proofs must be Buffers: any other value is taken as an already decoded proof. */
    static attestDevice(publicKey: Uint8Array, parent: KeyPair, proof: Buffer): Buffer
    static attestData(data: Buffer, keyPair: KeyPair, proof: Buffer): Buffer
    /** Null when the proof fails; throws on undecodable input or a data proof checked with null. */
    static verify(
      proof: Buffer,
      attestedData: Buffer | null,
      opts?: VerifyOptions
    ): VerifiedProof | null
    getProfileDiscoveryEncryptionKey(): Buffer
    getEncryptionKey(profileKey: Uint8Array): Buffer
    bootstrap(devicePublicKey: Uint8Array): Promise<Buffer>
    clear(): void
  }
  namespace IdentityKey {
    export type { KeyPair, VerifyOptions, VerifiedProof }
  }
  export = IdentityKey
}

// The proof wire format is not exported by the package root; Flux decodes proofs itself to read
// the device chain and to reject non-canonical (trailing-byte) encodings.
declare module 'keet-identity-key/lib/encoding.js' {
  import type { Encoder } from 'compact-encoding'
  interface DecodedProof {
    version: number
    epoch: number
    identity: Buffer | null
    chain: { publicKey: Buffer; signature: Buffer }[]
    data: { signature: Buffer } | null
  }
  export const ProofEncoding: Encoder<DecodedProof>
  export type { DecodedProof }
}
