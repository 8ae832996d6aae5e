/** `flux connect PEER` and `flux phonebook`: the wider mesh (whitepaper 2.1, 2.4). */
import { arg as argument, description, flag, summary } from 'paparam'
import { arg, callNode, durationFlag, intFlag, verb } from './command.js'
import { ago, short, table } from './output.js'
import fs from 'fs/promises'
import path from 'path'
import { FluxError } from '../errors.js'
import type { ConnectResult, ImportResult, PhonebookInfo } from '../api.js'

export const connect = verb(
  'connect',
  [
    summary('Connect to a peer by its peer id, and share a phonebook with it'),
    description(
      'Dials the peer (no shared project needed). Its toggles apply: with Isolate or Pause on\n' +
        'it refuses (CONNECT_REFUSED, TIMEOUT), with I Accept on it holds the connection until\n' +
        'its owner approves (PEER_HELD). Once connected, when neither side has I Accept, Isolate\n' +
        'or Pause on, both hold one phonebook: the one either holds, or a new one.'
    ),
    argument('<peer>', 'peer id, as `flux status` prints it'),
    flag('--timeout <duration>', 'give up after this long (default: 30s)')
  ],
  async (inv, out) => {
    const timeout = durationFlag(inv, 'timeout')
    const result = await callNode(inv, 'peer.connect', {
      peer: arg(inv, 'peer'),
      ...(timeout !== undefined ? { timeout } : {})
    })
    out.result(result, connected)
  }
)

const exportCmd = verb(
  'export',
  [
    summary('Write a snapshot of the phonebook to FILE (every entry as its node signed it)'),
    argument('<file>', 'the file to write (JSON)'),
    flag('--at <version>', 'the phonebook as it was at this view version')
  ],
  async (inv, out) => {
    const at = intFlag(inv, 'at', { min: 1, max: Number.MAX_SAFE_INTEGER })
    const snapshot = await callNode(inv, 'phonebook.export', at !== undefined ? { at } : {})
    const file = path.resolve(arg(inv, 'file'))
    try {
      await fs.writeFile(file, JSON.stringify(snapshot, null, 2) + '\n', { flag: 'wx' })
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new FluxError(
        'INVALID_INPUT',
        code === 'EEXIST'
          ? `${file} exists already: give another file`
          : `cannot write ${file}: ${code}`
      )
    }
    const result = { file, version: snapshot.version, entries: snapshot.entries.length }
    out.result(result, (r) => `wrote ${r.entries} entries (version ${r.version}) to ${r.file}`)
  }
)

const importCmd = verb(
  'import',
  [
    summary('Check a snapshot (every signature) and use it: join its phonebook through its nodes'),
    argument('<file>', 'a file written by `flux phonebook export`'),
    flag('--timeout <duration>', 'how long to wait for one of its nodes (default: 30s)')
  ],
  async (inv, out) => {
    const file = path.resolve(arg(inv, 'file'))
    let snapshot: unknown
    try {
      snapshot = JSON.parse(await fs.readFile(file, 'utf-8'))
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new FluxError(
        'SNAPSHOT_INVALID',
        code === undefined ? `${file} is not JSON` : `cannot read ${file}: ${code}`
      )
    }
    const timeout = durationFlag(inv, 'timeout')
    const result = await callNode(inv, 'phonebook.import', {
      snapshot,
      ...(timeout !== undefined ? { timeout } : {})
    })
    out.result(result, imported)
  }
)

export const phonebook = verb(
  'phonebook',
  [
    summary('The phonebook this node holds: its entries and view hash; export, import'),
    flag('--at <version>', 'read the phonebook as it was at this view version'),
    exportCmd,
    importCmd
  ],
  async (inv, out) => {
    const at = intFlag(inv, 'at', { min: 1, max: Number.MAX_SAFE_INTEGER })
    const info = await callNode(inv, 'phonebook.show', at !== undefined ? { at } : {})
    out.result(info, book)
  }
)

function imported(r: ImportResult): string {
  const head = `verified ${r.entries} entries of phonebook ${r.key}`
  if (r.carried > 0 || (r.joined && r.dialed === 0))
    return `${head}\ncarried ${r.carried} newer entries into it`
  if (r.joined) return `${head}\njoined it (dialed ${r.dialed} of its nodes)`
  return `${head}\nnot joined yet: none of its ${r.dialed} dialed nodes answered (they are dialed again while the node runs)`
}

function connected(r: ConnectResult): string {
  const lines = [`connected to ${r.peer} (${r.route})`]
  if (r.phonebook.shared) lines.push(`phonebook ${r.phonebook.key ?? '-'} shared`)
  else lines.push(`phonebook not shared: ${r.phonebook.reason ?? 'unknown'}`)
  return lines.join('\n')
}

function book(p: PhonebookInfo): string {
  if (p.key === null) {
    return 'no phonebook yet: `flux connect PEER` with a peer, or turn auto-connect on'
  }
  const head = [
    `phonebook ${p.key}`,
    `version ${p.version}  hash ${p.hash ?? '-'}`,
    `${p.writers} writers, ${p.entries.length} entries, ${p.skipped} skipped ops` +
      `  mesh: ${p.mesh.server ? 'announced' : 'not announced'}${p.mesh.client ? ', looking' : ''}`
  ]
  const rows = p.entries.map((e) => [
    short(e.peer, 12) + (e.self ? ' (this node)' : ''),
    e.removed ? 'removed' : e.connected ? 'connected' : '-',
    `seen ${ago(e.at)}`,
    `${e.projects} projects${e.shared > 0 ? ` (${e.shared} shared)` : ''}`
  ])
  return head.join('\n') + (rows.length > 0 ? '\n' + table(rows) : '')
}
