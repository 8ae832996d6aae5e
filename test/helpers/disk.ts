import type { Test } from 'brittle'
import { execFileSync } from 'child_process'
import fs from 'fs'
import path from 'path'

/**
 * A tmpfs of `size` of our own (as root), unmounted in teardown and at exit (a failed wait
 * throws, and brittle then exits without running teardowns); null where that cannot be done.
 */
export async function smallDisk(t: Test, size: string): Promise<string | null> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return null
  const dir = await t.tmp()
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' })
  } catch {
    return null
  }
  const unmount = (): void => {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' })
    } catch {}
  }
  t.teardown(unmount, { order: 1000 })
  process.once('exit', unmount)
  return dir
}

/** Bytes free on the disk of `dir`. */
export function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir)
  return s.bavail * s.bsize
}

/** Fill the disk of `dir` with a file, leaving about 1.5 MiB; returns the file (delete it to free). */
export function fillDisk(dir: string): string {
  const filler = path.join(dir, 'filler')
  const fd = fs.openSync(filler, 'w')
  try {
    while (freeBytes(dir) > 1.5 * 1024 * 1024) fs.writeSync(fd, Buffer.alloc(1024 * 1024))
  } catch {}
  fs.closeSync(fd)
  return filler
}
