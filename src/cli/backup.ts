/** `flux backup`: a copy of this home that a fresh home can be restored from (`flux recover --from`). */
import path from 'path'
import { arg as argument, description, summary } from 'paparam'
import { arg, callNode, verb } from './command.js'

export const backup = verb(
  'backup',
  [
    summary('Back up this home into a folder, while the node runs'),
    description(
      'Copies every block the node holds, as a replica in a store of the backup’s own, and its\n' +
        'node.json (which holds the keys of projects held by key: keep the folder private). The\n' +
        'key file is not copied. Running it again on the same folder copies only what is new.\n' +
        'To restore, on a fresh home: `flux up`, then `flux recover --from FOLDER` with your 24\n' +
        'words. The restored node is a new device of the profile; the backup is never written\n' +
        'to, so it cannot fork what the old device wrote. A plain `cp -a` of a stopped home\n' +
        'restores the same way.'
    ),
    argument('<folder>', 'where to keep the backup: a new or empty folder, or an earlier backup')
  ],
  async (inv, out) => {
    const dir = path.resolve(arg(inv, 'folder'))
    const report = await callNode(inv, 'node.backup', { dir }, (p) => out.progress(p))
    out.result(
      report,
      (r) =>
        `${r.updated ? 'updated the backup' : 'backed up'} into ${r.dir}: ${r.cores} cores, ` +
        `${r.blocks} blocks\nrestore on a fresh home with: flux recover --from ${r.dir}`
    )
  }
)
