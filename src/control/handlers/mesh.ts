/** Control methods for the wider mesh: connecting by peer id, the phonebook. */
import { FluxError } from '../../errors.js'
import { defined, optNum, str } from '../params.js'
import type { Table } from './table.js'

type MeshMethod = 'peer.connect' | 'phonebook.show' | 'phonebook.export' | 'phonebook.import'

export const meshMethods: Table<MeshMethod> = {
  'peer.connect': {
    parse: (p) => {
      const timeout = optNum(p, 'timeout')
      if (timeout !== undefined && (!Number.isSafeInteger(timeout) || timeout < 1)) {
        throw new FluxError('INVALID_INPUT', 'timeout must be a positive number of ms')
      }
      return { peer: str(p, 'peer'), ...defined({ timeout }) }
    },
    run: (p, { app }) => app.mesh.connect(p.peer, p.timeout)
  },
  'phonebook.show': {
    parse: (p) => {
      const at = optNum(p, 'at')
      if (at !== undefined && !Number.isSafeInteger(at)) {
        throw new FluxError('INVALID_INPUT', 'at must be a whole version number')
      }
      return defined({ at })
    },
    run: (p, { app }) => app.mesh.phonebook(p.at)
  },
  'phonebook.export': {
    parse: (p) => defined({ at: version(p) }),
    run: (p, { app }) => app.mesh.exportSnapshot(p.at)
  },
  'phonebook.import': {
    parse: (p) => ({ snapshot: p.snapshot, ...defined({ timeout: optNum(p, 'timeout') }) }),
    run: (p, { app }) => app.mesh.importSnapshot(p.snapshot, p.timeout)
  }
}

function version(p: Record<string, unknown>): number | undefined {
  const at = optNum(p, 'at')
  if (at !== undefined && !Number.isSafeInteger(at)) {
    throw new FluxError('INVALID_INPUT', 'at must be a whole version number')
  }
  return at
}
