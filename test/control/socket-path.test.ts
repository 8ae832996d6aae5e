import test, { type Test } from 'brittle'
import fs from 'fs'
import path from 'path'
import { cli } from '../cli/helpers.js'
import { fallbackDir, socketPath } from '../../src/control/socket-path.js'
import type { NodeStatus } from '../../src/api.js'

// This process and its children put fallback sockets in a temp folder of this test only
// (taken last: brittle's own temp folders must not land inside it).
async function privateTmp(t: Test): Promise<string> {
  const tmp = await t.tmp()
  const before = { TMPDIR: process.env.TMPDIR, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR }
  process.env.TMPDIR = tmp
  delete process.env.XDG_RUNTIME_DIR
  t.teardown(() => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  })
  return tmp
}

const NO_STACK = /\n\s+at /

test('control - a home too long for a socket path: the socket goes to a private 0700 folder, and a folder others can use is refused', async (t) => {
  t.timeout(120_000)
  const home = path.join(await t.tmp(), 'a-home-whose-path-is-long-'.padEnd(110, 'x'))
  fs.mkdirSync(home)
  const tmp = await privateTmp(t)
  const c = cli(t)
  await c.dht()
  const sock = socketPath(home)
  const dir = fallbackDir()
  t.is(path.dirname(sock), dir, `the socket is in ${dir}`)
  t.is(dir, path.join(tmp, `flux-${process.getuid!()}`), 'a per-user folder in the temp folder')

  const node = await c.up(home)
  t.is(fs.statSync(dir).mode & 0o777, 0o700, 'the folder is private (0700)')
  t.is((await c.json<NodeStatus>(home, 'status')).home, home, 'flux status reaches the node')

  // a socket there that belongs to another user: the client refuses to talk to it
  fs.chownSync(sock, 65534, 65534)
  let r = await c.run(home, 'status')
  t.not(r.code, 0)
  t.ok(/CONTROL_UNSAFE/.test(r.stderr) && /belongs to another user/.test(r.stderr), r.stderr)
  t.absent(NO_STACK.test(r.stderr), 'no stack trace')
  fs.chownSync(sock, 0, 0)
  await node.stop('SIGTERM', 15_000)

  // the folder opened to everyone (as if another user had made it first): refused by the
  // client and by the node
  fs.chmodSync(dir, 0o777)
  r = await c.run(home, 'status')
  t.ok(/CONTROL_UNSAFE/.test(r.stderr) && /mode 0777, it must be 0700/.test(r.stderr), r.stderr)
  t.absent(NO_STACK.test(r.stderr), 'no stack trace')
  const upErr = await c.up(home).then(
    () => '',
    (e: Error) => e.message
  )
  t.ok(/CONTROL_UNSAFE/.test(upErr), 'flux up refuses to listen there')
  t.absent(NO_STACK.test(upErr), `no stack trace: ${upErr}`)

  // owned by another user
  fs.chmodSync(dir, 0o700)
  fs.chownSync(dir, 65534, 65534)
  await t.exception(c.up(home), /belongs to another user \(uid 65534\)/, 'refused: not ours')

  // a symbolic link to a folder someone else controls
  fs.rmSync(dir, { recursive: true })
  const elsewhere = path.join(tmp, 'elsewhere')
  fs.mkdirSync(elsewhere, { mode: 0o700 })
  fs.symlinkSync(elsewhere, dir)
  await t.exception(c.up(home), /is a symbolic link/, 'refused: a link')

  // removed, as the message says: the node makes its private folder again
  fs.rmSync(dir)
  await c.up(home)
  t.is((await c.json<NodeStatus>(home, 'status')).home, home, 'works again')
})

test('control - the runtime folder (XDG_RUNTIME_DIR) is used when set', async (t) => {
  const runtime = await t.tmp()
  const home = path.join(await t.tmp(), 'h'.repeat(110))
  const short = await t.tmp()
  await privateTmp(t)
  t.is(
    path.dirname(socketPath(home, { XDG_RUNTIME_DIR: runtime })),
    path.join(runtime, 'flux'),
    'in $XDG_RUNTIME_DIR/flux'
  )
  t.is(socketPath(short), path.join(short, 'flux.sock'), 'a short home keeps its socket inside')
})
