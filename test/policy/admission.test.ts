import test from 'brittle'
import {
  decide,
  normalize,
  setToggle,
  DEFAULT_TOGGLES,
  RESTRICTIONS,
  TOGGLE_NAMES,
  type AdmissionFacts,
  type Toggles
} from '../../src/policy/admission.js'

const facts = (toggles: Partial<Toggles>, f: Partial<AdmissionFacts> = {}): AdmissionFacts => ({
  toggles: { ...DEFAULT_TOGGLES, ...toggles },
  blocked: false,
  approved: false,
  member: false,
  known: true,
  revoked: false,
  ...f
})

test('policy - admission decisions follow the precedence: paused, blocked, isolate, I Accept, open', (t) => {
  const rows: Array<[string, AdmissionFacts, string]> = [
    ['open: a stranger', facts({}), 'admit'],
    ['open: a revoked device', facts({}, { revoked: true }), 'refuse'],
    [
      'revoked beats approved',
      facts({ accept: true }, { revoked: true, approved: true }),
      'refuse'
    ],
    ['open: blocked', facts({}, { blocked: true }), 'refuse'],
    ['pause beats everything', facts({ pause: true }, { member: true, approved: true }), 'refuse'],
    ['blocked beats member', facts({}, { blocked: true, member: true }), 'refuse'],
    [
      'blocked beats approved',
      facts({ accept: true }, { blocked: true, approved: true }),
      'refuse'
    ],
    ['isolate: member', facts({ isolate: true }, { member: true }), 'admit'],
    ['isolate: approved stranger', facts({ isolate: true }, { approved: true }), 'refuse'],
    ['isolate: not known yet', facts({ isolate: true }, { known: false }), 'hold'],
    ['isolate beats accept', facts({ isolate: true, accept: true }, { approved: true }), 'refuse'],
    ['accept: member', facts({ accept: true }, { member: true }), 'admit'],
    ['accept: approved', facts({ accept: true }, { approved: true }), 'admit'],
    ['accept: stranger', facts({ accept: true }), 'hold'],
    ['accept: not known yet', facts({ accept: true }, { known: false }), 'hold'],
    ['auto-connect alone restricts nothing', facts({ autoConnect: true }), 'admit']
  ]
  for (const [what, f, expected] of rows) t.is(decide(f).decision, expected, what)
  const queued = decide(facts({ accept: true }))
  t.ok(queued.decision === 'hold' && queued.queue, 'a known stranger under I Accept is queued')
  const waiting = decide(facts({ accept: true }, { known: false }))
  t.ok(waiting.decision === 'hold' && !waiting.queue, 'one that has not said who it is is not')
})

/** Every combination of the four toggles: the 16 rows of DESIGN.md's interplay table. */
function allStates(): Toggles[] {
  const out: Toggles[] = []
  for (let i = 0; i < 16; i++) {
    out.push({ accept: !!(i & 1), pause: !!(i & 2), isolate: !!(i & 4), autoConnect: !!(i & 8) })
  }
  return out
}

test('policy - toggles: turning I Accept, Pause or Isolate on turns Auto-Connect off, in every row', (t) => {
  for (const state of allStates()) {
    for (const r of RESTRICTIONS) {
      const change = setToggle(state, r, true)
      t.ok(change.ok, `${JSON.stringify(state)} + ${r} on`)
      if (!change.ok) continue
      t.is(change.toggles[r], true)
      t.is(change.toggles.autoConnect, false, 'auto-connect is off')
      t.alike(change.off, state.autoConnect ? ['autoConnect'] : [], 'and says so when it was on')
      for (const other of TOGGLE_NAMES) {
        if (other !== r && other !== 'autoConnect') t.is(change.toggles[other], state[other])
      }
    }
  }
})

test('policy - toggles: Auto-Connect goes on only when no restriction is on; turning things off never turns others on', (t) => {
  for (const state of allStates()) {
    const restricted = RESTRICTIONS.filter((r) => state[r])
    const change = setToggle(state, 'autoConnect', true)
    if (restricted.length === 0) {
      t.ok(change.ok && change.toggles.autoConnect, `${JSON.stringify(state)}: allowed`)
    } else {
      t.ok(!change.ok, `${JSON.stringify(state)}: refused`)
      if (!change.ok) t.ok(/turn (it|them) off first/.test(change.reason), change.reason)
    }
    for (const name of TOGGLE_NAMES) {
      const off = setToggle(state, name, false)
      t.ok(off.ok, `${name} off is always allowed`)
      if (off.ok) t.alike(off.toggles, { ...state, [name]: false }, `${name} off changes only it`)
    }
  }
})

test('policy - toggles read from disk keep the rule: no Auto-Connect under a restriction', (t) => {
  for (const state of allStates()) {
    const n = normalize(state)
    const restricted = RESTRICTIONS.some((r) => state[r])
    t.is(n.autoConnect, state.autoConnect && !restricted, JSON.stringify(state))
    t.alike({ ...n, autoConnect: state.autoConnect }, state, 'nothing else changes')
  }
})
