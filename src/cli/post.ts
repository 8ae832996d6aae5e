/** `flux post` and `flux feed`: the project's discussion. */
import type { ParamsOf } from '../control/methods.js'
import { arg as argument, flag, summary } from 'paparam'
import { arg, callNode, intFlag, stringFlag, verb } from './command.js'
import { feed as showFeed } from './output.js'
import { FluxError } from '../errors.js'

export const post = verb(
  'post',
  [
    summary('Post to a project; prints the post id'),
    argument('<project>', 'project key, key prefix or name'),
    argument('<text>', 'what to say; - reads it from standard input (for long text)'),
    flag('--reply-to <id>', 'the post this answers (id or unique prefix)')
  ],
  async (inv, out) => {
    const given = arg(inv, 'text')
    const text = given === '-' ? await readStdin() : given
    const params: ParamsOf<'post.add'> = { project: arg(inv, 'project'), text }
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

/** All of standard input as text, without the one newline a shell or editor leaves at the end. */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    process.stderr.write('flux: reading the post from standard input (end with Ctrl-D)\n')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of process.stdin) {
    const buf = chunk as Buffer
    size += buf.length
    // far beyond any post: stop reading rather than hold it all (the node names the limit)
    if (size > 1024 * 1024)
      throw new FluxError(
        'INVALID_INPUT',
        'standard input is over 1 MiB: a post is at most 4000 characters'
      )
    chunks.push(buf)
  }
  return Buffer.concat(chunks)
    .toString('utf-8')
    .replace(/\r?\n$/, '')
}
