/** `flux kv ...`: a project's shared records. */
import { arg as argument, command, description, summary } from 'paparam'
import { arg, callNode, verb } from './command.js'
import { kvLine, kvList, showValue } from './output.js'
import type { JsonValue } from '../project/ops.js'

const PROJECT = 'project key, key prefix or name'

const set = verb(
  'set',
  [
    summary('Set a record'),
    description(
      'VALUE is stored as JSON when it parses as JSON (42, true, {"a":1}, "text"),\n' +
        'else as text. Quote it as JSON to force text: \'"42"\'.'
    ),
    argument('<project>', PROJECT),
    argument('<key>', 'record name'),
    argument('<value>', 'JSON, or text')
  ],
  async (inv, out) => {
    const params = {
      project: arg(inv, 'project'),
      key: arg(inv, 'key'),
      value: parseValue(arg(inv, 'value'))
    }
    out.result(await callNode(inv, 'kv.set', params), kvLine)
  }
)

const get = verb(
  'get',
  [summary('Print a record'), argument('<project>', PROJECT), argument('<key>', 'record name')],
  async (inv, out) => {
    const params = { project: arg(inv, 'project'), key: arg(inv, 'key') }
    out.result(await callNode(inv, 'kv.get', params), (r) => showValue(r.value))
  }
)

const del = verb(
  'del',
  [summary('Delete a record'), argument('<project>', PROJECT), argument('<key>', 'record name')],
  async (inv, out) => {
    const params = { project: arg(inv, 'project'), key: arg(inv, 'key') }
    const gone = await callNode(inv, 'kv.del', params)
    out.result(gone, (g) => `deleted ${g.key}`)
  }
)

const list = verb(
  'list',
  [summary("List a project's records"), argument('<project>', PROJECT)],
  async (inv, out) => {
    out.result(await callNode(inv, 'kv.list', { project: arg(inv, 'project') }), kvList)
  }
)

export const kv = command('kv', summary('Set, read and delete shared records'), set, get, del, list)

/** JSON when it parses, else the text itself. */
export function parseValue(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue
  } catch {
    return text
  }
}
