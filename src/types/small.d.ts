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
}
