/** How `flux` shows the node and its peers. */
import type {
  DhtStatus,
  DialFailure,
  MeshStatus,
  NatStatus,
  NodeStatus,
  PeerInfo,
  ToggleState
} from '../api.js'
import { ago, clean, indent, plural, projectList, short, table } from './output.js'

/** Each peer with the profile it proved: its name and id, or "unknown". */
export function peerList(peers: PeerInfo[]): string {
  if (peers.length === 0) return 'no peers connected'
  const now = Date.now()
  return table([
    ['PEER', 'PROFILE', 'ADDRESS', 'ROUTE', 'DIRECTION', 'SINCE'],
    ...peers.map((p) => [
      p.id,
      peerProfile(p),
      p.address ?? '-',
      p.route,
      `${p.initiator ? 'out' : 'in'}${p.state === 'pending' ? ' (held)' : ''}`,
      ago(p.connectedAt, now)
    ])
  ])
}

/** The profile a peer proved, for people: `Ada (abcd1234)`, `"Cy"? (...)` for a claim. */
export function peerProfile(p: PeerInfo): string {
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
      ...natRows(s.nat),
      ['dht', dhtLine(s.dht, s.bootstrap)],
      ['phonebook', meshLine(s.mesh)],
      ['projects', String(s.projects.length)]
    ])
  ]
  if (s.projects.length > 0) lines.push(indent(projectList(s.projects), '  '))
  return lines.join('\n')
}

/** Whether DHT nodes answer; when none do, a warning that says what to check. */
export function dhtLine(d: DhtStatus, bootstrap: string[] | null): string {
  if (!d.silent) return `${plural(d.nodes, 'DHT node')} known`
  const since = d.silentSince === null ? '' : ` since ${new Date(d.silentSince).toISOString()}`
  const check =
    bootstrap === null
      ? 'is this machine online?'
      : `check --bootstrap ${bootstrap.join(',')}: is \`flux dht\` running there, and reachable?`
  return `WARNING: no DHT node has answered${since}, so no peer can be found: ${check}`
}

/** The phonebook and Auto-Connect in one line. */
export function meshLine(m: MeshStatus): string {
  if (m.phonebook === null) return m.looking ? 'none yet, looking for the mesh' : 'none'
  const where = m.announced ? ', announced on the mesh' : m.looking ? ', looking for the mesh' : ''
  return `${m.entries} ${m.entries === 1 ? 'entry' : 'entries'}${where}, ${m.autoConnected} auto-connected`
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

/** This node's NAT as HyperDHT sees it, in one line. */
export function natLine(n: NatStatus): string {
  const at = n.publicAddress ?? 'an address not known yet'
  switch (n.kind) {
    case 'open':
      return `nat: none in the way, peers reach ${at} unasked`
    case 'consistent':
      return n.behindNat === false
        ? `nat: none, but firewalled (${at}): peers reach it by holepunching`
        : `nat: consistent (one public port for every peer, ${at}): holepunching works with any peer`
    case 'random':
      return (
        `nat: random (a new public port per peer, ${at}): holepunching works only with peers ` +
        `behind consistent NATs or reachable ones; ${n.relays.length > 0 ? 'others go through a relay' : 'others need a relay (flux up --relay, or a member running --serve-relay)'}`
      )
    default:
      return 'nat: not known yet (too few DHT nodes answered)'
  }
}

/** The NAT, relaying and failing connection attempts, as rows of `flux status`. */
function natRows(n: NatStatus): string[][] {
  const rows = [['nat', natLine(n).replace(/^nat: /, '')]]
  const c = n.connections
  rows.push([
    'connections',
    `${c.direct} direct, ${c.holepunched} holepunched, ${c.relayed} relayed since start`
  ])
  if (n.relays.length > 0) rows.push(['relays', n.relays.join(', ')])
  if (n.relaying !== null) {
    const r = n.relaying
    rows.push([
      'relaying',
      `as ${r.id}: ${plural(r.clients, 'peer')} connected, ${plural(r.pairs, 'pair')} relayed now`
    ])
  }
  for (const f of n.failing) rows.push(['failing', failingText(f)])
  return rows
}

/** A peer we keep failing to connect to, and why. */
export function failingText(f: DialFailure, now = Date.now()): string {
  const via = f.relayed ? ' (through a relay)' : ''
  return `${short(f.peer)}: ${f.reason}${via}, ${plural(f.count, 'attempt')}, last ${ago(f.last, now)} [${f.code}]`
}
