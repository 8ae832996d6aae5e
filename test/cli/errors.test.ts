import test from 'brittle'
import type { Test } from 'brittle'
import { cli, type RunResult } from './helpers.js'
import type { CreatedInvite, ProjectDetail } from '../../src/api.js'

/** A refused verb: exit 1, one error line last on stderr with `code`, its message matching `re`. */
function refused(t: Test, r: RunResult, code: string, re: RegExp, what: string): void {
  t.is(r.code, 1, `${what}: exit 1`)
  const lines = r.stderr.trimEnd().split('\n')
  const last = lines.at(-1) ?? ''
  t.ok(
    lines.filter((l) => l.startsWith('flux: error ')).length === 1 &&
      last.startsWith(`flux: error ${code}: `) &&
      re.test(last),
    `${what}: ${last}`
  )
  t.absent(/INTERNAL|at .*\.js:\d+/.test(r.stderr), `${what}: no INTERNAL, no stack trace`)
}

test('cli errors - a damaged invite is refused at once; with its maker offline, the timeout names them', async (t) => {
  t.timeout(120_000)
  const c = cli(t)
  await c.dht()
  const a = await c.up(await t.tmp(), [], { name: 'Bruno' })
  const b = await c.up(await t.tmp())
  const key = (await c.run(a.home, 'project', 'create', 'Kiln')).stdout.trim()
  const { code } = await c.json<CreatedInvite>(a.home, 'project', 'invite', key)

  const at = Math.floor(code.length / 2)
  const changed = code.slice(0, at) + (code[at] === 'y' ? 'b' : 'y') + code.slice(at + 1)
  const missing = code.slice(0, at) + code.slice(at + 1)
  for (const [what, damaged] of [
    ['one character changed', changed],
    ['one character missing', missing]
  ] as const) {
    const started = Date.now()
    const r = await c.run(b.home, 'project', 'join', damaged, '--timeout', '1m')
    refused(t, r, 'INVITE_CORRUPT', /damaged.*check you copied all of it/, what)
    t.ok(Date.now() - started < 20_000, `${what}: at once, not after the timeout`)
  }
  t.is((await c.json<ProjectDetail[]>(b.home, 'project', 'list')).length, 0, 'nothing joined')

  // the only member, who made the invite, is away: the joiner is told whom to ask
  t.is(await a.stop('SIGTERM'), 0, 'the maker stops')
  const late = await c.run(b.home, 'project', 'join', code, '--timeout', '3s')
  refused(
    t,
    late,
    'TIMEOUT',
    /the member who made this invite \(Bruno\) must be online/,
    'the maker offline'
  )
})
