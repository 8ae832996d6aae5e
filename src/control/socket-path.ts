/**
 * Where a home's control socket lives, and the checks that keep another local user from
 * standing in for it. Whoever answers on the socket receives what `flux` sends: the recovery
 * phrase (`flux recover`) and the passphrase. So the socket is either inside the home, or, when
 * that path is too long for a Unix socket, in a folder only this user can write: its runtime
 * folder (`$XDG_RUNTIME_DIR/flux`) or `flux-<uid>` in the temp folder, created with mode 0700
 * and checked (a real folder, not a link; owned by this user; no access for others) before
 * the node listens there and before a client talks there. A client also checks that the
 * socket belongs to this user.
 */
import crypto from 'crypto'
import fs from 'fs/promises'
import os from 'os'
import path from 'path'
import { FluxError } from '../errors.js'

/** A Unix socket path holds about 107 bytes; stay well inside. */
const MAX_SOCKET_PATH = 100

function uid(): number | null {
  return typeof process.getuid === 'function' ? process.getuid() : null
}

/** The private folder for sockets of homes whose own path is too long. */
export function fallbackDir(env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env.XDG_RUNTIME_DIR
  if (runtime && path.isAbsolute(runtime)) {
    const dir = path.join(runtime, 'flux')
    if (Buffer.byteLength(dir) + 30 <= MAX_SOCKET_PATH) return dir
  }
  return path.join(os.tmpdir(), `flux-${uid() ?? 'user'}`)
}

/** The control socket of `home`: `flux.sock` inside it, or a private folder for long paths. */
export function socketPath(home: string, env: NodeJS.ProcessEnv = process.env): string {
  const abs = path.resolve(home)
  const digest = crypto.createHash('sha256').update(abs).digest('hex').slice(0, 24)
  if (process.platform === 'win32') return `\\\\.\\pipe\\flux-${digest}`
  const inside = path.join(abs, 'flux.sock')
  if (Buffer.byteLength(inside) <= MAX_SOCKET_PATH) return inside
  return path.join(fallbackDir(env), `${digest}.sock`)
}

/** Whether the socket of `home` lives outside it (in the private fallback folder). */
function outside(home: string, file: string): boolean {
  return path.dirname(file) !== path.resolve(home)
}

function unsafe(what: string, why: string, fix: string): FluxError {
  return new FluxError(
    'CONTROL_UNSAFE',
    `${what} ${why}: another user could stand in for the node and read what flux sends it ` +
      `(the recovery phrase, the passphrase), so flux will not use it. ${fix}`
  )
}

/** Check that `dir` is a folder owned by this user that nobody else can use. */
async function checkPrivateDir(dir: string): Promise<void> {
  const me = uid()
  if (me === null) return
  const fix = `Remove it (rm -rf ${dir}) and try again, or set XDG_RUNTIME_DIR to a private folder.`
  const st = await fs.lstat(dir)
  const what = `the control socket folder ${dir}`
  if (st.isSymbolicLink()) throw unsafe(what, 'is a symbolic link', fix)
  if (!st.isDirectory()) throw unsafe(what, 'is not a folder', fix)
  if (st.uid !== me) throw unsafe(what, `belongs to another user (uid ${st.uid})`, fix)
  if ((st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0')
    throw unsafe(what, `is open to other users (mode ${mode}, it must be 0700)`, fix)
  }
}

/** Before the node listens: create the private folder if the socket needs one, and check it. */
export async function prepareSocketDir(home: string, file: string): Promise<void> {
  if (process.platform === 'win32' || !outside(home, file)) return
  const dir = path.dirname(file)
  await fs.mkdir(dir, { recursive: true, mode: 0o700 })
  await checkPrivateDir(dir)
}

/**
 * Before a client talks to the node: the socket's folder is private (for long homes) and the
 * socket belongs to this user. Throws NO_NODE when there is no socket, CONTROL_UNSAFE when it
 * cannot be trusted.
 */
export async function checkSocket(home: string, file: string): Promise<void> {
  const me = uid()
  if (process.platform === 'win32' || me === null) return
  const none = (): FluxError =>
    new FluxError('NO_NODE', `no node is running for ${home}: start \`flux up\``)
  try {
    if (outside(home, file)) await checkPrivateDir(path.dirname(file))
    const st = await fs.lstat(file)
    if (!st.isSocket())
      throw unsafe(`the control socket ${file}`, 'is not a socket', 'Remove it and start the node.')
    if (st.uid !== me) {
      throw unsafe(
        `the control socket ${file}`,
        `belongs to another user (uid ${st.uid})`,
        'Stop that process, remove the file and start your node again.'
      )
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw none()
    throw err
  }
}
