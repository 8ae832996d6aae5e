import test from 'brittle'
import fs from 'fs'
import path from 'path'
import { flux } from './helpers.js'

test('cli - help is readable and exits 0', async (t) => {
  const root = await flux(['--help'])
  t.is(root.code, 0)
  for (const verb of [
    'init',
    'whoami',
    'device',
    'recover',
    'sign',
    'verify',
    'up',
    'dht',
    'project',
    'post',
    'feed',
    'task',
    'kv',
    'name',
    'peers',
    'status',
    'stop'
  ]) {
    t.ok(new RegExp(`^\\s+${verb}\\s+\\S`, 'm').test(root.stdout), `root help lists ${verb}`)
  }
  t.ok(root.stdout.includes('Exit codes'), 'root help documents exit codes')
  t.ok(root.stdout.includes('{"error"'), 'root help documents the --json error document')
  const project = await flux(['project', '--help'])
  t.is(project.code, 0)
  for (const sub of [
    'create',
    'invite',
    'join',
    'list',
    'show',
    'leave',
    'archive',
    'set',
    'role'
  ]) {
    t.ok(new RegExp(`^\\s+${sub}\\s+\\S`, 'm').test(project.stdout), `project help lists ${sub}`)
  }
  const join = await flux(['help', 'project', 'join'])
  t.is(join.code, 0)
  t.ok(join.stdout.includes('--timeout'), 'flux help project join shows its flags')
  t.absent(/at .*\.js:\d+/.test(root.stdout + project.stdout + join.stdout), 'no stack traces')
})

test('cli - usage errors exit 2 with one line', async (t) => {
  const home = await t.tmp()
  const cases: Array<[string[], RegExp]> = [
    [['bogus'], /unknown command "bogus"/],
    [['project', 'bogus'], /unknown command "bogus"/],
    [['status', '--bogus'], /unknown flag --bogus/],
    [['post', 'x'], /missing argument <text>/],
    [['post', 'x', 'hi', 'extra'], /unexpected argument "extra"/],
    [['feed', 'x', '--limit'], /flag --limit needs a value/],
    [['feed', 'x', '--limit', 'lots'], /--limit must be a whole number/],
    [['project', 'invite', 'x', '--role', 'king'], /--role must be member or admin/],
    [['project', 'invite', 'x', '--expires', 'soon'], /--expires: "soon" is not a duration/],
    [['task', 'edit', 'x', 'abcd'], /nothing to change/],
    [['up', '--bootstrap', 'nowhere'], /is not HOST:PORT/],
    [['init', '--name', ' '], /--name must be 1 to 100 characters/],
    [['device', 'delegate'], /give --for/],
    [['device', 'delegate', '--for', 'ever'], /--for: "ever" is not a duration/],
    [['device', 'join'], /missing argument <link-code>/],
    [['recover', '--timeout', 'soon'], /--timeout: "soon" is not a duration/],
    [['verify', 'x'], /missing argument <signature>/],
    [['project'], /./],
    [['help', 'nope'], /unknown command "nope"/],
    [['post', 'x', '-1 for cedar'], /unknown flag -1: text that starts with "-" goes after `--`/]
  ]
  for (const [args, re] of cases) {
    const r = await flux([...args, '--home', home])
    t.is(r.code, 2, `flux ${args.join(' ')} exits 2`)
    const lines = r.stderr.trim().split('\n')
    if (args.length > 1 || args[0] !== 'project') {
      t.is(lines.length, 1, `flux ${args.join(' ')}: one line on stderr`)
      t.ok(/^flux: error USAGE: /.test(lines[0] ?? ''), `flux ${args.join(' ')}: USAGE`)
    }
    t.ok(re.test(r.stderr), `flux ${args.join(' ')}: ${re}`)
  }
})

test('cli - no node running: NO_NODE, exit 1, JSON error document', async (t) => {
  const home = await t.tmp()
  const r = await flux(['status', '--home', home])
  t.is(r.code, 1)
  t.is(r.stderr, `flux: error NO_NODE: no node is running for ${home}: start \`flux up\`\n`)
  t.is(r.stdout, '')
  const j = await flux(['project', 'list', '--home', home, '--json'])
  t.is(j.code, 1)
  t.alike(j.json, {
    error: { code: 'NO_NODE', message: `no node is running for ${home}: start \`flux up\`` }
  })
  const post = await flux(['post', 'p', 'hello', '--home', home])
  t.is(post.code, 1)
  t.ok(post.stderr.startsWith('flux: error NO_NODE: '))
  const stop = await flux(['stop', '--home', home])
  t.is(stop.code, 1, 'flux stop with no node fails')
  const byEnv = await flux(['peers'], { env: { FLUX_HOME: home } })
  t.ok(byEnv.stderr.includes(`no node is running for ${home}:`), 'FLUX_HOME names the home')
  const badEnv = await flux(['up', '--home', home], { env: { FLUX_BOOTSTRAP: 'nowhere' } })
  t.is(badEnv.code, 2, 'FLUX_BOOTSTRAP is checked like --bootstrap')
  const badKdf = await flux(['init', '--name', 'Ada', '--home', home], {
    env: { FLUX_KDF: 'bogus', FLUX_PASSPHRASE: 'a passphrase' }
  })
  t.is(badKdf.code, 2, 'an unknown FLUX_KDF is a usage error')
  t.ok(badKdf.stderr.startsWith('flux: error USAGE: FLUX_KDF must be interactive, moderate'))
  t.absent(fs.existsSync(path.join(home, 'profile.key')), 'and no key file was written')
  const noPass = await flux(['init', '--name', 'Ada', '--home', home])
  t.is(noPass.code, 1, 'init without a passphrase or a terminal fails')
  t.ok(noPass.stderr.startsWith('flux: error PASSPHRASE_REQUIRED: '))
  t.absent(fs.existsSync(path.join(home, 'profile.key')), 'and writes no key file')
})
