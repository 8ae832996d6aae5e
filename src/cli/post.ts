/** `flux post` and `flux feed`: the project's discussion. */
import type { ParamsOf } from '../control/methods.js'
import { arg as argument, flag, summary } from 'paparam'
import { arg, callNode, intFlag, stringFlag, verb } from './command.js'
import { feed as showFeed } from './output.js'

export const post = verb(
  'post',
  [
    summary('Post to a project; prints the post id'),
    argument('<project>', 'project key, key prefix or name'),
    argument('<text>', 'what to say'),
    flag('--reply-to <id>', 'the post this answers (id or unique prefix)')
  ],
  async (inv, out) => {
    const params: ParamsOf<'post.add'> = { project: arg(inv, 'project'), text: arg(inv, 'text') }
    const replyTo = stringFlag(inv, 'replyTo')
    if (replyTo !== undefined) params.replyTo = replyTo
    out.result(await callNode(inv, 'post.add', params), (p) => p.id)
  }
)

export const feed = verb(
  'feed',
  [
    summary('Show the posts of a project, replies under their parent'),
    argument('<project>', 'project key, key prefix or name'),
    flag('--limit <n>', 'only the latest N posts')
  ],
  async (inv, out) => {
    const params: ParamsOf<'post.feed'> = { project: arg(inv, 'project') }
    const limit = intFlag(inv, 'limit', { min: 1, max: 1_000_000 })
    if (limit !== undefined) params.limit = limit
    out.result(await callNode(inv, 'post.feed', params), showFeed)
  }
)
