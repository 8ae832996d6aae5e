/** Control methods about the node itself. */
import { str } from '../params.js'
import { none, type Table } from './table.js'

export const nodeMethods: Table<'status' | 'peers' | 'node.backup'> = {
  status: none(({ app }) => app.status()),
  'node.backup': {
    parse: (p) => ({ dir: str(p, 'dir') }),
    run: (p, { app, progress }) => app.backup(p.dir, progress)
  },
  peers: none(({ app }) => app.peers())
}
