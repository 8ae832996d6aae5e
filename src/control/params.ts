/**
 * Reading a request's parameters: every method checks each one, so a bad request gets
 * INVALID_INPUT naming the parameter, and changes nothing.
 */
import { FluxError } from '../errors.js'
import type { Role } from '../views/project.js'

export type Params = Record<string, unknown>

export function str(p: Params, name: string): string {
  const v = p[name]
  if (typeof v !== 'string' || v.length === 0) {
    throw new FluxError('INVALID_INPUT', `missing ${name}`)
  }
  return v
}

export function optStr(p: Params, name: string): string | undefined {
  const v = p[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw new FluxError('INVALID_INPUT', `${name} must be text`)
  return v
}

export function optNum(p: Params, name: string): number | undefined {
  const v = p[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new FluxError('INVALID_INPUT', `${name} must be a number`)
  }
  return v
}

export function optBool(p: Params, name: string): boolean | undefined {
  const v = p[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') throw new FluxError('INVALID_INPUT', `${name} must be true or false`)
  return v
}

export function optRole(p: Params, name: string): Role | undefined {
  const v = optStr(p, name)
  if (v === undefined) return undefined
  if (v !== 'admin' && v !== 'member') {
    throw new FluxError('INVALID_INPUT', `role must be admin or member, not "${v}"`)
  }
  return v
}

/** Only the keys whose value is defined (the services take optional fields, not undefined). */
export function defined<T extends Record<string, unknown>>(
  o: T
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return out as { [K in keyof T]?: Exclude<T[K], undefined> }
}
