/**
 * The control protocol between `flux` verbs and a running node: newline-delimited JSON over
 * a local socket in the node's home folder. A request may see progress lines before its
 * one final line.
 *
 *   -> {"id":1,"method":"post.add","params":{...}}
 *   <- {"id":1,"progress":{...}}            (zero or more)
 *   <- {"id":1,"result":...} | {"id":1,"error":{"code":"...","message":"..."}}
 */
import crypto from 'crypto'
import os from 'os'
import path from 'path'
import type { FluxErrorCode } from '../errors.js'
import type { Progress } from '../api.js'

export interface Request {
  id: number
  method: string
  params: Record<string, unknown>
}

export type Response =
  | { id: number; progress: Progress }
  | { id: number; result: unknown }
  | { id: number; error: { code: FluxErrorCode; message: string } }

/** Unix socket paths are limited to ~107 bytes: long homes get a socket in the temp folder. */
export function socketPath(home: string): string {
  const abs = path.resolve(home)
  const inside = path.join(abs, 'flux.sock')
  if (process.platform === 'win32') {
    return `\\\\.\\pipe\\flux-${crypto.createHash('sha256').update(abs).digest('hex').slice(0, 24)}`
  }
  if (Buffer.byteLength(inside) <= 100) return inside
  const digest = crypto.createHash('sha256').update(abs).digest('hex').slice(0, 24)
  return path.join(os.tmpdir(), `flux-${digest}.sock`)
}
