import { FluxError } from '../errors.js'

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4
}

/** Parse a size like "500MB", "2GiB", "10kb" or "4096" (bytes); throws INVALID_INPUT. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
  const unit = m ? (m[2] as string).toLowerCase() || 'b' : ''
  const factor = UNITS[unit]
  if (!m || factor === undefined) {
    throw new FluxError(
      'INVALID_INPUT',
      `"${text}" is not a size (use e.g. 500MB, 2GB, 1GiB, or a number of bytes)`
    )
  }
  const bytes = Math.floor(Number(m[1]) * factor)
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new FluxError('INVALID_INPUT', `size "${text}" must be positive`)
  }
  return bytes
}

/** A byte count for people: 1.5 MB, 312 KB, 20 B (powers of 1000, as disks are sold). */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let n = bytes
  let u = -1
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000
    u++
  }
  return `${n >= 100 ? Math.round(n) : n.toFixed(1)} ${units[u]}`
}
