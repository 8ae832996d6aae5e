/**
 * The control protocol between `flux` verbs and a running node: newline-delimited JSON over
 * a local socket in the node's home folder. A request may see progress lines before its
 * one final line.
 *
 *   -> {"id":1,"method":"post.add","params":{...}}
 *   <- {"id":1,"progress":{...}}            (zero or more)
 *   <- {"id":1,"result":...} | {"id":1,"error":{"code":"...","message":"..."}}
 */
import type { FluxErrorCode } from '../errors.js'
import type { Progress } from '../api.js'

export { socketPath } from './socket-path.js'

export interface Request {
  id: number
  method: string
  params: Record<string, unknown>
}

/** Longest request line the node reads (bytes, without its newline). */
export const MAX_REQUEST_BYTES = 1024 * 1024

/**
 * Splits a byte stream into lines, looking for the newline only in the bytes that just
 * arrived (a long line is never scanned twice) and holding at most `max` bytes of an
 * unfinished line. `push` returns the lines a chunk completed; once a line grows past `max`,
 * `overflowed` turns true and the reader takes nothing more (the caller answers and closes).
 * A newline byte never occurs inside a multi-byte UTF-8 character, so lines decode whole.
 */
export class LineReader {
  private parts: Buffer[] = []
  private held = 0
  overflowed = false

  constructor(readonly max: number) {}

  push(chunk: Buffer): string[] {
    const lines: string[] = []
    let start = 0
    while (!this.overflowed) {
      const nl = chunk.indexOf(10, start)
      const piece = chunk.subarray(start, nl === -1 ? chunk.byteLength : nl)
      if (this.held + piece.byteLength > this.max) {
        this.overflowed = true
        this.parts = []
        this.held = 0
        break
      }
      if (nl === -1) {
        if (piece.byteLength > 0) this.parts.push(piece)
        this.held += piece.byteLength
        break
      }
      this.parts.push(piece)
      lines.push(Buffer.concat(this.parts).toString('utf-8'))
      this.parts = []
      this.held = 0
      start = nl + 1
    }
    return lines
  }
}

export type Response =
  | { id: number; progress: Progress }
  | { id: number; result: unknown }
  | { id: number; error: { code: FluxErrorCode; message: string } }
