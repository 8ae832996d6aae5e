/**
 * `flux toggle`, `flux pending`, `flux approve`, `flux dismiss`, `flux block`, `flux unblock`,
 * `flux blocked`: who may reach this node (whitepaper 5.2).
 */
import { arg as argument, description, summary } from 'paparam'
import { arg, callNode, choice, usageError, verb } from './command.js'
import { ago, clean, short, table } from './output.js'
import type { PeerRuleInfo, PendingInfo, ToggleChangeResult, ToggleState } from '../api.js'

const TOGGLES = ['accept', 'pause', 'isolate', 'auto-connect'] as const
const PEER = 'peer id (see `flux peers`, `flux pending`), or a unique prefix of it'

export const toggle = verb(
  'toggle',
  [
    summary('Show or set the toggles: accept, pause, isolate, auto-connect'),
    description(
      'With no argument, shows the toggles. `flux toggle NAME on|off` sets one:\n' +
        '  accept        I Accept: peers that are not members of your projects (or approved)\n' +
        '                wait in `flux pending` until you approve them\n' +
        '  pause         no connection at all; local work goes on and syncs on resume\n' +
        '  isolate       only member devices of your projects may connect\n' +
        '  auto-connect  join the wider mesh by itself (only while the three above are off;\n' +
        '                turning any of them on turns it off)'
    ),
    argument('[name]', 'accept, pause, isolate or auto-connect'),
    argument('[state]', 'on or off')
  ],
  async (inv, out) => {
    const name = inv.args.name
    const state = inv.args.state
    if (name === undefined) {
      out.result(await callNode(inv, 'toggle.show', {}), toggleTable)
      return
    }
    if (state === undefined) throw usageError('say on or off, e.g. `flux toggle pause on`')
    const toggleName = choice(name, 'the toggle', TOGGLES)
    const on = choice(state, 'the state', ['on', 'off'] as const) === 'on'
    const result = await callNode(inv, 'toggle.set', { toggle: toggleName, on })
    out.result(result, (r) => changed(r, toggleName, on))
  }
)

export const pending = verb(
  'pending',
  [
    summary('Peers waiting for your approval (I Accept)'),
    description('Approve with `flux approve PEER`, dismiss with `flux dismiss PEER`, or block.')
  ],
  async (inv, out) => {
    out.result(await callNode(inv, 'peer.pending', {}), pendingTable)
  }
)

export const approve = verb(
  'approve',
  [
    summary('Let a peer in (at once if it is connected, else on its next attempt)'),
    argument('<peer>', PEER)
  ],
  async (inv, out) => {
    const rule = await callNode(inv, 'peer.approve', { peer: arg(inv, 'peer') })
    out.result(rule, (r) => `approved ${r.id}${named(r)}`)
  }
)

export const dismiss = verb(
  'dismiss',
  [summary('Remove a request from the queue (the peer may ask again)'), argument('<peer>', PEER)],
  async (inv, out) => {
    const row = await callNode(inv, 'peer.dismiss', { peer: arg(inv, 'peer') })
    out.result(row, (r) => `dismissed ${r.id}${named(r)}`)
  }
)

export const block = verb(
  'block',
  [summary('Refuse a peer entirely, until unblocked'), argument('<peer>', PEER)],
  async (inv, out) => {
    const rule = await callNode(inv, 'peer.block', { peer: arg(inv, 'peer') })
    out.result(rule, (r) => `blocked ${r.id}${named(r)}`)
  }
)

export const unblock = verb(
  'unblock',
  [summary('Let a blocked peer connect again'), argument('<peer>', PEER)],
  async (inv, out) => {
    const rule = await callNode(inv, 'peer.unblock', { peer: arg(inv, 'peer') })
    out.result(rule, (r) => `unblocked ${r.id}${named(r)}`)
  }
)

export const blocked = verb('blocked', [summary('The peers you blocked')], async (inv, out) => {
  out.result(await callNode(inv, 'peer.blocked', {}), (rules) =>
    rules.length === 0
      ? 'no peer is blocked'
      : table([
          ['PEER', 'PROFILE', 'BLOCKED'],
          ...rules.map((r) => [r.id, profileOf(r), ago(r.blockedAt ?? 0)])
        ])
  )
})

function toggleTable(t: ToggleState): string {
  const row = (name: string, on: boolean, what: string): string[] => [name, on ? 'on' : 'off', what]
  return [
    table([
      row('accept', t.accept, 'I Accept: strangers wait for your approval'),
      row('pause', t.pause, 'no connection at all'),
      row('isolate', t.isolate, 'only member devices of your projects'),
      row('auto-connect', t.autoConnect, 'join the wider mesh by itself')
    ]),
    `${t.pending} waiting for approval, ${t.blocked} blocked`
  ].join('\n')
}

function changed(r: ToggleChangeResult, name: string, on: boolean): string {
  const also = r.off.length > 0 ? ` (${r.off.join(', ')} turned off)` : ''
  return `${name} is ${on ? 'on' : 'off'}${also}`
}

function pendingTable(rows: PendingInfo[]): string {
  if (rows.length === 0) return 'nobody is waiting for approval'
  const now = Date.now()
  return table([
    ['PEER', 'PROFILE', 'ADDRESS', 'FIRST', 'LAST', 'TRIES', 'SHARES A PROJECT'],
    ...rows.map((r) => [
      r.id,
      profileOf(r),
      r.address ?? '-',
      ago(r.firstSeen, now),
      `${ago(r.lastSeen, now)}${r.connected ? ' (connected)' : ''}`,
      String(r.attempts),
      r.sharesProject ? 'yes' : 'no'
    ])
  ])
}

function profileOf(r: { profile: string | null; name: string | null }): string {
  if (r.profile === null) return 'unknown'
  return r.name ? `"${clean(r.name)}"? (${short(r.profile)})` : short(r.profile)
}

function named(r: PeerRuleInfo | PendingInfo): string {
  return r.profile === null ? '' : ` (${profileOf(r)})`
}
