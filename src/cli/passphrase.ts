/**
 * Secrets a person types: the passphrase that seals the device keys, and the recovery phrase.
 * From the environment (FLUX_PASSPHRASE, FLUX_PHRASE) for scripts and tests, else asked in the
 * terminal without echo. Nothing here prints or logs what it reads.
 */
import { FluxError } from '../errors.js'
import { usageError } from './command.js'
import type { KdfParams } from '../identity/keyfile.js'

export const KDF_CHOICES = ['interactive', 'moderate', 'sensitive'] as const
export type KdfChoice = (typeof KDF_CHOICES)[number]

/** How many times a new passphrase may be mistyped (the two entries differ) before we give up. */
const NEW_ATTEMPTS = 3
/** A recovery phrase is 24 words: anything longer on stdin is not one. */
const MAX_PHRASE_INPUT = 4096

/** FLUX_KDF: the key derivation cost of key files written from now on (default moderate). */
export function kdfChoice(): KdfChoice {
  const text = (process.env.FLUX_KDF ?? '').trim()
  if (text === '') return 'moderate'
  const found = KDF_CHOICES.find((c) => c === text)
  if (found === undefined) {
    throw usageError(`FLUX_KDF must be ${KDF_CHOICES.join(', ')}, not "${text}"`)
  }
  return found
}

/** The Argon2id limits of a choice (loads sodium: only the verbs that write key files call it). */
export async function kdfParams(choice: KdfChoice): Promise<KdfParams> {
  const { KDF_INTERACTIVE, KDF_MODERATE, KDF_SENSITIVE } = await import('../identity/keyfile.js')
  if (choice === 'interactive') return KDF_INTERACTIVE
  return choice === 'moderate' ? KDF_MODERATE : KDF_SENSITIVE
}

/** The passphrase of an existing key file: FLUX_PASSPHRASE, else asked once. */
export async function existingPassphrase(prompt: string): Promise<string> {
  const env = fromEnv()
  if (env !== null) return env
  requireTerminal()
  const text = await askHidden(prompt)
  if (text === '') throw new FluxError('PASSPHRASE_REQUIRED', 'no passphrase given')
  return text
}

/** A passphrase for a new key file: FLUX_PASSPHRASE, else asked twice (both must match). */
export async function newPassphrase(): Promise<string> {
  const env = fromEnv()
  if (env !== null) return env
  requireTerminal()
  for (let attempt = 1; ; attempt++) {
    const first = await askHidden('New passphrase (protects this device’s keys): ')
    if (first === '') throw new FluxError('PASSPHRASE_REQUIRED', 'no passphrase given')
    const second = await askHidden('Repeat the passphrase: ')
    if (first === second) return first
    if (attempt >= NEW_ATTEMPTS) {
      throw new FluxError('PASSPHRASE_REQUIRED', 'the two passphrases did not match')
    }
    process.stderr.write('flux: the two passphrases differ, try again\n')
  }
}

/** The recovery phrase: FLUX_PHRASE, else asked without echo, else the first line on stdin. */
export async function recoveryPhrase(): Promise<string> {
  const env = process.env.FLUX_PHRASE
  if (env !== undefined && env.trim() !== '') return env
  const text = process.stdin.isTTY
    ? await askHidden('Recovery phrase (24 words, not shown): ')
    : await firstLine()
  if (text.trim() === '') {
    throw new FluxError(
      'PHRASE_INVALID',
      'no recovery phrase given: set FLUX_PHRASE, pipe it on stdin, or run in a terminal'
    )
  }
  return text
}

function fromEnv(): string | null {
  const v = process.env.FLUX_PASSPHRASE
  return v !== undefined && v !== '' ? v : null
}

function requireTerminal(): void {
  if (process.stdin.isTTY !== true || typeof process.stdin.setRawMode !== 'function') {
    throw new FluxError('PASSPHRASE_REQUIRED', 'set FLUX_PASSPHRASE or run in a terminal')
  }
}

/**
 * Read one line from the terminal in raw mode, echoing nothing. Ctrl-C leaves at once (exit
 * 130, like an interrupted command); Ctrl-D on an empty line gives ''.
 */
function askHidden(prompt: string): Promise<string> {
  const stdin = process.stdin
  process.stderr.write(prompt)
  return new Promise((resolve) => {
    let text = ''
    const finish = (): void => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
    }
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          finish()
          resolve(text)
          return
        }
        if (ch === '\u0003') {
          finish()
          process.exit(130)
        }
        if (ch === '\u0004') {
          if (text === '') {
            finish()
            resolve('')
            return
          }
          continue
        }
        if (ch === '\u007f' || ch === '\b') {
          text = [...text].slice(0, -1).join('')
          continue
        }
        if (ch === '\u0015') {
          text = '' // Ctrl-U: start over
          continue
        }
        if (ch < ' ') continue // other control keys (arrows send escape sequences)
        text += ch
      }
    }
    stdin.setEncoding('utf-8')
    stdin.setRawMode(true)
    stdin.resume()
    stdin.on('data', onData)
  })
}

/** The first non-empty line of a piped stdin (bounded: a phrase is short). */
function firstLine(): Promise<string> {
  const stdin = process.stdin
  return new Promise((resolve, reject) => {
    let text = ''
    const done = (): void => {
      stdin.off('data', onData)
      stdin.off('end', onEnd)
      stdin.off('error', onError)
      stdin.pause()
      const line = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? ''
      resolve(line)
    }
    const onData = (chunk: string): void => {
      text += chunk
      if (text.length > MAX_PHRASE_INPUT) {
        stdin.off('data', onData)
        stdin.pause()
        reject(new FluxError('PHRASE_INVALID', 'stdin holds far more than a recovery phrase'))
        return
      }
      if (/\S.*\r?\n/.test(text)) done()
    }
    const onEnd = (): void => done()
    const onError = (): void => done()
    stdin.setEncoding('utf-8')
    stdin.on('data', onData)
    stdin.on('end', onEnd)
    stdin.on('error', onError)
    stdin.resume()
  })
}
