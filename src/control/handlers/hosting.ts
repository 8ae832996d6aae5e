/** Control methods for hosting projects for offline peers. */
import { FluxError } from '../../errors.js'
import { optNum, str } from '../params.js'
import { none, type Table } from './table.js'
import { MAX_CHECK_BLOCKS } from '../../services/project-hosts.js'

type HostingMethod = 'host.add' | 'host.list' | 'host.offer' | 'host.remove' | 'host.check'

export const hostingMethods: Table<HostingMethod> = {
  'host.add': {
    parse: (p) => {
      const quota = optNum(p, 'quota')
      if (quota !== undefined && (!Number.isSafeInteger(quota) || quota <= 0)) {
        throw new FluxError('INVALID_INPUT', 'quota must be a positive number of bytes')
      }
      return quota === undefined
        ? { project: str(p, 'project') }
        : { project: str(p, 'project'), quota }
    },
    run: (p, { app }) => app.hosting.add(p.project, p.quota ?? null)
  },
  'host.list': none(async ({ app }) => app.hosting.list()),
  'host.offer': {
    parse: (p) => {
      const quota = p.quota ?? null
      if (
        quota !== null &&
        (typeof quota !== 'number' || !Number.isSafeInteger(quota) || quota <= 0)
      ) {
        throw new FluxError('INVALID_INPUT', 'quota must be a positive number of bytes, or null')
      }
      return { quota }
    },
    run: (p, { app }) => app.hosting.offer(p.quota)
  },
  'host.remove': {
    parse: (p) => ({ project: str(p, 'project') }),
    run: (p, { app }) => app.hosting.remove(p.project)
  },
  'host.check': {
    parse: (p) => {
      const blocks = optNum(p, 'blocks')
      if (
        blocks !== undefined &&
        (!Number.isInteger(blocks) || blocks < 1 || blocks > MAX_CHECK_BLOCKS)
      ) {
        throw new FluxError('INVALID_INPUT', `blocks must be from 1 to ${MAX_CHECK_BLOCKS}`)
      }
      const base = { peer: str(p, 'peer'), project: str(p, 'project') }
      return blocks === undefined ? base : { ...base, blocks }
    },
    run: (p, { app }) => app.hosting.check(p.peer, p.project, p.blocks ?? 8)
  }
}
