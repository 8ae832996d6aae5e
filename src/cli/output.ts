/**
 * Everything `flux` prints goes through here. stdout carries the result (human text, or
 * exactly one JSON document with --json); stderr carries progress, notes and errors, so
 * `$(flux project create x)` captures just the key.
 */
import { FluxError } from '../errors.js'
import type {
  InviteInfo,
  KvInfo,
  PostInfo,
  ProjectDetail,
  ProjectSummary,
  Progress,
  TaskInfo
} from '../api.js'
import type { JsonValue } from '../autobase/shapes.js'

export class Output {
  private lastProgress = 0
  private lastApplied = -1
  private settled = false

  constructor(readonly json: boolean) {}

  /** The one result of a verb: its JSON document, or `human(value)` as text. */
  result<T>(value: T, human: (v: T) => string): void {
    if (this.json) {
      process.stdout.write(JSON.stringify(value, null, 2) + '\n')
      return
    }
    const text = human(value)
    if (text !== '') process.stdout.write(text.endsWith('\n') ? text : text + '\n')
  }

  /** A line for people, beside the result (on stderr, so it never pollutes stdout). */
  note(text: string): void {
    process.stderr.write(`flux: ${text}\n`)
  }

  /** A line on stdout, for the long-running verbs (dht, up). */
  line(text: string): void {
    process.stdout.write(text + '\n')
  }

  /** One JSON line on stdout, for the long-running verbs with --json. */
  event(name: string, data: Record<string, unknown> = {}): void {
    process.stdout.write(JSON.stringify({ event: name, time: Date.now(), ...data }) + '\n')
  }

  /** Progress of long work, on stderr. Syncing counts are shown at most twice a second. */
  progress(p: Progress): void {
    if (p.phase === 'writable' || p.phase === 'done') this.settled = true
    if (p.phase === 'syncing' && p.applied !== undefined) {
      // counts that arrive after "writable" are stale news: the join summary follows
      const now = Date.now()
      if (this.settled) return
      if (p.applied === this.lastApplied || now - this.lastProgress < 500) return
      this.lastProgress = now
      this.lastApplied = p.applied
      this.note(`syncing: ${p.applied} ops applied`)
      return
    }
    // "profile: 2/9 blocks" says its phase already; "pairing: asking..." needs it said
    this.note(p.message.includes(p.phase) ? p.message : `${p.phase}: ${p.message}`)
  }

  /** An error: one line on stderr; with --json also {"error":{code,message}} on stdout. */
  error(err: FluxError): void {
    process.stderr.write(`flux: error ${err.code}: ${err.detail}\n`)
    if (this.json) process.stdout.write(JSON.stringify({ error: err.toJSON() }) + '\n')
  }
}

// ---- small formatting helpers -------------------------------------------------------------

/** The first characters of a key or id: enough to tell them apart and to type them. */
export function short(id: string, n = 8): string {
  return id.slice(0, n)
}

export function who(name: string | null, id: string): string {
  return name ? `${name} (${short(id)})` : short(id)
}

export function ago(ts: number, now = Date.now()): string {
  const s = Math.round((now - ts) / 1000)
  if (s < 5) return 'just now'
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m ago`
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`
  return new Date(ts).toISOString().slice(0, 10)
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** Columns padded to their widest cell; trailing spaces trimmed. */
export function table(rows: string[][]): string {
  const widths: number[] = []
  for (const row of rows)
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd()
    )
    .join('\n')
}

/** A JSON value as people read it: text as is, anything else as JSON. */
export function showValue(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

export function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n')
}

// ---- the shapes of api.ts, for people -----------------------------------------------------

export function projectName(p: { name: string | null; key: string }): string {
  return p.name ?? `(unnamed ${short(p.key)})`
}

export function projectList(list: ProjectSummary[]): string {
  if (list.length === 0) {
    return 'no projects yet: `flux project create NAME`, or `flux project join CODE`'
  }
  const rows = [['KEY', 'NAME', 'ROLE', 'POSTS', 'TASKS', 'OPS', 'PEERS', '']]
  for (const p of list) {
    const flags = [
      p.error ?? '',
      p.archived ? 'archived' : '',
      !p.readable ? 'key only' : '',
      p.behind > 0 ? `syncing, ${p.behind} behind` : ''
    ]
    rows.push([
      short(p.key),
      projectName(p),
      p.role ?? (p.writable ? 'writer' : 'reader'),
      String(p.posts),
      String(p.tasks),
      String(p.applied),
      String(p.peers),
      flags.filter(Boolean).join(', ')
    ])
  }
  return table(rows)
}

export function projectDetail(p: ProjectDetail): string {
  const state = [p.public ? 'public' : 'private', p.archived ? 'archived' : 'active']
  if (!p.readable) state.push('held by key only: unreadable')
  const lines = [
    `${projectName(p)}  (${state.join(', ')})`,
    table([
      ['key', p.key],
      ...(p.description ? [['description', p.description]] : []),
      ['you', `${p.you} (${p.role ?? 'not a member'}${p.writable ? ', writable' : ''})`],
      ['created', p.createdAt === null ? '-' : new Date(p.createdAt).toISOString()],
      [
        'content',
        `${plural(p.posts, 'post')}, ${plural(p.tasks, 'task')}, ${plural(p.members, 'member')}`
      ],
      ['ops', `${p.applied} applied, ${p.skipped} skipped (view length ${p.viewLength})`],
      [
        'signed',
        `${p.signedLength} of ${p.viewLength} view blocks` +
          (p.signersChanging ? ' (signers changing: waiting for the old ones to sign it)' : '')
      ],
      ['peers', `${p.peers}${p.behind > 0 ? `, syncing: ${p.behind} blocks behind` : ''}`],
      ['state', p.stateHash ?? '-']
    ])
  ]
  const members = p.memberList.filter((m) => !m.removed)
  if (members.length > 0) {
    lines.push('members:')
    lines.push(
      indent(
        table(
          members.map((m) => [
            m.name ?? '-',
            m.id,
            m.role,
            [m.id === p.creator ? 'creator' : '', m.signs ? 'signs' : '', m.you ? 'you' : '']
              .filter(Boolean)
              .join(', ')
          ])
        ),
        '  '
      )
    )
  }
  const open = p.invites.filter((i) => i.open)
  if (open.length > 0) lines.push('open invites:', indent(inviteList(open), '  '))
  return lines.join('\n')
}

/** Invites recorded in a project: id prefix, role, uses, expiry, state. */
export function inviteList(invites: InviteInfo[]): string {
  if (invites.length === 0) return 'no invites'
  return table(
    invites.map((i) => [
      short(i.id),
      i.role,
      `${i.used}/${i.uses} used`,
      `expires ${new Date(i.expires).toISOString()}`,
      i.revoked ? 'revoked' : i.open ? 'open' : 'closed',
      `by ${short(i.by)}`
    ])
  )
}

/** The feed, replies indented under their parent; a reply whose parent is not shown says so. */
export function feed(posts: PostInfo[]): string {
  if (posts.length === 0) return 'no posts yet'
  const shown = new Set(posts.map((p) => p.id))
  const children = new Map<string, PostInfo[]>()
  const roots: PostInfo[] = []
  for (const p of posts) {
    if (p.replyTo !== null && shown.has(p.replyTo)) {
      const list = children.get(p.replyTo) ?? []
      list.push(p)
      children.set(p.replyTo, list)
    } else roots.push(p)
  }
  const now = Date.now()
  const out: string[] = []
  const walk = (p: PostInfo, depth: number): void => {
    const pad = '  '.repeat(depth)
    const orphan =
      p.replyTo !== null && !shown.has(p.replyTo) ? ` (reply to ${short(p.replyTo)})` : ''
    const mark = depth > 0 ? '↳ ' : ''
    out.push(
      `${pad}${mark}${short(p.id)}  ${who(p.authorName, p.author)}  ${ago(p.ts, now)}${orphan}`
    )
    out.push(indent(p.text, pad + (depth > 0 ? '    ' : '  ')))
    for (const c of children.get(p.id) ?? []) walk(c, depth + 1)
  }
  for (const p of roots) walk(p, 0)
  return out.join('\n')
}

export function taskLine(t: TaskInfo): string {
  const assignee = t.assignee === null ? '' : `  @${t.assigneeName ?? short(t.assignee)}`
  return `[${t.done ? 'x' : ' '}] ${short(t.id)}  ${t.title}${assignee}`
}

export function taskList(tasks: TaskInfo[]): string {
  if (tasks.length === 0) return 'no tasks yet'
  return tasks.map(taskLine).join('\n')
}

export function kvLine(r: KvInfo): string {
  return `${r.key} = ${showValue(r.value)}`
}

export function kvList(records: KvInfo[]): string {
  if (records.length === 0) return 'no records yet'
  return records.map(kvLine).join('\n')
}

/**
 * Text from peers (names, claims) made safe for a terminal: control characters (C0, DEL, C1),
 * which could move the cursor, recolour or fake lines, are shown as '?'.
 */
export function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
}
