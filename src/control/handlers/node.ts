/** Control methods about the node itself. */
import { none, type Table } from './table.js'

export const nodeMethods: Table<'status' | 'peers'> = {
  status: none(({ app }) => app.status()),
  peers: none(({ app }) => app.peers())
}
