/**
 * What every `flux` verb shares: the common flags, reading flags and arguments with clear
 * usage errors, the home folder, and the call to the running node.
 *
 * paparam runs a command's runner inside parse() and turns a thrown error into a "bail"
 * whose reason is the stack trace. So runners here do not do the work themselves: they
 * queue it, and main() runs the queued job with its own error handling.
 */
import fs from 'fs'
import os from 'os'
import path from 'path'
import { command, flag, type Command } from 'paparam'
import { FluxError } from '../errors.js'
import { ControlClient } from '../control/client.js'
import { parseDuration } from '../util/duration.js'
import { Output } from './output.js'
import type { Progress } from '../api.js'
import type { MethodName, ParamsOf, ResultOf } from '../control/methods.js'

/**
 * A token after `--` that starts with '-' is text, not a flag (`flux post P -- "-1 for
 * cedar"`, `flux kv set P t -- -5`). paparam has no such rule, so `literalArgv` marks those
 * tokens (and drops the `--`) before it parses, and `verb` unmarks the arguments it sees.
 * Controls cannot be typed into text Flux keeps, so the mark cannot clash with real input.
 */
const LITERAL = '\u0000flux-literal:'

export function literalArgv(argv: string[]): string[] {
  const end = argv.indexOf('--')
  if (end === -1) return argv
  const after = argv.slice(end + 1).map((a) => (a.startsWith('-') ? LITERAL + a : a))
  return [...argv.slice(0, end), ...after]
}

/** The flags part of a command line: everything before `--`. */
export function flagPart(argv: string[]): string[] {
  const end = argv.indexOf('--')
  return end === -1 ? argv : argv.slice(0, end)
}

function unliteral(v: string | undefined): string | undefined {
  return v !== undefined && v.startsWith(LITERAL) ? v.slice(LITERAL.length) : v
}

/** What a runner sees of a parsed command line. */
export interface Invocation {
  args: Record<string, string | undefined>
  flags: Record<string, string | boolean | undefined>
}

/** A queued verb; a number it returns is the exit code (`flux verify`: 1 for "invalid"). */
type Job = () => Promise<void | number>
type Part = Parameters<typeof command>[1]

let queued: Job | null = null

/** Queue the work of the command paparam just matched; main() runs it. */
export function queue(job: Job): void {
  queued = job
}

/** Take the job the last parse() queued, if any. */
export function takeJob(): Job | null {
  const job = queued
  queued = null
  return job
}

/**
 * A leaf command: its parts (summary, args, flags...), the common --home and --json flags,
 * and the work to run once the command line parsed.
 */
export function verb(
  name: string,
  parts: Part[],
  run: (inv: Invocation, out: Output) => Promise<void | number>
): Command {
  return command(
    name,
    ...parts,
    flag('--home <dir>', 'node home folder (default: $FLUX_HOME, else ~/.flux)'),
    flag('--json', 'print one JSON document on stdout'),
    (cmd: Command) => {
      const args = Object.fromEntries(
        Object.entries(cmd.args).map(([k, v]) => [k, unliteral(v as string | undefined)])
      )
      const inv: Invocation = { args, flags: { ...cmd.flags } }
      queue(() => run(inv, new Output(inv.flags.json === true)))
    }
  )
}

export function usageError(message: string): FluxError {
  return new FluxError('USAGE', message)
}

export function homeOf(inv: Invocation): string {
  const flagged = stringFlag(inv, 'home')
  const home = flagged ?? process.env.FLUX_HOME
  if (home !== undefined && home.trim() !== '') {
    return folderOrMissing(path.resolve(home), flagged !== undefined ? '--home' : 'FLUX_HOME')
  }
  return folderOrMissing(path.join(os.homedir(), '.flux'), 'the home folder')
}

/**
 * `home` unless it, or a folder above it, is a file: a home must be a folder (made when
 * missing), and a file there would fail later with an error about a socket or a lock.
 */
function folderOrMissing(home: string, named: string): string {
  for (let at = home; ; at = path.dirname(at)) {
    let stat: fs.Stats | undefined
    try {
      stat = fs.statSync(at, { throwIfNoEntry: false })
    } catch (err) {
      // ENOTDIR: a file above it, found further up; otherwise (permissions) whatever touches
      // the home says so
      if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') return home
    }
    if (stat?.isDirectory() === true) return home
    if (stat !== undefined) {
      throw new FluxError(
        'HOME_NOT_FOLDER',
        at === home
          ? `${named} ${home} is a file, not a folder: give a folder (it is made if missing)`
          : `${named} ${home} cannot be a folder: ${at} is a file`
      )
    }
    if (path.dirname(at) === at) return home
  }
}

export function stringFlag(inv: Invocation, name: string): string | undefined {
  const v = inv.flags[name]
  return typeof v === 'string' ? v : undefined
}

export function boolFlag(inv: Invocation, name: string): boolean {
  return inv.flags[name] === true
}

/** A positional argument paparam has already checked is present (it bails otherwise). */
export function arg(inv: Invocation, name: string): string {
  const v = inv.args[name]
  if (v === undefined) throw usageError(`missing argument <${name}>`)
  return v
}

export function durationFlag(inv: Invocation, name: string): number | undefined {
  const v = stringFlag(inv, name)
  if (v === undefined) return undefined
  try {
    return parseDuration(v)
  } catch (err) {
    // a bad flag value is a mistake in the command line, like a missing argument
    throw usageError(`--${name}: ${FluxError.from(err).detail}`)
  }
}

export function intFlag(
  inv: Invocation,
  name: string,
  range: { min: number; max: number }
): number | undefined {
  const v = stringFlag(inv, name)
  if (v === undefined) return undefined
  const n = Number(v)
  if (!/^\d+$/.test(v.trim()) || n < range.min || n > range.max) {
    throw usageError(`--${name} must be a whole number from ${range.min} to ${range.max}`)
  }
  return n
}

export function choice<T extends string>(value: string, what: string, choices: readonly T[]): T {
  const found = choices.find((c) => c === value)
  if (found === undefined)
    throw usageError(`${what} must be ${choices.join(' or ')}, not "${value}"`)
  return found
}

/** One request to the node running for this invocation's home (NO_NODE when none runs). */
export async function callNode<M extends MethodName>(
  inv: Invocation,
  method: M,
  params: ParamsOf<M>,
  onProgress?: (p: Progress) => void
): Promise<ResultOf<M>> {
  const client = await ControlClient.connect(homeOf(inv))
  try {
    return await client.call(method, params, onProgress)
  } finally {
    client.close()
  }
}
