/** How `flux` shows the node and its peers. */
import type { NodeStatus, PeerInfo, ToggleState } from '../api.js'
import { ago, clean, indent, projectList, short, table } from './output.js'

/** Each peer with the profile it proved: its name and id, or "unknown". */
export function peerList(peers: PeerInfo[]): string {
  if (peers.length === 0) return 'no peers connected'
  const now = Date.now()
  return table([
    ['PEER', 'PROFILE', 'ADDRESS', 'DIRECTION', 'SINCE'],
    ...peers.map((p) => [
      p.id,
      peerProfile(p),
      p.address ?? '-',
      `${p.initiator ? 'out' : 'in'}${p.state === 'pending' ? ' (held)' : ''}`,
      ago(p.connectedAt, now)
    ])
  ])
}

function peerProfile(p: PeerInfo): string {
  const prof = p.profile
  if (prof === null) return 'unknown'
  const name =
    prof.name === null
      ? ''
      : prof.nameFrom === 'peer'
        ? `"${clean(prof.name)}"? `
        : `${clean(prof.name)} `
  const marks = [prof.delegated ? 'delegate' : '', prof.revoked ? 'REVOKED' : ''].filter(Boolean)
  return `${name}(${short(prof.id)})${marks.length > 0 ? ` ${marks.join(', ')}` : ''}`
}

export function nodeStatus(s: NodeStatus): string {
  const network =
    s.bootstrap === null ? 'public HyperDHT' : `private mesh via ${s.bootstrap.join(', ')}`
  const lines = [
    table([
      ['node', s.peerId],
      ['home', s.home],
      ['pid', `${s.pid}, up since ${new Date(s.startedAt).toISOString()}`],
      ['network', s.host === null ? network : `${network}, bound to ${s.host}`],
      ['peers', String(s.peers)],
      ['toggles', toggleLine(s.toggles)],
      ['projects', String(s.projects.length)]
    ])
  ]
  if (s.projects.length > 0) lines.push(indent(projectList(s.projects), '  '))
  return lines.join('\n')
}

/** The toggles that are on, and what waits: "accept, isolate on; 2 waiting for approval". */
export function toggleLine(t: ToggleState): string {
  const on = [
    t.accept ? 'accept' : '',
    t.pause ? 'pause' : '',
    t.isolate ? 'isolate' : '',
    t.autoConnect ? 'auto-connect' : ''
  ].filter(Boolean)
  const parts = [on.length > 0 ? `${on.join(', ')} on` : 'all off']
  if (t.pending > 0) parts.push(`${t.pending} waiting for approval (flux pending)`)
  if (t.blocked > 0) parts.push(`${t.blocked} blocked`)
  return parts.join('; ')
}
