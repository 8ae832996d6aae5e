import test from 'brittle'
import type { Test } from 'brittle'
import dgram from 'dgram'
import fs from 'fs/promises'
import path from 'path'
import { cli, flux, UNLOCK, waitFor, type RunResult } from './helpers.js'
import { socketPath } from '../../src/control/socket-path.js'
import type { CreatedInvite, NodeStatus, ProjectDetail } from '../../src/api.js'

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

test('cli errors - a port in use, an address not of this machine, a name for an address, a home that is a file', async (t) => {
  t.timeout(90_000)
  const dir = await t.tmp()
  // a UDP port held by someone else
  const socket = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()))
  t.teardown(() => new Promise<void>((resolve) => socket.close(() => resolve())))
  const port = String(socket.address().port)
  const dht = (...args: string[]): Promise<RunResult> => flux(['dht', ...args], { timeout: 20_000 })
  refused(
    t,
    await dht('--port', port),
    'ADDRESS_IN_USE',
    new RegExp(`127\\.0\\.0\\.1:${port} is already in use`),
    'dht on a port in use'
  )
  refused(
    t,
    await dht('--host', '192.0.2.1', '--port', port),
    'ADDRESS_UNAVAILABLE',
    /192\.0\.2\.1 is not an address of this machine/,
    'dht on an address not of this machine'
  )
  refused(
    t,
    await dht('--host', 'example.invalid'),
    'ADDRESS_INVALID',
    /"example\.invalid" is not an IPv4 address/,
    'dht given a name'
  )

  const home = path.join(dir, 'home')
  t.is(
    (await flux(['init', '--home', home, '--name', 'Ada'], { env: UNLOCK })).code,
    0,
    'a profile'
  )
  const up = (...args: string[]): Promise<RunResult> =>
    flux(['up', '--home', home, '--bootstrap', `127.0.0.1:${port}`, ...args], {
      env: UNLOCK,
      timeout: 30_000
    })
  refused(
    t,
    await up('--host', '192.0.2.1'),
    'ADDRESS_UNAVAILABLE',
    /192\.0\.2\.1 is not an address of this machine/,
    'up on an address not of this machine'
  )
  refused(
    t,
    await up('--host', 'localhost.invalid'),
    'ADDRESS_INVALID',
    /is not an IPv4 address/,
    'up given a name'
  )

  const file = path.join(dir, 'a-file')
  await fs.writeFile(file, 'not a folder')
  refused(
    t,
    await flux(['init', '--home', file, '--name', 'Ada'], { env: UNLOCK }),
    'HOME_NOT_FOLDER',
    /is a file, not a folder/,
    'init --home on a file'
  )
  refused(
    t,
    await flux(['status', '--home', path.join(file, 'sub')]),
    'HOME_NOT_FOLDER',
    /a-file is a file/,
    'a home under a file'
  )
  refused(
    t,
    await flux(['status'], { env: { FLUX_HOME: file } }),
    'HOME_NOT_FOLDER',
    /FLUX_HOME .* is a file/,
    'FLUX_HOME on a file'
  )
  t.is(await fs.readFile(file, 'utf-8'), 'not a folder', 'the file is untouched')
})

test('cli errors - a deleted control socket: status names the live node and how to stop it; then up works again', async (t) => {
  t.timeout(120_000)
  const c = cli(t)
  await c.dht()
  const a = await c.up(await t.tmp())
  const pid = a.child.pid as number
  await fs.unlink(socketPath(a.home))

  const status = await c.run(a.home, 'status')
  refused(
    t,
    status,
    'NODE_UNREACHABLE',
    new RegExp(`process ${pid}\\b.*is gone.*kill ${pid}\\b`),
    'status with the socket gone'
  )
  const again = await flux(
    ['up', '--home', a.home, '--bootstrap', c.bootstrap ?? '', '--host', '127.0.0.1'],
    { env: UNLOCK }
  )
  refused(t, again, 'NODE_RUNNING', new RegExp(`process ${pid}\\b`), 'a second up names the first')

  // the way out the message gives: stop that process, start again
  process.kill(pid, 'SIGTERM')
  t.is(await a.exited, 0, 'the node stops on SIGTERM')
  refused(t, await c.run(a.home, 'status'), 'NO_NODE', /no node is running/, 'then no node runs')
  await c.up(a.home)
  t.is((await c.run(a.home, 'status')).code, 0, 'and a new node answers')
})

test('cli errors - flux up with a bootstrap that never answers warns on its screen and in status', async (t) => {
  t.timeout(150_000)
  const c = cli(t)
  // a bootstrap that is down: something holds the port and never answers
  const socket = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()))
  t.teardown(() => new Promise<void>((resolve) => socket.close(() => resolve())))
  c.bootstrap = `127.0.0.1:${socket.address().port}`
  const a = await c.up(await t.tmp())
  const line = await waitFor(
    async () =>
      a
        .stdout()
        .split('\n')
        .find((l) => /no DHT node has answered/.test(l)),
    'the warning on the live screen',
    90_000,
    500
  )
  t.ok(line.includes(c.bootstrap) && line.includes('flux dht'), line)
  const status = await c.run(a.home, 'status')
  t.is(status.code, 0, 'status answers')
  t.ok(/dht\s+WARNING: no DHT node has answered since/.test(status.stdout), 'status shows it')
  const json = await c.json<NodeStatus>(a.home, 'status')
  t.is(json.dht.silent, true, 'and --json has it')
  t.is(json.dht.nodes, 0)
})
