/**
 * Everything `flux` prints goes through here. stdout carries the result (human text, or
 * exactly one JSON document with --json); stderr carries progress, notes and errors, so
 * `$(flux project create x)` captures just the key.
 */
import { FluxError } from '../errors.js'
import type {
  GroupInfo,
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
      process.stdout.write(jsonText(value, 2) + '\n')
      return
    }
    // the formatters clean each field from peers; this pass is the last line of defence
    const text = cleanText(human(value))
    if (text !== '') process.stdout.write(text.endsWith('\n') ? text : text + '\n')
  }

  /** A line for people, beside the result (on stderr, so it never pollutes stdout). */
  note(text: string): void {
    process.stderr.write(`flux: ${cleanText(text)}\n`)
  }

  /** A line on stdout, for the long-running verbs (dht, up). */
  line(text: string): void {
    process.stdout.write(cleanText(text) + '\n')
  }

  /** One JSON line on stdout, for the long-running verbs with --json. */
  event(name: string, data: Record<string, unknown> = {}): void {
    process.stdout.write(jsonText({ event: name, time: Date.now(), ...data }) + '\n')
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
    process.stderr.write(`flux: error ${err.code}: ${cleanText(err.detail)}\n`)
    if (this.json) process.stdout.write(jsonText({ error: err.toJSON() }) + '\n')
  }
}

// ---- small formatting helpers -------------------------------------------------------------

/** The first characters of a key or id: enough to tell them apart and to type them. */
export function short(id: string, n = 8): string {
  return id.slice(0, n)
}

export function who(name: string | null, id: string): string {
  return name ? `${clean(name)} (${short(id)})` : short(id)
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

/** A JSON value as people read it: text as is (its lines kept), anything else as JSON. */
export function showValue(value: JsonValue): string {
  return typeof value === 'string' ? cleanText(value) : jsonText(value)
}

export function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n')
}

// ---- the shapes of api.ts, for people -----------------------------------------------------

export function projectName(p: { name: string | null; key: string }): string {
  return p.name === null ? `(unnamed ${short(p.key)})` : clean(p.name)
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
      ...(p.description ? [['description', oneLine(p.description)]] : []),
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
      ...(p.group === null ? [] : [['replicas', groupLine(p.group)]]),
      ['state', p.stateHash ?? '-']
    ])
  ]
  if (p.group !== null && p.group.replicas.length > 1) {
    lines.push('copies:')
    lines.push(
      indent(
        table(
          p.group.replicas.map((r) => [
            r.peer === null ? 'this node' : short(r.peer, 12),
            `${r.held}/${r.known} blocks`,
            r.current ? 'current' : 'behind'
          ])
        ),
        '  '
      )
    )
  }
  const members = p.memberList.filter((m) => !m.removed)
  if (members.length > 0) {
    lines.push('members:')
    lines.push(
      indent(
        table(
          members.map((m) => [
            m.name === null ? '-' : clean(m.name),
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

/** "2 of 3 live: DEGRADED (asking a volunteer)" or "3 of 3 live: healthy". */
export function groupLine(g: GroupInfo): string {
  const head = `${g.live} of ${g.target} live`
  if (!g.degraded) return `${head}: healthy`
  const asking = g.asked === null ? '' : `, asked ${short(g.asked)} to host it`
  return `${head}: DEGRADED${asking} (volunteers offer space with \`flux host offer\`)`
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
    // every line of a post is indented under its header: a post cannot fake another's header
    out.push(indent(cleanText(p.text), pad + (depth > 0 ? '    ' : '  ')))
    for (const c of children.get(p.id) ?? []) walk(c, depth + 1)
  }
  for (const p of roots) walk(p, 0)
  return out.join('\n')
}

export function taskLine(t: TaskInfo): string {
  const assignee =
    t.assignee === null
      ? ''
      : `  @${t.assigneeName === null ? short(t.assignee) : clean(t.assigneeName)}`
  return `[${t.done ? 'x' : ' '}] ${short(t.id)}  ${clean(t.title)}${assignee}`
}

export function taskList(tasks: TaskInfo[]): string {
  if (tasks.length === 0) return 'no tasks yet'
  return tasks.map(taskLine).join('\n')
}

export function kvLine(r: KvInfo): string {
  return `${clean(r.key)} = ${oneLine(showValue(r.value))}`
}

export function kvList(records: KvInfo[]): string {
  if (records.length === 0) return 'no records yet'
  return records.map(kvLine).join('\n')
}

/**
 * Text from peers (names, titles, claims) made safe for one line of a terminal: control
 * characters (C0, DEL, C1), which could move the cursor, recolour, retitle the window or fake
 * lines, are shown as '?'. Apply refuses them in new ops; this also covers older data and text
 * apply does not judge (record values, names peers claim).
 */
export function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
}

/** Text of several lines (a post) made safe: newlines and tabs kept, other controls '?'. */
export function cleanText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?')
}

/** Text of several lines shown on one (a table cell): newlines and tabs as spaces. */
export function oneLine(text: string): string {
  return clean(text.replace(/[\n\t]/g, ' '))
}

/**
 * JSON for stdout. JSON.stringify escapes C0 controls but leaves C1 (U+0080-U+009F) raw,
 * which some terminals obey: escape them too (still the same JSON value).
 */
export function jsonText(value: unknown, space?: number): string {
  const json = JSON.stringify(value, null, space) as string | undefined
  if (json === undefined) return 'null'
  return json.replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  )
}
