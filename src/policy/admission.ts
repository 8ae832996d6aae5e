/**
 * Admission policy: who may reach this node. Pure: no I/O and no clock of its own, so it is
 * tested on its own and every decision is explained by its inputs; the network only carries
 * out its verdicts. Today it admits every peer the user has not blocked; the user's toggles
 * (I Accept, Pause, Isolate, Auto-Connect) are the next inputs (see DESIGN.md, "Admission").
 */

/** What the policy knows about a peer when it decides. */
export interface AdmissionFacts {
  /** The user blocked this peer. */
  blocked: boolean
}

export type Decision =
  | { decision: 'admit' }
  | { decision: 'hold'; reason: string }
  | { decision: 'refuse'; reason: string }

/** Precedence: blocked, then open. */
export function decide(facts: AdmissionFacts): Decision {
  if (facts.blocked) return { decision: 'refuse', reason: 'blocked by the user' }
  return { decision: 'admit' }
}
