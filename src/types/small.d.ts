declare module 'hypercore-id-encoding' {
  export function encode(key: Buffer | Uint8Array): string
  export function decode(id: string): Buffer
  export function normalize(id: string | Buffer): string
  export function isValid(id: string | Buffer): boolean
}

declare module 'z32' {
  export function encode(buf: Buffer | Uint8Array | string): string
  export function decode(s: string): Buffer
}

declare module 'hypercore-crypto' {
  export function randomBytes(n: number): Buffer
  export function discoveryKey(key: Buffer): Buffer
  export function hash(data: Buffer | Buffer[]): Buffer
  export function keyPair(seed?: Buffer): { publicKey: Buffer; secretKey: Buffer }
}

declare module 'sodium-universal' {
  export function crypto_generichash(out: Buffer, input: Buffer, key?: Buffer): void
  export function randombytes_buf(buf: Buffer): void
  export function sodium_memzero(buf: Uint8Array): void
  /** Constant-time comparison of two equally long buffers. */
  export function sodium_memcmp(a: Uint8Array, b: Uint8Array): boolean
  export const crypto_sign_PUBLICKEYBYTES: number
  export const crypto_sign_SECRETKEYBYTES: number
  export function crypto_sign_keypair(pk: Uint8Array, sk: Uint8Array): void
  export const crypto_sign_BYTES: number
  export function crypto_sign_detached(sig: Uint8Array, m: Uint8Array, sk: Uint8Array): void
  export function crypto_sign_verify_detached(
    sig: Uint8Array,
    m: Uint8Array,
    pk: Uint8Array
  ): boolean
  export function crypto_sign_ed25519_pk_to_curve25519(out: Uint8Array, pk: Uint8Array): void
  export function crypto_sign_ed25519_sk_to_curve25519(out: Uint8Array, sk: Uint8Array): void
  export const crypto_box_PUBLICKEYBYTES: number
  export const crypto_box_SECRETKEYBYTES: number
  export const crypto_box_SEEDBYTES: number
  export const crypto_box_SEALBYTES: number
  export function crypto_box_seed_keypair(pk: Uint8Array, sk: Uint8Array, seed: Uint8Array): void
  export function crypto_scalarmult_base(q: Uint8Array, n: Uint8Array): void
  export function crypto_box_seal(c: Uint8Array, m: Uint8Array, pk: Uint8Array): void
  /** Returns false when the box does not open. */
  export function crypto_box_seal_open(
    m: Uint8Array,
    c: Uint8Array,
    pk: Uint8Array,
    sk: Uint8Array
  ): boolean
  export const crypto_pwhash_ALG_ARGON2ID13: number
  export const crypto_pwhash_SALTBYTES: number
  export const crypto_pwhash_OPSLIMIT_MIN: number
  export const crypto_pwhash_MEMLIMIT_MIN: number
  export const crypto_pwhash_OPSLIMIT_INTERACTIVE: number
  export const crypto_pwhash_MEMLIMIT_INTERACTIVE: number
  export const crypto_pwhash_OPSLIMIT_MODERATE: number
  export const crypto_pwhash_MEMLIMIT_MODERATE: number
  export const crypto_pwhash_OPSLIMIT_SENSITIVE: number
  export const crypto_pwhash_MEMLIMIT_SENSITIVE: number
  /** Argon2 on the libuv thread pool: the event loop keeps running. */
  export function crypto_pwhash_async(
    out: Uint8Array,
    passwd: Uint8Array,
    salt: Uint8Array,
    opslimit: number,
    memlimit: number,
    alg: number
  ): Promise<void>
  export const crypto_aead_xchacha20poly1305_ietf_KEYBYTES: number
  export const crypto_aead_xchacha20poly1305_ietf_NPUBBYTES: number
  export const crypto_aead_xchacha20poly1305_ietf_ABYTES: number
  export function crypto_aead_xchacha20poly1305_ietf_encrypt(
    c: Uint8Array,
    m: Uint8Array,
    ad: Uint8Array | null,
    nsec: null,
    npub: Uint8Array,
    k: Uint8Array
  ): number
  /** Throws when the box or the additional data does not authenticate. */
  export function crypto_aead_xchacha20poly1305_ietf_decrypt(
    m: Uint8Array,
    nsec: null,
    c: Uint8Array,
    ad: Uint8Array | null,
    npub: Uint8Array,
    k: Uint8Array
  ): number
}

declare module 'hyperswarm-capability' {
  /** Proof that a side of a Noise stream knows a key, bound to that stream's handshake. */
  class HyperswarmCapability {
    constructor(namespace?: Uint8Array)
    generate(
      stream: { isInitiator: boolean; handshakeHash: Uint8Array | null },
      key: Uint8Array
    ): Buffer
    verify(
      stream: { isInitiator: boolean; handshakeHash: Uint8Array | null },
      key: Uint8Array,
      capability: Uint8Array
    ): boolean
  }
  export = HyperswarmCapability
}
