/** How `flux` shows a profile, its devices and a recovery. */
import type { DeviceInfo, RecoveryReport, WhoAmI } from '../api.js'
import { indent, plural, short, table } from './output.js'

function when(ts: number): string {
  return new Date(ts).toISOString()
}

function deviceState(d: DeviceInfo, now: number): string {
  if (d.revoked) return `revoked ${when(d.revoked.at)}`
  if (d.delegated && d.expiresAt !== null) {
    return d.expiresAt > now
      ? `delegate until ${when(d.expiresAt)}`
      : `delegation ended ${when(d.expiresAt)}`
  }
  return 'active'
}

export function deviceList(devices: DeviceInfo[]): string {
  if (devices.length === 0) return 'no devices listed yet (the profile is still syncing)'
  const now = Date.now()
  return table([
    ['DEVICE', 'NAME', 'ADDED', 'STATE', ''],
    ...devices.map((d) => [
      d.id,
      d.name || '-',
      when(d.addedAt),
      deviceState(d, now),
      d.you ? 'this device' : ''
    ])
  ])
}

export function whoami(w: WhoAmI): string {
  const device = w.delegated
    ? `${w.device} (delegate${w.expiresAt === null ? '' : ` until ${when(w.expiresAt)}`})`
    : w.device
  const lines = [
    table([
      ['profile', w.profile],
      ['name', w.name],
      ['device', device],
      ['projects', String(w.projects)]
    ])
  ]
  if (w.devices.length > 0) {
    lines.push(`${plural(w.devices.length, 'device')}:`)
    lines.push(indent(deviceList(w.devices), '  '))
  }
  return lines.join('\n')
}

/** The recovery phrase, numbered in columns so it is easy to copy by hand. */
export function phraseGrid(phrase: string): string {
  const words = phrase.split(' ')
  const rows = Math.ceil(words.length / 4)
  const grid: string[][] = []
  for (let r = 0; r < rows; r++) {
    const row: string[] = []
    for (let c = 0; c < 4; c++) {
      const i = c * rows + r
      const word = words[i]
      if (word !== undefined) row.push(`${String(i + 1).padStart(2)}. ${word}`)
    }
    grid.push(row)
  }
  return indent(table(grid), '  ')
}

export function recovery(r: RecoveryReport): string {
  const lines = [`recovered profile ${r.whoami.name} (${r.whoami.profile})`]
  lines.push(`this device: ${r.whoami.device}`)
  if (r.fromCopy) {
    const c = r.fromCopy
    lines.push(`read from the copy at ${c.dir}: ${c.cores} cores, ${c.blocks} blocks`)
  }
  lines.push(`copies heard (${r.answered.length}):`)
  lines.push(
    indent(
      table([
        ['PEER', 'COPY', 'LENGTH', ''],
        ...r.answered.map((a) => [
          a.peer,
          short(a.base, 12),
          String(a.length),
          [a.valid ? 'validly signed' : 'invalid signature', a.chosen ? 'chosen' : '']
            .filter(Boolean)
            .join(', ')
        ])
      ]),
      '  '
    )
  )
  if (r.projects.length === 0) lines.push('projects restored: none')
  else {
    lines.push(`projects restored (${r.projects.length}):`)
    lines.push(
      indent(
        table([
          ['KEY', 'NAME', 'POSTS', ''],
          ...r.projects.map((p) => [
            p.key,
            p.name || '-',
            String(p.posts),
            p.writable ? 'writable' : 'waiting for a member to add this device'
          ])
        ]),
        '  '
      )
    )
  }
  if (r.fromCopy) {
    lines.push(
      "the copy's device is still a device of the profile: if it is lost for good, revoke it\n" +
        '(`flux device list`, then `flux device revoke ID`); the copy itself is never written to'
    )
  }
  return lines.join('\n')
}
