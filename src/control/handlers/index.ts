/**
 * The server's table of control methods, assembled from its groups; the compiler checks that
 * every method of the protocol has exactly one entry.
 */
import type { MethodName } from '../methods.js'
import type { Table } from './table.js'
import { nodeMethods } from './node.js'
import { projectMethods } from './projects.js'
import { contentMethods } from './content.js'
import { profileMethods } from './profile.js'
import { admissionMethods } from './admission.js'
import { hostingMethods } from './hosting.js'
import { creditsMethods } from './credits.js'
import { meshMethods } from './mesh.js'

export type { CallContext, Entry } from './table.js'

/** `node.stop` is the server's own: it answers, then stops the daemon. */
export const METHODS: Table<Exclude<MethodName, 'node.stop'>> = {
  ...nodeMethods,
  ...projectMethods,
  ...contentMethods,
  ...profileMethods,
  ...admissionMethods,
  ...hostingMethods,
  ...creditsMethods,
  ...meshMethods
}
