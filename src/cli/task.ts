/** `flux task ...`: a project's tasks. */
import type { ParamsOf } from '../control/methods.js'
import { arg as argument, command, flag, summary } from 'paparam'
import { arg, boolFlag, callNode, stringFlag, usageError, verb } from './command.js'
import { taskLine, taskList } from './output.js'

const PROJECT = 'project key, key prefix or name'
const TASK = 'task id or unique prefix'
const MEMBER = 'member id, id prefix, name, or "me"'

const add = verb(
  'add',
  [
    summary('Add a task; prints its id'),
    argument('<project>', PROJECT),
    argument('<title>', 'what needs doing'),
    flag('--assign <member>', MEMBER)
  ],
  async (inv, out) => {
    const params: ParamsOf<'task.add'> = {
      project: arg(inv, 'project'),
      title: arg(inv, 'title')
    }
    const assignee = stringFlag(inv, 'assign')
    if (assignee !== undefined) params.assignee = assignee
    out.result(await callNode(inv, 'task.add', params), (t) => t.id)
  }
)

const done = verb(
  'done',
  [
    summary('Mark a task done'),
    argument('<project>', PROJECT),
    argument('<id>', TASK),
    flag('--undo', 'mark it not done')
  ],
  async (inv, out) => {
    const params = {
      project: arg(inv, 'project'),
      id: arg(inv, 'id'),
      done: !boolFlag(inv, 'undo')
    }
    out.result(await callNode(inv, 'task.set', params), taskLine)
  }
)

const edit = verb(
  'edit',
  [
    summary("Change a task's title or assignee"),
    argument('<project>', PROJECT),
    argument('<id>', TASK),
    flag('--title <title>', 'new title'),
    flag('--assign <member>', MEMBER),
    flag('--unassign', 'remove the assignee')
  ],
  async (inv, out) => {
    const params: ParamsOf<'task.set'> = { project: arg(inv, 'project'), id: arg(inv, 'id') }
    const title = stringFlag(inv, 'title')
    const assignee = stringFlag(inv, 'assign')
    const unassign = boolFlag(inv, 'unassign')
    if (assignee !== undefined && unassign)
      throw usageError('give --assign or --unassign, not both')
    if (title === undefined && assignee === undefined && !unassign) {
      throw usageError('nothing to change: give --title, --assign or --unassign')
    }
    if (title !== undefined) params.title = title
    if (assignee !== undefined) params.assignee = assignee
    if (unassign) params.assignee = null
    out.result(await callNode(inv, 'task.set', params), taskLine)
  }
)

const list = verb(
  'list',
  [summary("List a project's tasks"), argument('<project>', PROJECT)],
  async (inv, out) => {
    out.result(await callNode(inv, 'task.list', { project: arg(inv, 'project') }), taskList)
  }
)

export const task = command(
  'task',
  summary('Add, finish, edit and list tasks'),
  add,
  done,
  edit,
  list
)
