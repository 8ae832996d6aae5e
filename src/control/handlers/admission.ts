/** Control methods for the toggles and the peers the user approves, dismisses or blocks. */
import { FluxError } from '../../errors.js'
import { str } from '../params.js'
import { none, type Table } from './table.js'

type AdmissionMethod =
  | 'toggle.show'
  | 'toggle.set'
  | 'peer.pending'
  | 'peer.approve'
  | 'peer.dismiss'
  | 'peer.block'
  | 'peer.unblock'
  | 'peer.blocked'

const peer = (p: Record<string, unknown>): { peer: string } => ({ peer: str(p, 'peer') })

export const admissionMethods: Table<AdmissionMethod> = {
  'toggle.show': none(async ({ app }) => app.admission.toggles()),
  'toggle.set': {
    parse: (p) => {
      if (typeof p.on !== 'boolean')
        throw new FluxError('INVALID_INPUT', 'on must be true or false')
      return { toggle: str(p, 'toggle'), on: p.on }
    },
    run: (p, { app }) => app.admission.setToggle(p.toggle, p.on)
  },
  'peer.pending': none(async ({ app }) => app.admission.pending()),
  'peer.approve': { parse: peer, run: (p, { app }) => app.admission.approve(p.peer) },
  'peer.dismiss': { parse: peer, run: (p, { app }) => app.admission.dismiss(p.peer) },
  'peer.block': { parse: peer, run: (p, { app }) => app.admission.block(p.peer) },
  'peer.unblock': { parse: peer, run: (p, { app }) => app.admission.unblock(p.peer) },
  'peer.blocked': none(async ({ app }) => app.admission.blocked())
}
