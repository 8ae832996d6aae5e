/**
 * The shape of HOME/node.json, checked when it is read: each section and entry is validated,
 * so a damaged file is named with what is wrong instead of failing somewhere later. The file
 * carries a version; a newer one than this Flux knows is refused rather than misread.
 */
import { FluxError } from '../errors.js'
import type { Role } from '../views/project.js'
import { DEFAULT_TOGGLES, type Toggles } from '../policy/admission.js'

export interface ProjectEntry {
  /** Project key (hex). */
  key: string
  /** Corestore namespace of this project on this node (hex). */
  ns: string
  /** Data encryption key (hex), or null (public project, or held by key only). */
  encryptionKey: string | null
  /** 'profile': opened because the profile holds it (a linked or recovered device). */
  via: 'created' | 'invite' | 'key' | 'profile'
  addedAt: number
}

/** The profile this node runs as: public facts only (its secrets live in profile.key). */
export interface ProfileEntry {
  /** Profile id (hex). */
  id: string
  name: string
  /** The profile discovery public key (hex): its swarm topic is derived from it. */
  discovery: string
  /** The recovery box public key (hex): project keys are sealed to it for recovery. */
  recovery: string
  /** The profile Autobase key (hex), once created or found. */
  base: string | null
  /** A signature of the profile over the base key (see profile/manager.ts `baseStatement`). */
  baseSig: string | null
}

/** A profile of another member that this node keeps available (it cannot read it). */
export interface HostedProfile {
  profile: string
  discovery: string
  base: string
  sig: string
  /** Its writer cores (hex), as its devices told us. */
  cores: string[]
}

/** A project this node hosts by its key (`flux host add`): it keeps every core, reads nothing. */
export interface HostedProject {
  /** Project key (hex). */
  key: string
  /** Most bytes of blocks to keep for it, or null for no bound. */
  quota: number | null
  addedAt: number
  /** The project's cores (hex) as its members told us: writers, then its view cores. */
  cores: string[]
}

export interface InviteEntry {
  /** Invite id (hex). */
  id: string
  /** Project key (hex). */
  project: string
  /** Invite public key (hex): opens a candidate's request. */
  publicKey: string
  role: Role
  /** Absolute expiry in ms since the epoch. */
  expires: number
  uses: number
  used: number
  createdAt: number
  /** Writer keys (hex) admitted with this invite; device keys for a link code. */
  admitted: string[]
  /** 'link': a device link code for this node's profile (`project` is the profile base key). */
  kind?: 'project' | 'link'
  /** For a delegation link: how long (ms) the linked device may act for the profile. */
  delegateFor?: number | null
}

/** What the user decided about one peer (by its swarm key). */
export interface PeerRule {
  /** The peer's swarm key (hex). */
  peer: string
  /** When the user approved it (I Accept), or null. */
  approvedAt: number | null
  /** When the user blocked it, or null. */
  blockedAt: number | null
  /** The profile it proved when the rule was made (id hex and name), for people. */
  profile: string | null
  name: string | null
}

/** A peer waiting for the user's approval (I Accept): one row per peer. */
export interface PendingPeer {
  peer: string
  profile: string | null
  name: string | null
  address: string | null
  firstSeen: number
  lastSeen: number
  attempts: number
  /** We found it on the topic of a project we hold. */
  sharesProject: boolean
}

/** The phonebook this node holds (DESIGN.md "Phonebooks and auto-connect"). */
export interface PhonebookEntry {
  /** The phonebook key (hex). */
  key: string
  /** Its Corestore namespace. */
  namespace: string
  /** When this node joined or created it (its clock). */
  joinedAt: number
}

export interface StateFile {
  version: 1
  projects: Record<string, ProjectEntry>
  invites: Record<string, InviteEntry>
  profile: ProfileEntry | null
  hosted: Record<string, HostedProfile>
  /** Projects hosted by key (`flux host add`), by project key. */
  hostedProjects: Record<string, HostedProject>
  /** Bytes this node volunteers to host its peers' projects (`flux host offer`), or null. */
  offer: number | null
  toggles: Toggles
  peers: Record<string, PeerRule>
  pending: Record<string, PendingPeer>
  /** Absent in files written before phonebooks: read as null. */
  phonebook: PhonebookEntry | null
}

export const STATE_VERSION = 1

type Obj = Record<string, unknown>
type Check = (v: unknown) => boolean

const hex =
  (bytes: number): Check =>
  (v) =>
    typeof v === 'string' && v.length === bytes * 2 && /^[0-9a-f]*$/.test(v)
const str: Check = (v) => typeof v === 'string'
const num: Check = (v) => typeof v === 'number' && Number.isFinite(v)
const nullOr =
  (c: Check): Check =>
  (v) =>
    v === null || c(v)
const optional =
  (c: Check): Check =>
  (v) =>
    v === undefined || c(v)
const oneOf =
  (...values: unknown[]): Check =>
  (v) =>
    values.includes(v)
const strings: Check = (v) => Array.isArray(v) && v.every((x) => typeof x === 'string')

const PROJECT: Record<keyof ProjectEntry, Check> = {
  key: hex(32),
  ns: str,
  encryptionKey: nullOr(hex(32)),
  via: oneOf('created', 'invite', 'key', 'profile'),
  addedAt: num
}

const INVITE: Record<keyof InviteEntry, Check> = {
  id: hex(32),
  project: hex(32),
  publicKey: hex(32),
  role: oneOf('admin', 'member'),
  expires: num,
  uses: num,
  used: num,
  createdAt: num,
  admitted: strings,
  kind: optional(oneOf('project', 'link')),
  delegateFor: optional(nullOr(num))
}

const PHONEBOOK: Record<keyof PhonebookEntry, Check> = {
  key: hex(32),
  namespace: str,
  joinedAt: num
}

const PROFILE: Record<keyof ProfileEntry, Check> = {
  id: hex(32),
  name: str,
  discovery: hex(32),
  recovery: hex(32),
  base: nullOr(hex(32)),
  baseSig: nullOr(str)
}

const bool: Check = (v) => typeof v === 'boolean'

const TOGGLES: Record<keyof Toggles, Check> = {
  accept: bool,
  pause: bool,
  isolate: bool,
  autoConnect: bool
}

const PEER_RULE: Record<keyof PeerRule, Check> = {
  peer: hex(32),
  approvedAt: nullOr(num),
  blockedAt: nullOr(num),
  profile: nullOr(hex(32)),
  name: nullOr(str)
}

const PENDING: Record<keyof PendingPeer, Check> = {
  peer: hex(32),
  profile: nullOr(hex(32)),
  name: nullOr(str),
  address: nullOr(str),
  firstSeen: num,
  lastSeen: num,
  attempts: num,
  sharesProject: bool
}

const HOSTED: Record<keyof HostedProfile, Check> = {
  profile: hex(32),
  discovery: hex(32),
  base: hex(32),
  sig: str,
  cores: strings
}

const HOSTED_PROJECT: Record<keyof HostedProject, Check> = {
  key: hex(32),
  quota: nullOr(num),
  addedAt: num,
  cores: (v) => Array.isArray(v) && v.every(hex(32))
}

function offerOf(v: unknown, damaged: (what: string) => FluxError): number | null {
  if (v === undefined || v === null) return null
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
    throw damaged('offer: not a size')
  return v
}

/** Parse node.json's text; throws STATE_CORRUPT (or STATE_VERSION) naming the problem. */
export function parseState(text: string, file: string): StateFile {
  const damaged = (what: string): FluxError =>
    new FluxError(
      'STATE_CORRUPT',
      `${file} is damaged (${what}): move it aside to start again with no projects (your ` +
        'profile key file is kept; re-join projects by key or invite), or restore it from a backup'
    )
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw damaged('not JSON')
  }
  if (!isObj(raw)) throw damaged('not an object')
  if (typeof raw.version === 'number' && raw.version > STATE_VERSION) {
    throw new FluxError(
      'STATE_VERSION',
      `${file} was written by a newer Flux (version ${raw.version}; this one reads ${STATE_VERSION}): upgrade Flux`
    )
  }
  if (raw.version !== STATE_VERSION) throw damaged(`unknown version ${String(raw.version)}`)
  const section = <T>(name: string, fields: Record<string, Check>): Record<string, T> => {
    const value = raw[name] ?? {}
    if (!isObj(value)) throw damaged(`"${name}" is not an object`)
    for (const [key, entry] of Object.entries(value)) {
      const bad = badField(entry, fields)
      if (bad !== null) throw damaged(`${name} entry ${key.slice(0, 16)}: ${bad}`)
    }
    return value as Record<string, T>
  }
  const profile = raw.profile ?? null
  if (profile !== null) {
    const bad = badField(profile, PROFILE)
    if (bad !== null) throw damaged(`profile: ${bad}`)
  }
  const phonebook = raw.phonebook ?? null
  if (phonebook !== null) {
    const bad = badField(phonebook, PHONEBOOK)
    if (bad !== null) throw damaged(`phonebook: ${bad}`)
  }
  const toggles = raw.toggles ?? DEFAULT_TOGGLES
  const badToggle = badField(toggles, TOGGLES)
  if (badToggle !== null) throw damaged(`toggles: ${badToggle}`)
  return {
    version: STATE_VERSION,
    projects: section<ProjectEntry>('projects', PROJECT),
    invites: section<InviteEntry>('invites', INVITE),
    profile: profile as ProfileEntry | null,
    hosted: section<HostedProfile>('hosted', HOSTED),
    hostedProjects: section<HostedProject>('hostedProjects', HOSTED_PROJECT),
    offer: offerOf(raw.offer, damaged),
    toggles: { ...(toggles as Toggles) },
    peers: section<PeerRule>('peers', PEER_RULE),
    pending: section<PendingPeer>('pending', PENDING),
    phonebook: phonebook as PhonebookEntry | null
  }
}

/** The first field of `entry` that does not check out, or null. */
function badField(entry: unknown, fields: Record<string, Check>): string | null {
  if (!isObj(entry)) return 'not an object'
  for (const [name, check] of Object.entries(fields)) {
    if (!check(entry[name])) return `bad ${name}`
  }
  return null
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
