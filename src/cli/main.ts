/**
 * The `flux` command line: builds the command tree, parses, runs the one queued verb, and
 * turns every failure into one line on stderr and an exit code (2: the command line is
 * wrong, 1: anything else). Nothing below src/cli prints; everything here does.
 */
import fs from 'fs'
import { bail, command, flag, footer, header, rest, summary, type Command } from 'paparam'
import { FluxError } from '../errors.js'
import { flagPart, literalArgv, queue, takeJob } from './command.js'
import { Output } from './output.js'
import { dht } from './dht.js'
import { up } from './up.js'
import { project } from './project.js'
import { feed, post } from './post.js'
import { task } from './task.js'
import { kv } from './kv.js'
import { name } from './member.js'
import { peers } from './peers.js'
import { status, stop } from './status.js'
import { backup } from './backup.js'
import { init, recover, whoami } from './profile.js'
import { device } from './device.js'
import { sign, verify } from './sign.js'
import { connect, phonebook } from './connect.js'
import { approve, block, blocked, dismiss, pending, toggle, unblock } from './admission.js'
import { host } from './host.js'
import { achievements, credits } from './credits.js'

const FOOTER = `Every command takes --home DIR (default: $FLUX_HOME, else ~/.flux); flags go after the
command. Commands that print data take --json: exactly one JSON document on stdout.

Errors print one line on stderr: "flux: error CODE: message". With --json the error is
also printed on stdout as {"error":{"code":"CODE","message":"..."}}.
Exit codes: 0 done, 1 failed, 2 the command line is wrong (see --help).

Environment: FLUX_HOME, FLUX_BOOTSTRAP (HOST:PORT,...), FLUX_HOST, FLUX_DEBUG=1 (stack traces),
FLUX_PASSPHRASE (unlocks or seals the profile keys; else asked in a terminal), FLUX_KDF
(interactive, moderate, sensitive: key derivation cost, default moderate), FLUX_PHRASE
(the recovery phrase for \`flux recover\`).`

/** What paparam reports when it refuses a command line. */
interface BailInfo {
  reason: string
  err?: unknown
  flag?: unknown
  arg?: unknown
  command?: unknown
}

export async function main(argv: string[]): Promise<number> {
  const json = flagPart(argv).includes('--json')
  const out = new Output(json)
  // an object, not a `let`: it is set from inside parse(), which flow analysis cannot see
  const state: { refused: BailInfo | null } = { refused: null }
  const root = buildCli(
    (info) => {
      state.refused = info
    },
    () => state.refused !== null
  )
  let leaf: Command | null
  try {
    leaf = root.parse(literalArgv(argv))
  } catch (err) {
    return fail(out, err)
  }
  if (state.refused !== null) return fail(out, usageOf(state.refused))
  if (leaf === null) return 0 // --help was printed
  if (leaf === root && leaf.flags.version === true) {
    out.result({ version: version() }, (v) => v.version)
    return 0
  }
  const job = takeJob()
  if (job === null) {
    // a bare group (`flux`, `flux project`): say what it takes
    process.stderr.write(leaf.help())
    return 2
  }
  let code: void | number
  try {
    code = await job()
  } catch (err) {
    return fail(out, err)
  }
  if (state.refused !== null) return fail(out, usageOf(state.refused))
  return typeof code === 'number' ? code : 0
}

/** Run `flux` as a process: main, then exit once stdout and stderr are flushed. */
export async function run(): Promise<void> {
  // `flux ... | head` closes stdout early: that is not an error worth a stack trace
  process.stdout.on('error', () => {})
  // a bug below us must still end in one line and a non-zero exit (FLUX_DEBUG=1: the stack)
  const crash = (err: unknown): void => {
    fail(new Output(flagPart(process.argv).includes('--json')), err)
    process.exit(1)
  }
  process.on('uncaughtException', crash)
  process.on('unhandledRejection', crash)
  const code = await main(process.argv.slice(2))
  await flush(process.stdout)
  await flush(process.stderr)
  // the node's modules may keep handles open after a clean stop: leave anyway
  process.exit(code)
}

function buildCli(onBail: (info: BailInfo) => void, bailed: () => boolean): Command {
  const help = command(
    'help',
    summary('Show help for a command, e.g. `flux help project join`'),
    rest('[command...]', 'the command'),
    (cmd: Command) => {
      const path = cmd.rest ?? []
      queue(async () => {
        // an unknown command here bails: main reports it, and no half help is printed
        const text = root.help(...path)
        if (!bailed()) process.stdout.write(text)
      })
    }
  )
  const root: Command = command(
    'flux',
    header('Flux: build projects together, peer to peer'),
    summary('Run a node, then use the other commands to work in its projects.'),
    flag('--version', 'print the version'),
    init,
    whoami,
    up,
    dht,
    device,
    recover,
    sign,
    verify,
    project,
    post,
    feed,
    task,
    kv,
    name,
    peers,
    connect,
    phonebook,
    toggle,
    pending,
    approve,
    dismiss,
    block,
    unblock,
    blocked,
    host,
    credits,
    achievements,
    status,
    stop,
    backup,
    help,
    footer(FOOTER),
    bail((info) => onBail(info))
  )
  return root
}

function fail(out: Output, err: unknown): number {
  const e = FluxError.from(err)
  out.error(e)
  if (process.env.FLUX_DEBUG && err instanceof Error && err.stack) {
    process.stderr.write(err.stack + '\n')
  }
  return e.code === 'USAGE' ? 2 : 1
}

/** paparam's refusal as a USAGE error that names the command to ask for help. */
function usageOf(info: BailInfo): FluxError {
  const path = commandPath(info.command)
  const hint = ` (see \`${path} --help\`)`
  const flagName = nameOf(info.flag)
  const value = valueOf(info.arg)
  switch (info.reason) {
    case 'UNKNOWN_FLAG': {
      // "-1 for cedar", "-5": text that starts with '-' is given after `--`
      const text = isObject(info.flag) && info.flag.long !== true
      const after = text ? `: text that starts with "-" goes after \`--\`` : ''
      return new FluxError('USAGE', `unknown flag ${flagName}${after}${hint}`)
    }
    case 'INVALID_FLAG':
      return new FluxError('USAGE', `flag ${flagName} needs a value${hint}`)
    case 'MISSING_ARG':
      return new FluxError('USAGE', `missing argument ${value}${hint}`)
    case 'UNKNOWN_ARG': {
      // paparam reports everything left on the line: the culprit is its first word
      const first = value.split(' ')[0] ?? ''
      if (first === '') return new FluxError('USAGE', `an argument is empty${hint}`)
      return hasCommands(info.command)
        ? new FluxError('USAGE', `unknown command "${first}"${hint}`)
        : new FluxError('USAGE', `unexpected argument "${first}"${hint}`)
    }
    default:
      return new FluxError('USAGE', `${info.reason}${hint}`)
  }
}

function nameOf(flag: unknown): string {
  if (!isObject(flag) || typeof flag.name !== 'string') return '?'
  return (flag.long === true ? '--' : '-') + flag.name
}

function valueOf(arg: unknown): string {
  return isObject(arg) && typeof arg.value === 'string' ? arg.value : '?'
}

function commandPath(cmd: unknown): string {
  const names: string[] = []
  for (let c = cmd; isObject(c) && typeof c.name === 'string'; c = c.parent) names.unshift(c.name)
  return names.length > 0 ? names.join(' ') : 'flux'
}

function hasCommands(cmd: unknown): boolean {
  return isObject(cmd) && cmd._definedCommands instanceof Map && cmd._definedCommands.size > 0
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null
}

function version(): string {
  try {
    const pkg: unknown = JSON.parse(
      fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf-8')
    )
    return isObject(pkg) && typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()))
}
