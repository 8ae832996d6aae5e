/**
 * `flux project join`: pair with a member, sync, become a writer. The node does the work; this
 * process only watches. So Ctrl-C (or SIGTERM, SIGHUP) must tell the node to stop asking:
 * otherwise the node keeps an abandoned pairing, and blind-pairing refuses every new join of
 * that project until it times out.
 */
import type { ParamsOf } from '../control/methods.js'
import { arg as argument, description, flag, summary } from 'paparam'
import { FluxError, isFluxError } from '../errors.js'
import {
  arg,
  boolFlag,
  callNode,
  durationFlag,
  stringFlag,
  verb,
  type Invocation
} from './command.js'
import type { Output } from './output.js'
import { projectName } from './output.js'

/** The exit code of a join stopped by a signal (the shell's 128 + SIGINT). */
const CANCELLED_EXIT = 130
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

const CANCEL_TEXT = {
  cancelled: 'cancelled the join: nothing joined',
  accepted: 'too late to cancel: a member already let this node in, the join finishes in the node',
  none: 'no join of that project is under way on this node'
} as const

export const join = verb(
  'join',
  [
    summary('Join a project with an invite code (or host one by its key)'),
    description(
      'With an invite code this node pairs with a member, syncs, and becomes a writer;\n' +
        'progress is shown on stderr. With a bare project key it only hosts the project\n' +
        '(a private project stays unreadable). Prints the project key. Ctrl-C cancels a\n' +
        'join that no member has answered yet.'
    ),
    argument('<code-or-key>', 'an invite code, or a project key'),
    flag('--project <key>', 'refuse the invite unless it is for this project'),
    flag('--timeout <duration>', 'give up after this long (default: 2m)'),
    flag('--cancel', 'cancel a join of this invite that the node is running')
  ],
  async (inv, out) => {
    const code = arg(inv, 'codeOrKey')
    if (boolFlag(inv, 'cancel')) {
      const r = await callNode(inv, 'project.join.cancel', { code })
      out.result(r, (x) => CANCEL_TEXT[x.state])
      return r.state === 'cancelled' ? 0 : 1
    }
    const params: ParamsOf<'project.join'> = { code }
    const project = stringFlag(inv, 'project')
    if (project !== undefined) params.project = project
    const timeout = durationFlag(inv, 'timeout')
    if (timeout !== undefined) params.timeout = timeout
    const cancel = cancelOnSignal(inv, code, out)
    let joined
    try {
      const call = callNode(inv, 'project.join', params, (p) => out.progress(p))
      joined = await Promise.race([call, cancel.late])
    } catch (err) {
      if (cancel.requested && isFluxError(err) && err.code === 'CANCELLED') {
        out.error(err)
        return CANCELLED_EXIT
      }
      throw err
    } finally {
      cancel.dispose()
    }
    if (joined === 'late') return CANCELLED_EXIT
    if (!out.json) {
      out.note(
        `joined ${projectName(joined)}: ${joined.applied} ops applied, ${joined.writable ? 'writable' : 'read-only'}`
      )
    }
    out.result(joined, (p) => p.key)
  }
)

interface Cancel {
  /** Whether a signal asked to cancel. */
  requested: boolean
  /** Resolves when the cancel came too late (a member let us in): stop watching then. */
  late: Promise<'late'>
  dispose(): void
}

/**
 * On the first signal, ask the node to cancel the join; the join call then fails with
 * CANCELLED. A second signal leaves at once.
 */
function cancelOnSignal(inv: Invocation, code: string, out: Output): Cancel {
  let tooLate: (v: 'late') => void = () => {}
  const state: Cancel = {
    requested: false,
    late: new Promise((resolve) => (tooLate = resolve)),
    dispose: () => {
      for (const s of SIGNALS) process.off(s, handler)
    }
  }
  const handler = (signal: NodeJS.Signals): void => {
    if (state.requested) {
      out.note(`${signal} again: leaving; the node may still be joining`)
      process.exit(CANCELLED_EXIT)
    }
    state.requested = true
    out.note(`${signal}: cancelling the join (again to leave at once)`)
    callNode(inv, 'project.join.cancel', { code }).then(
      (r) => {
        // 'cancelled': the join call fails with CANCELLED in a moment
        if (r.state === 'cancelled') return
        out.note(CANCEL_TEXT[r.state])
        tooLate('late')
      },
      (err: unknown) => {
        out.error(FluxError.from(err))
        tooLate('late')
      }
    )
  }
  for (const s of SIGNALS) process.on(s, handler)
  return state
}
