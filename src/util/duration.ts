import { FluxError } from '../errors.js'

const UNITS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000
}

/** Parse a duration like "90s", "10m", "1h", "2d" into milliseconds; throws INVALID_INPUT. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw])$/.exec(text.trim())
  if (!m)
    throw new FluxError('INVALID_INPUT', `"${text}" is not a duration (use e.g. 30s, 10m, 1h, 2d)`)
  const ms = Math.round(Number(m[1]) * (UNITS[m[2] as string] as number))
  if (ms <= 0) throw new FluxError('INVALID_INPUT', `duration "${text}" must be positive`)
  return ms
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ''}`
  if (s < 86400)
    return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)}m` : ''}`
  return `${Math.floor(s / 86400)}d`
}
