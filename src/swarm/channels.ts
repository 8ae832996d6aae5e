/**
 * Feature channels: one protomux channel per feature (writer requests, profile recovery,
 * profile hosting, and the features to come) on every admitted connection, beside replication.
 * Built on protomux-rpc: fire-and-forget events and request/response, JSON payloads.
 *
 * The receiver checks every message before any handler sees it: its size against the
 * feature's bound, then its shape with the feature's parser. A message that fails either is a
 * strike against the peer's session (`Session.strike`), which drops a peer that keeps sending
 * them; the node goes on serving everyone else.
 */
import { EventEmitter } from 'events'
import ProtomuxRPC from 'protomux-rpc'
import Protomux from 'protomux'
import c from 'compact-encoding'
import { depthExceeds } from '../autobase/shapes.js'
import type { Session } from './session.js'

/** How one message of a feature is checked. */
export interface MessageSpec<T> {
  /** Largest encoded message accepted, in bytes. */
  maxBytes: number
  /** The message if it has the right shape, else null. Never throws. */
  parse(value: unknown): T | null
}

export interface ChannelSpec<
  Ev extends Record<string, unknown>,
  Rq extends Record<string, [unknown, unknown]>
> {
  /** The protomux protocol name, e.g. 'flux/writers/v1'. */
  protocol: string
  events: { [K in keyof Ev]: MessageSpec<Ev[K]> }
  requests: { [K in keyof Rq]: { request: MessageSpec<Rq[K][0]>; response: MessageSpec<Rq[K][1]> } }
}

/** A peer with this feature's channel open. */
export interface ChannelPeer {
  /** The peer's swarm key (hex). */
  id: string
  session: Session
}

const MAX_DEPTH = 16

interface ChannelEvents {
  open: [peer: ChannelPeer]
  close: [peer: ChannelPeer]
}

export class FeatureChannel<
  Ev extends Record<string, unknown>,
  Rq extends Record<string, [unknown, unknown]> = Record<never, [unknown, unknown]>
> extends EventEmitter<ChannelEvents> {
  private readonly open = new Map<string, { peer: ChannelPeer; rpc: ProtomuxRPC }>()
  private readonly subscribers = new Map<keyof Ev, Set<(m: never, peer: ChannelPeer) => void>>()
  private readonly handlers = new Map<keyof Rq, (m: never, peer: ChannelPeer) => unknown>()

  constructor(readonly spec: ChannelSpec<Ev, Rq>) {
    super()
  }

  get protocol(): string {
    return this.spec.protocol
  }

  /** Peers with the channel open. */
  peers(): ChannelPeer[] {
    return [...this.open.values()].map((o) => o.peer)
  }

  /** Listen to one kind of event from peers (already checked). */
  onEvent<K extends keyof Ev & string>(
    name: K,
    fn: (message: Ev[K], peer: ChannelPeer) => void
  ): () => void {
    let set = this.subscribers.get(name)
    if (!set) this.subscribers.set(name, (set = new Set()))
    set.add(fn as (m: never, peer: ChannelPeer) => void)
    return () => set.delete(fn as (m: never, peer: ChannelPeer) => void)
  }

  /** Answer one kind of request; a null answer is sent as "nothing" (the asker gets null). */
  handle<K extends keyof Rq & string>(
    name: K,
    fn: (message: Rq[K][0], peer: ChannelPeer) => Promise<Rq[K][1] | null> | Rq[K][1] | null
  ): void {
    this.handlers.set(name, fn as (m: never, peer: ChannelPeer) => unknown)
  }

  /** Send an event to one peer; false if its channel is not open. */
  send<K extends keyof Ev & string>(peer: ChannelPeer | string, name: K, message: Ev[K]): boolean {
    const o = this.open.get(typeof peer === 'string' ? peer : peer.id)
    if (!o || o.rpc.closed) return false
    const bytes = encode(message)
    if (bytes.byteLength > this.spec.events[name].maxBytes) return false
    o.rpc.event(name, bytes)
    return true
  }

  /** Send an event to every peer with the channel open; how many it reached. */
  broadcast<K extends keyof Ev & string>(name: K, message: Ev[K]): number {
    let n = 0
    for (const id of this.open.keys()) if (this.send(id, name, message)) n++
    return n
  }

  /** Ask one peer; its checked answer, or null (no answer, nothing to say, or a bad answer). */
  async request<K extends keyof Rq & string>(
    peer: ChannelPeer,
    name: K,
    message: Rq[K][0],
    timeout: number
  ): Promise<Rq[K][1] | null> {
    const o = this.open.get(peer.id)
    if (!o || o.rpc.closed) return null
    let raw: unknown
    try {
      raw = await o.rpc.request(name, encode(message), { timeout })
    } catch {
      return null
    }
    if (raw instanceof Uint8Array && raw.byteLength === 0) return null
    return this.check(peer.session, this.spec.requests[name].response, raw, `${name} answer`)
  }

  /**
   * Open the channel on an admitted session. If the peer opens it first (it admitted us
   * before we admitted it), the muxer's pairing brings it here.
   */
  attach(session: Session): void {
    const mux = Protomux.from(session.stream)
    const start = (): void => {
      if (session.state === 'closed') return
      const known = this.open.get(session.key)
      if (known && !known.rpc.closed) return
      this.create(session)
    }
    mux.pair({ protocol: this.spec.protocol }, start)
    session.once('close', () => mux.unpair({ protocol: this.spec.protocol }))
    start()
  }

  private create(session: Session): void {
    let rpc: ProtomuxRPC
    try {
      rpc = new ProtomuxRPC(session.stream, {
        protocol: this.spec.protocol,
        valueEncoding: c.raw
      })
    } catch {
      return // a duplicate channel: one is open already
    }
    const peer: ChannelPeer = { id: session.key, session }
    for (const name of Object.keys(this.spec.events) as Array<keyof Ev & string>) {
      rpc.respond(name, (raw) => {
        const m = this.check(session, this.spec.events[name], raw, name)
        if (m === null) return
        for (const fn of this.subscribers.get(name) ?? []) fn(m as never, peer)
      })
    }
    for (const name of Object.keys(this.spec.requests) as Array<keyof Rq & string>) {
      rpc.respond(name, async (raw) => {
        const m = this.check(session, this.spec.requests[name].request, raw, name)
        const handler = this.handlers.get(name)
        if (m === null || handler === undefined) return EMPTY
        const answer = await handler(m as never, peer)
        return answer === null || answer === undefined ? EMPTY : encode(answer)
      })
    }
    rpc.on('open', () => {
      this.open.set(session.key, { peer, rpc })
      this.emit('open', peer)
    })
    rpc.on('close', () => {
      if (this.open.get(session.key)?.rpc !== rpc) return
      this.open.delete(session.key)
      this.emit('close', peer)
    })
  }

  /** A message from a peer, checked; a bad one is a strike against the peer. */
  private check<T>(session: Session, spec: MessageSpec<T>, raw: unknown, what: string): T | null {
    const label = `${this.spec.protocol} ${what}`
    if (!(raw instanceof Uint8Array)) return strike(session, `${label}: not bytes`)
    if (raw.byteLength > spec.maxBytes) {
      return strike(session, `${label}: ${raw.byteLength} bytes (at most ${spec.maxBytes})`)
    }
    let value: unknown
    try {
      value = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString())
    } catch {
      return strike(session, `${label}: not JSON`)
    }
    if (depthExceeds(value, MAX_DEPTH)) return strike(session, `${label}: nested too deeply`)
    const parsed = spec.parse(value)
    return parsed === null ? strike(session, `${label}: malformed`) : parsed
  }
}

const EMPTY = Buffer.alloc(0)

function encode(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value))
}

function strike(session: Session, reason: string): null {
  session.strike(reason)
  return null
}
