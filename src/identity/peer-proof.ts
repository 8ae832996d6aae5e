/**
 * Peer proofs: how a connection says which device and profile it is.
 *
 *   identity ──device proof──▶ device ──signature──▶ the node's swarm key
 *
 * The device signs `flux/peer/v1 ‖ swarm public key`. The connection itself (Noise) proves the
 * remote holds that swarm key, so a proof copied by someone else is useless to them; it is
 * made once per node and sent on every connection. A short display name travels with it (the
 * device's claim; projects hold the names their members agreed on).
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import type { Encoder } from 'compact-encoding'
import { MAX_PROOF_BYTES } from './devices.js'
import { bindToDevice, verifyBinding, type Binding, type VerifiedBinding } from './binding.js'
import type { DeviceKeys } from './profile-keys.js'

const TAG = b4a.from('flux/peer/v1')
const MAX_NAME = 100

interface PeerProof extends Binding {
  name: string
}

/** A peer that proved which device of which profile it is. */
export interface VerifiedPeer extends VerifiedBinding {
  /** The name the device gave (a claim, not agreed by any project). */
  name: string
}

function statement(swarmKey: Uint8Array): Buffer {
  return b4a.concat([TAG, swarmKey]) as Buffer
}

/** This device's proof for the node whose swarm key is `swarmKey`, encoded for the wire. */
export function createPeerProof(keys: DeviceKeys, swarmKey: Uint8Array, name: string): Buffer {
  const bound = bindToDevice(keys, statement(swarmKey))
  return b4a.from(
    c.encode(Wire, {
      profile: b4a.from(bound.profile, 'hex') as Buffer,
      device: b4a.from(bound.device, 'hex') as Buffer,
      proof: bound.proof,
      delegated: bound.delegated,
      sig: bound.sig,
      name: name.slice(0, MAX_NAME)
    })
  ) as Buffer
}

/** Check a peer proof from the remote whose swarm key is `swarmKey`; null unless it holds. */
export function verifyPeerProof(buf: unknown, swarmKey: Uint8Array): VerifiedPeer | null {
  if (!(buf instanceof Uint8Array) || buf.byteLength > MAX_PROOF_BYTES + 512) return null
  let p: PeerProof
  try {
    p = c.decode(Wire, buf)
  } catch {
    return null
  }
  if (p.name.length > MAX_NAME) return null
  const bound = verifyBinding(p, statement(swarmKey))
  return bound === null ? null : { ...bound, name: p.name }
}

const Wire: Encoder<PeerProof> = {
  preencode(state, p) {
    wire(state, p, 'preencode')
  },
  encode(state, p) {
    wire(state, p, 'encode')
  },
  decode(state) {
    if (c.uint.decode(state) !== 1) throw new Error('unknown peer proof version')
    return {
      profile: b4a.from(c.fixed32.decode(state)) as Buffer,
      device: b4a.from(c.fixed32.decode(state)) as Buffer,
      delegated: c.bool.decode(state),
      proof: b4a.from(c.buffer.decode(state) ?? b4a.alloc(0)) as Buffer,
      sig: b4a.from(c.fixed64.decode(state)) as Buffer,
      name: c.string.decode(state)
    }
  }
}

function wire(
  state: Parameters<Encoder<PeerProof>['encode']>[0],
  p: PeerProof,
  step: 'preencode' | 'encode'
): void {
  c.uint[step](state, 1)
  c.fixed32[step](state, p.profile)
  c.fixed32[step](state, p.device)
  c.bool[step](state, p.delegated)
  c.buffer[step](state, p.proof)
  c.fixed64[step](state, p.sig)
  c.string[step](state, p.name)
}
