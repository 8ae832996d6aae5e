/**
 * Writer proofs: how a project learns that a writer core belongs to a profile.
 *
 *   identity ──device proof──▶ device ──writer signature──▶ writer core (one per project)
 *
 * A device (or a delegate, holding a grant instead of a proof) signs
 * `flux/writer/v1 ‖ project discovery key ‖ writer key` with its own key. Anyone can check the
 * whole chain from the profile id down to the writer; `apply` does so before a writer's ops
 * count. The authority is in the proof, not in who carries it: any member may append it.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import type { Encoder } from 'compact-encoding'
import { MAX_PROOF_BYTES } from './devices.js'
import { bindToDevice, verifyBinding } from './binding.js'
import type { DeviceKeys } from './profile-keys.js'
import { toHex } from './keys.js'

/** A writer proof as it travels inside ops (JSON: hex keys, base64 proofs). */
export interface WriterProof {
  profile: string
  device: string
  writer: string
  /** The device proof (full device) or the delegation grant (delegate), base64. */
  proof: string
  delegated: boolean
  /** The device's signature over the writer, base64. */
  sig: string
}

/** What a valid writer proof shows. */
export interface VerifiedWriter {
  profile: string
  device: string
  writer: string
  delegated: boolean
  /** Null for a full device. */
  expiresAt: number | null
  /** Device keys (hex) from the one the identity attested down to the signer. */
  chain: string[]
}

const TAG = b4a.from('flux/writer/v1')

function statement(discoveryKey: Uint8Array, writer: Uint8Array): Buffer {
  return b4a.concat([TAG, discoveryKey, writer]) as Buffer
}

/** Sign `writer` (a project writer core key) as this device, for the project of `discoveryKey`. */
export function createWriterProof(
  keys: DeviceKeys,
  discoveryKey: Uint8Array,
  writer: Uint8Array
): WriterProof {
  const bound = bindToDevice(keys, statement(discoveryKey, writer))
  return {
    profile: bound.profile,
    device: bound.device,
    writer: toHex(writer),
    proof: b4a.toString(bound.proof, 'base64'),
    delegated: bound.delegated,
    sig: b4a.toString(bound.sig, 'base64')
  }
}

const HEX64 = /^[0-9a-f]{64}$/
const B64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Check the shape of a writer proof from a peer (for op validation). Never throws. */
export function isWriterProofShape(v: unknown): v is WriterProof {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const o = v as Record<string, unknown>
  return (
    typeof o.profile === 'string' &&
    HEX64.test(o.profile) &&
    typeof o.device === 'string' &&
    HEX64.test(o.device) &&
    typeof o.writer === 'string' &&
    HEX64.test(o.writer) &&
    typeof o.proof === 'string' &&
    o.proof.length <= ((MAX_PROOF_BYTES + 64) * 4) / 3 + 4 &&
    B64.test(o.proof) &&
    typeof o.delegated === 'boolean' &&
    typeof o.sig === 'string' &&
    o.sig.length <= 100 &&
    B64.test(o.sig) &&
    Object.keys(o).length === 6
  )
}

/**
 * Verify a writer proof for the project of `discoveryKey`: the proof chains the device to the
 * profile, and the device signed this writer for this project. Null for anything else; never
 * throws. Expiry and revocation are judged by the caller (they need the project's state).
 */
export function verifyWriterProof(v: unknown, discoveryKey: Uint8Array): VerifiedWriter | null {
  if (!isWriterProofShape(v)) return null
  try {
    const proof = b4a.from(v.proof, 'base64')
    if (b4a.toString(proof, 'base64') !== v.proof) return null // one spelling per proof
    const bound = verifyBinding(
      {
        profile: b4a.from(v.profile, 'hex'),
        device: b4a.from(v.device, 'hex'),
        proof,
        delegated: v.delegated,
        sig: b4a.from(v.sig, 'base64')
      },
      statement(discoveryKey, b4a.from(v.writer, 'hex'))
    )
    if (bound === null) return null
    return { ...bound, writer: v.writer }
  } catch {
    return null
  }
}

// Pairing requests ride the DHT in small mutable records: the proof travels there in binary.
const Wire: Encoder<WriterProof> = {
  preencode(state, p) {
    wire(state, p, 'preencode')
  },
  encode(state, p) {
    wire(state, p, 'encode')
  },
  decode(state) {
    if (c.uint.decode(state) !== 1) throw new Error('unknown writer proof version')
    const profile = toHex(c.fixed32.decode(state))
    const device = toHex(c.fixed32.decode(state))
    const writer = toHex(c.fixed32.decode(state))
    const delegated = c.bool.decode(state)
    const proof = c.buffer.decode(state)
    const sig = c.fixed64.decode(state)
    return {
      profile,
      device,
      writer,
      delegated,
      proof: b4a.toString(proof ?? b4a.alloc(0), 'base64'),
      sig: b4a.toString(sig, 'base64')
    }
  }
}

function wire(
  state: Parameters<Encoder<WriterProof>['encode']>[0],
  p: WriterProof,
  step: 'preencode' | 'encode'
): void {
  c.uint[step](state, 1)
  c.fixed32[step](state, b4a.from(p.profile, 'hex'))
  c.fixed32[step](state, b4a.from(p.device, 'hex'))
  c.fixed32[step](state, b4a.from(p.writer, 'hex'))
  c.bool[step](state, p.delegated)
  c.buffer[step](state, b4a.from(p.proof, 'base64'))
  c.fixed64[step](state, b4a.from(p.sig, 'base64'))
}

export function encodeWriterProof(p: WriterProof): Buffer {
  return b4a.from(c.encode(Wire, p)) as Buffer
}

/** Decode a binary writer proof (from a pairing request); null if it is not one. */
export function decodeWriterProof(buf: unknown): WriterProof | null {
  if (!(buf instanceof Uint8Array) || buf.byteLength > MAX_PROOF_BYTES + 256) return null
  try {
    return c.decode(Wire, buf)
  } catch {
    return null
  }
}
