/** `flux name`: this member's display name in a project. */
import { arg as argument, summary } from 'paparam'
import { arg, callNode, verb } from './command.js'
import { projectName } from './output.js'

export const name = verb(
  'name',
  [
    summary('Set your display name in a project'),
    argument('<project>', 'project key, key prefix or name'),
    argument('<name>', 'the name others see')
  ],
  async (inv, out) => {
    const params = { project: arg(inv, 'project'), name: arg(inv, 'name') }
    const project = await callNode(inv, 'member.name', params)
    out.result(project, (p) => `you are "${params.name}" in ${projectName(p)}`)
  }
)
