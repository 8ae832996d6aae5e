/**
 * Admission policy: who may reach this node, and how the user's four toggles (whitepaper 5.2
 * and 2.4) interact. Pure: no I/O and no clock of its own, so every decision is explained by
 * its inputs and tested on its own; the network only carries out its verdicts. DESIGN.md
 * ("Admission and the toggles") has the precedence and the interplay table.
 */

/** The user's switches over the node. */
export interface Toggles {
  /** I Accept: a peer that is not already allowed waits in a queue for the user's approval. */
  accept: boolean
  /** Pause: no connection at all; local work goes on and syncs when the node resumes. */
  pause: boolean
  /** Isolate: only member devices of a project this node holds. */
  isolate: boolean
  /** Auto-Connect: join the wider mesh by itself (only while the three above are off). */
  autoConnect: boolean
}

export type ToggleName = keyof Toggles

export const TOGGLE_NAMES: readonly ToggleName[] = ['accept', 'pause', 'isolate', 'autoConnect']

export const DEFAULT_TOGGLES: Toggles = {
  accept: false,
  pause: false,
  isolate: false,
  autoConnect: false
}

/** What the policy knows about a peer when it decides. */
export interface AdmissionFacts {
  toggles: Toggles
  /** The user blocked this peer. */
  blocked: boolean
  /** The user approved this peer (I Accept). */
  approved: boolean
  /**
   * The peer proved it is a device (not revoked) of a profile that is a member of a project
   * this node holds, of our own profile, or that it holds the key of a private project we hold.
   */
  member: boolean
  /** Whether the peer has said who it is yet (its hello arrived, or it waited too long). */
  known: boolean
  /**
   * The peer proved a device that a project or profile held here has revoked: it is refused
   * whatever the toggles (a stolen device must stop receiving what members write).
   */
  revoked: boolean
}

export type Decision =
  | { decision: 'admit' }
  /** Keep the connection but open nothing; `queue`: ask the user (I Accept). */
  | { decision: 'hold'; queue: boolean; reason: string }
  | { decision: 'refuse'; reason: string }

/** Precedence: paused, then revoked, then blocked, then isolate, then manual approval, then open. */
export function decide(f: AdmissionFacts): Decision {
  if (f.toggles.pause) return { decision: 'refuse', reason: 'the node is paused' }
  if (f.revoked) return { decision: 'refuse', reason: 'a revoked device' }
  if (f.blocked) return { decision: 'refuse', reason: 'blocked by the user' }
  if (f.toggles.isolate) {
    if (f.member) return { decision: 'admit' }
    if (!f.known) return { decision: 'hold', queue: false, reason: 'waiting to learn who it is' }
    return { decision: 'refuse', reason: 'isolated: not a member of a project held here' }
  }
  if (f.toggles.accept) {
    if (f.member || f.approved) return { decision: 'admit' }
    if (!f.known) return { decision: 'hold', queue: false, reason: 'waiting to learn who it is' }
    return { decision: 'hold', queue: true, reason: 'waiting for your approval' }
  }
  return { decision: 'admit' }
}

export type ToggleChange =
  | { ok: true; toggles: Toggles; /** toggles switched off as a consequence */ off: ToggleName[] }
  | { ok: false; reason: string }

/**
 * Set one toggle. Turning I Accept, Pause or Isolate on switches Auto-Connect off; Auto-Connect
 * cannot be turned on while any of them is on (the user turns that one off first).
 */
export function setToggle(current: Toggles, name: ToggleName, on: boolean): ToggleChange {
  const next: Toggles = { ...current, [name]: on }
  if (name === 'autoConnect' && on) {
    const blocking = RESTRICTIONS.filter((r) => current[r])
    if (blocking.length > 0) {
      return {
        ok: false,
        reason: `Auto-Connect stays off while ${blocking.map(label).join(' and ')} ${blocking.length > 1 ? 'are' : 'is'} on: turn ${blocking.length > 1 ? 'them' : 'it'} off first`
      }
    }
  }
  const off: ToggleName[] = []
  if (on && RESTRICTIONS.includes(name) && current.autoConnect) {
    next.autoConnect = false
    off.push('autoConnect')
  }
  return { ok: true, toggles: next, off }
}

/** Toggles as they may be kept: Auto-Connect is off while any restriction is on. */
export function normalize(t: Toggles): Toggles {
  return RESTRICTIONS.some((r) => t[r]) ? { ...t, autoConnect: false } : { ...t }
}

/** The toggles that restrict who may connect, and so keep Auto-Connect off. */
export const RESTRICTIONS: readonly ToggleName[] = ['accept', 'pause', 'isolate']

/** How people name a toggle. */
export function label(name: ToggleName): string {
  return name === 'accept'
    ? 'I Accept'
    : name === 'autoConnect'
      ? 'Auto-Connect'
      : name === 'pause'
        ? 'Pause'
        : 'Isolate'
}
