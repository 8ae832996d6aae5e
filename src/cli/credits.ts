/**
 * `flux credits [MEMBER] [--project P]`, `flux credits explain MEMBER --project P`,
 * `flux achievements [MEMBER] [--project P]`: credits and achievements any peer can recompute.
 */
import { arg as argument, description, flag, summary } from 'paparam'
import { callNode, stringFlag, usageError, verb } from './command.js'
import { ago, clean, short, table } from './output.js'
import type { AchievementInfo, CreditExplanation, ProjectCredits } from '../api.js'

export const credits = verb(
  'credits',
  [
    summary('Credits of the members of your projects, after decay, with one hash to compare'),
    description(
      'Credits rest on evidence in the project: contributions (your accepted posts, tasks,\n' +
        'done tasks, records) and attestations by other members (seen online in an epoch,\n' +
        'a passed proof of hosting, help to join). Every peer with the same view computes the\n' +
        'same totals: compare the hash. `flux credits explain MEMBER --project P` lists the\n' +
        'evidence behind a member’s totals.'
    ),
    argument('[member]', 'a member (id, id prefix, name or "me"), or "explain"'),
    argument('[who]', 'with "explain": the member'),
    flag('--project <project>', 'one project (key, key prefix or name); default: all')
  ],
  async (inv, out) => {
    const project = stringFlag(inv, 'project')
    const first = inv.args.member
    if (first === 'explain') {
      const member = inv.args.who
      if (member === undefined) throw usageError('say whose credits to explain')
      if (project === undefined) throw usageError('explain needs --project P')
      const r = await callNode(inv, 'credits.explain', { project, member })
      out.result(r, explanation)
      return
    }
    if (inv.args.who !== undefined) throw usageError(`unexpected "${inv.args.who}"`)
    const reports = await callNode(inv, 'credits.show', project === undefined ? {} : { project })
    const wanted = first?.toLowerCase()
    const filtered =
      wanted === undefined
        ? reports
        : reports.map((r) => ({
            ...r,
            members: r.members.filter(
              (m) => m.profile.startsWith(first as string) || m.name?.toLowerCase() === wanted
            )
          }))
    out.result(filtered, creditTables)
  }
)

export const achievements = verb(
  'achievements',
  [
    summary('Achievements unlocked in your projects, each with the op that unlocked it'),
    argument('[member]', 'a member (id, id prefix, name or "me")'),
    flag('--project <project>', 'one project (key, key prefix or name); default: all')
  ],
  async (inv, out) => {
    const project = stringFlag(inv, 'project')
    const params: { project?: string; member?: string } = {}
    if (project !== undefined) params.project = project
    if (inv.args.member !== undefined) {
      if (project === undefined)
        throw usageError('a member is named within a project: add --project P')
      params.member = inv.args.member
    }
    out.result(await callNode(inv, 'achievements.list', params), achievementList)
  }
)

function creditTables(reports: ProjectCredits[]): string {
  if (reports.length === 0) return 'no projects this node can read'
  const parts: string[] = []
  for (const r of reports) {
    const decay = r.decay === 0 ? 'no decay' : `decay ${r.decay}% per idle epoch`
    parts.push(
      `${clean(r.name ?? short(r.key))}  (epoch ${r.epoch}, ${decay}, hash ${short(r.hash, 16)})`
    )
    if (r.members.length === 0) {
      parts.push('  no credits yet')
      continue
    }
    const rows = [['member', 'total', 'contrib', 'uptime', 'hosting', 'support', 'achievements']]
    for (const m of r.members) {
      rows.push([
        `${clean(m.name ?? '-')} (${short(m.profile)})`,
        String(m.total),
        String(m.contributions),
        String(m.uptime),
        String(m.hosting),
        String(m.support),
        String(m.achievements)
      ])
    }
    parts.push(
      table(rows)
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n')
    )
  }
  return parts.join('\n')
}

function explanation(e: CreditExplanation): string {
  const t = e.totals
  const lines = [
    `${clean(e.name ?? '-')} (${short(e.profile)}): ${t.total} credits = ${t.contributions} contributions + ${t.uptime} uptime + ${t.hosting} hosting + ${t.support} support`
  ]
  if (e.evidence.length === 0)
    lines.push('no attestations (contributions are the member’s own accepted ops)')
  else {
    const rows = [['kind', 'epoch', 'by', 'op', 'counted']]
    for (const x of e.evidence) {
      rows.push([
        x.kind,
        String(x.epoch),
        `${clean(x.signerName ?? '-')} (${short(x.signer)})`,
        short(x.op, 12),
        x.counted ? 'yes' : 'no (epoch already attested)'
      ])
    }
    lines.push('attestations:', table(rows))
  }
  if (e.achievements.length > 0) lines.push('achievements:', achievementList(e.achievements))
  return lines.join('\n')
}

function achievementList(list: AchievementInfo[]): string {
  if (list.length === 0) return 'no achievements yet'
  return table(
    list.map((a) => [
      a.title,
      `${clean(a.name ?? '-')} (${short(a.profile)})`,
      `at ${a.value}`,
      `op ${short(a.op, 12)}`,
      ago(a.ts)
    ])
  )
}
