/**
 * A small side channel on every connection (protomux 'flux/rpc/v1', next to replication):
 * the requests that cannot be ops because the sender is not a writer yet.
 *
 * - `writer-request`: "add my writer core to this project" with a writer proof. Any writer of
 *   the project may carry it in as a `writer/add` op: the proof, not the carrier, is the
 *   authority, and apply checks it on every peer.
 * - `profile-query` / `profile-answer`: "who holds the profile of this discovery key?",
 *   answered with its Autobase key and the profile's signature over it (recovery).
 * - `profile-cores`: a device tells project peers which cores make up its profile, so that
 *   they can keep them available (they cannot read them).
 *
 * Messages are JSON, at most 16 KiB, checked by the receiver; unknown ones are ignored.
 */
import { EventEmitter } from 'events'
import Protomux from 'protomux'
import c from 'compact-encoding'
import type { WriterProof } from '../identity/writer-proof.js'

export type RpcMessage =
  | { t: 'writer-request'; project: string; proof: WriterProof }
  | { t: 'profile-query'; discovery: string }
  | { t: 'profile-answer'; discovery: string; base: string; sig: string; length: number }
  | {
      t: 'profile-cores'
      profile: string
      discovery: string
      base: string
      sig: string
      cores: string[]
    }

const MAX_MESSAGE = 16 * 1024

export interface RpcPeer {
  /** The remote's public key (hex). */
  id: string
  send(message: RpcMessage): boolean
}

/** Emits 'message' (message, peer) and 'open' (peer) when a peer's channel opens. */
export class Rpc extends EventEmitter {
  readonly peers = new Map<string, RpcPeer>()

  attach(stream: unknown, id: string): void {
    const mux = Protomux.from(stream)
    let peer: RpcPeer | null = null
    const channel = mux.createChannel({
      protocol: 'flux/rpc/v1',
      onopen: () => {
        if (peer === null) return
        this.peers.set(id, peer)
        this.emit('open', peer)
      },
      onclose: () => {
        if (peer !== null && this.peers.get(id) === peer) this.peers.delete(id)
      }
    })
    if (channel === null) return
    const message = channel.addMessage({
      encoding: c.json,
      onmessage: (m: unknown) => {
        if (peer === null || !isMessage(m)) return
        this.emit('message', m, peer)
      }
    })
    peer = {
      id,
      send: (m) => {
        if (channel.closed || Buffer.byteLength(JSON.stringify(m)) > MAX_MESSAGE) return false
        return message.send(m)
      }
    }
    channel.open()
  }

  /** Send to every peer with an open channel; returns how many it was sent to. */
  broadcast(message: RpcMessage): number {
    let n = 0
    for (const peer of this.peers.values()) if (peer.send(message)) n++
    return n
  }
}

function isMessage(m: unknown): m is RpcMessage {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return false
  const t = (m as { t?: unknown }).t
  return (
    t === 'writer-request' ||
    t === 'profile-query' ||
    t === 'profile-answer' ||
    t === 'profile-cores'
  )
}
