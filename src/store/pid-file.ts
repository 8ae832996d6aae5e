/**
 * `HOME/flux.pid`: which process runs the node of a home, written by the node once its control
 * socket listens and removed when it stops. It lets a client tell "no node runs" from "a node
 * runs but its socket is gone" (someone deleted it, or a cleaner of temp folders did), and
 * say which process to stop. Kept free of heavy imports: every `flux` verb may read it.
 */
import fs from 'fs/promises'
import path from 'path'

export interface PidRecord {
  pid: number
  /** The control socket the node listens on. */
  socket: string
  /** When it started listening (ISO). */
  started: string
}

export function pidFilePath(home: string): string {
  return path.join(path.resolve(home), 'flux.pid')
}

/** Record this process as the node of `home`. */
export async function writePidFile(home: string, socket: string): Promise<void> {
  const record: PidRecord = { pid: process.pid, socket, started: new Date().toISOString() }
  await fs.writeFile(pidFilePath(home), JSON.stringify(record) + '\n', { mode: 0o600 })
}

/** Remove the record, if it is still this process's (a newer node may have replaced it). */
export async function removePidFile(home: string): Promise<void> {
  const record = await readPidFile(home)
  if (record?.pid === process.pid) await fs.unlink(pidFilePath(home)).catch(() => {})
}

async function readPidFile(home: string): Promise<PidRecord | null> {
  try {
    const parsed = JSON.parse(await fs.readFile(pidFilePath(home), 'utf-8')) as Partial<PidRecord>
    if (!Number.isSafeInteger(parsed.pid) || (parsed.pid as number) <= 0) return null
    return {
      pid: parsed.pid as number,
      socket: typeof parsed.socket === 'string' ? parsed.socket : '',
      started: typeof parsed.started === 'string' ? parsed.started : ''
    }
  } catch {
    return null
  }
}

/**
 * The node process recorded for `home` if it still runs, else null. A record left by a node
 * that was killed is ignored: its process is gone, or (its pid reused) is not a Flux process.
 */
export async function liveNode(home: string): Promise<PidRecord | null> {
  const record = await readPidFile(home)
  if (record === null || record.pid === process.pid) return null
  try {
    process.kill(record.pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null
  }
  // Linux: a reused pid belongs to some other program
  const cmdline = await fs.readFile(`/proc/${record.pid}/cmdline`, 'utf-8').catch(() => null)
  if (cmdline !== null && !/flux/i.test(cmdline)) return null
  return record
}
