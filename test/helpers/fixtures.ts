import type { WriterProof } from '../../src/identity/writer-proof.js'

/** A writer proof of the right shape whose contents prove nothing (apply rejects it). */
export const shapeOnlyProof: WriterProof = {
  profile: 'ab'.repeat(32),
  device: 'cd'.repeat(32),
  writer: 'ef'.repeat(32),
  proof: 'AAAA',
  delegated: false,
  sig: 'AAAA'
}
