/** What a FluxNode is opened with, and what it tells its user interfaces. */
import type { Clock } from './util/clock.js'
import type { DeviceKeys } from './identity/profile-keys.js'
import type { KdfParams } from './identity/keyfile.js'
import type { InvitesEvents } from './services/invites.js'

export interface FluxNodeOptions {
  home: string
  /** DHT bootstrap nodes ('host:port'); undefined for the public HyperDHT. */
  bootstrap?: string[] | undefined
  /** Address to bind; 127.0.0.1 for a loopback mesh. */
  host?: string | undefined
  /** Whether peers cannot reach this node unasked (default: see NetworkOptions.firewalled). */
  firewalled?: boolean | undefined
  /** Relay nodes (their relay keys) this node may relay through when holepunching fails. */
  relays?: Buffer[] | undefined
  /** Relay for admitted peers (`flux up --serve-relay`), under a key pair kept in the store. */
  serveRelay?: boolean | undefined
  /** How often (ms) a pairing candidate or member polls the DHT. */
  pairingPoll?: number
  /** The clock every service takes time from (tests inject skewed or manual clocks). */
  clock?: Clock
  /**
   * The profile to run as (from the key file); none: a hosting-only node. Keys still being
   * unlocked (a promise) let the node open meanwhile: it runs as the profile once they arrive
   * (`node.profile.unlocked()`), and says nothing on a connection until then.
   */
  profile?: { keys: DeviceKeys | Promise<DeviceKeys> } | null | undefined
  /** Key derivation cost for key files this node writes (init, device join, recover). */
  kdf?: KdfParams | undefined
  /** Peers (public keys) never admitted, from the start (the admission blocklist). */
  blocked?: Buffer[] | undefined
}

/** What a node tells its user interfaces (state changes; operations are promises). */
export interface FluxNodeEvents {
  /** A project's view changed (project key, hex). */
  'project-update': [projectKey: string]
  /** A project stopped on a full disk (project key, hex; free bytes on the home's disk). */
  'disk-full': [projectKey: string, free: number]
  /** Something went wrong that did not stop the node (a peer's bad request, a failed open). */
  warning: [err: unknown]
  'invite-admitted': InvitesEvents['invite-admitted']
  'invite-denied': InvitesEvents['invite-denied']
  'invite-ignored': InvitesEvents['invite-ignored']
}
