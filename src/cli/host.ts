/** `flux host ...`: hosting projects for offline peers (add, list, remove, check). */
import { arg as argument, command, description, flag, summary } from 'paparam'
import { arg, callNode, intFlag, stringFlag, usageError, verb } from './command.js'
import { ago, plural, short, table } from './output.js'
import { FluxError } from '../errors.js'
import { formatSize, parseSize } from '../util/size.js'
import { MAX_CHECK_BLOCKS } from '../services/project-hosts.js'
import type { HostCheckResult, HostedProjectInfo } from '../api.js'

const add = verb(
  'add',
  [
    summary('Host a project by its key: keep every core of it and serve it to its members'),
    description(
      'Any node can host, member or not. Without the project’s encryption key the node stores\n' +
        'the blocks and cannot read them. Run it again to change the quota.'
    ),
    argument('<key>', 'the project key'),
    flag('--quota <size>', 'most space to use for it, e.g. 500MB, 2GB (default: no bound)')
  ],
  async (inv, out) => {
    const text = stringFlag(inv, 'quota')
    let quota: number | undefined
    if (text !== undefined) {
      try {
        quota = parseSize(text)
      } catch (err) {
        throw usageError(`--quota: ${FluxError.from(err).detail}`)
      }
    }
    const params =
      quota === undefined ? { project: arg(inv, 'key') } : { project: arg(inv, 'key'), quota }
    const hosted = await callNode(inv, 'host.add', params)
    out.result(hosted, (h) => `hosting ${h.key}: ${line(h)}`)
  }
)

const offer = verb(
  'offer',
  [
    summary('Volunteer storage: host projects of your peers when their copies run short'),
    description(
      'A project keeps a target number of live copies (`flux project set P --replicas N`).\n' +
        'When fewer are online, its members ask a volunteer they are connected to (nearest\n' +
        'first) to host it; this node then hosts it within the space it offers. `off` stops\n' +
        'volunteering (what it hosts stays until `flux host remove`).'
    ),
    argument('[off]', '"off" to stop volunteering'),
    flag('--quota <size>', 'space to offer in all, e.g. 2GB')
  ],
  async (inv, out) => {
    const off = inv.args.off
    const text = stringFlag(inv, 'quota')
    if (off !== undefined && off !== 'off')
      throw usageError(`say "off" or give --quota, not "${off}"`)
    if ((off === undefined) === (text === undefined)) {
      throw usageError('give --quota SIZE to volunteer, or "off" to stop')
    }
    let quota: number | null = null
    if (text !== undefined) {
      try {
        quota = parseSize(text)
      } catch (err) {
        throw usageError(`--quota: ${FluxError.from(err).detail}`)
      }
    }
    const result = await callNode(inv, 'host.offer', { quota })
    out.result(result, (r) =>
      r.quota === null
        ? 'no longer volunteering storage'
        : `volunteering ${formatSize(r.quota)} to host peers' projects (${formatSize(r.free)} free)`
    )
  }
)

const list = verb(
  'list',
  [summary('The projects this node hosts: space, quota, cores, how current, last activity')],
  async (inv, out) => {
    out.result(await callNode(inv, 'host.list', {}), hostList)
  }
)

const remove = verb(
  'remove',
  [
    summary('Stop hosting a project and free its space'),
    argument('<project>', 'the project key, or a unique prefix of it')
  ],
  async (inv, out) => {
    const done = await callNode(inv, 'host.remove', { project: arg(inv, 'project') })
    out.result(done, (d) =>
      d.freed
        ? `no longer hosting ${d.key}: its space is freed`
        : `no longer hosting ${d.key} (still a member here: its data stays)`
    )
  }
)

const check = verb(
  'check',
  [
    summary('Check that a connected peer really holds a project’s data'),
    description(
      'Asks the peer for random blocks this node holds too (salted with a fresh nonce, so an\n' +
        'answer cannot be precomputed) and compares them. Exits 1 when the check fails.'
    ),
    argument('<peer>', 'the peer id, or a unique prefix of it (see `flux peers`)'),
    argument('<project>', 'the project key, key prefix or name'),
    flag('--blocks <n>', `how many blocks to ask for (1 to ${MAX_CHECK_BLOCKS}, default 8)`)
  ],
  async (inv, out) => {
    const blocks = intFlag(inv, 'blocks', { min: 1, max: MAX_CHECK_BLOCKS })
    const params = { peer: arg(inv, 'peer'), project: arg(inv, 'project') }
    const result = await callNode(
      inv,
      'host.check',
      blocks === undefined ? params : { ...params, blocks }
    )
    out.result(result, checkLine)
    return result.ok ? 0 : 1
  }
)

export const host = command(
  'host',
  summary('Host projects for offline peers, and check hosts'),
  add,
  list,
  offer,
  remove,
  check
)

function line(h: HostedProjectInfo): string {
  const quota = h.quota === null ? 'no quota' : `quota ${formatSize(h.quota)}`
  const status =
    h.status === 'quota-reached'
      ? 'QUOTA REACHED: it no longer grows here (raise it with `flux host add KEY --quota SIZE`)'
      : h.status
  return `${status}, ${formatSize(h.bytes)} held, ${quota}, ${plural(h.cores, 'core')}`
}

function hostList(list: HostedProjectInfo[]): string {
  if (list.length === 0) return 'no hosted projects (host one with `flux host add KEY`)'
  const rows = [['project', 'status', 'held', 'quota', 'cores', 'blocks', 'peers', 'last activity']]
  for (const h of list) {
    rows.push([
      short(h.key, 12) + (h.member ? ' (member)' : ''),
      h.status,
      formatSize(h.bytes),
      h.quota === null ? '-' : formatSize(h.quota),
      String(h.cores),
      `${h.held}/${h.known}`,
      String(h.peers),
      h.lastActivity === null ? '-' : ago(h.lastActivity)
    ])
  }
  return table(rows)
}

function checkLine(r: HostCheckResult): string {
  const what = `${r.passed}/${r.asked} blocks held and matching`
  const bad = [r.missing > 0 ? `${r.missing} missing` : '', r.wrong > 0 ? `${r.wrong} wrong` : '']
    .filter(Boolean)
    .join(', ')
  return r.ok
    ? `passed: ${short(r.peer)} holds project ${short(r.project)} (${what})`
    : `FAILED: ${short(r.peer)} does not hold project ${short(r.project)} (${what}${bad ? `; ${bad}` : ''})`
}
