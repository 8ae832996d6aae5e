import test from 'brittle'
import fs from 'fs'
import path from 'path'
import { cli, type RunResult } from '../cli/helpers.js'

const NO_STACK = /\n\s+at /

/** `flux up` on a damaged home: it must exit at once with a clear error. */
async function upFails(c: ReturnType<typeof cli>, home: string): Promise<string> {
  const err = await c.up(home).then(
    () => null,
    (e: Error) => e.message
  )
  return err ?? 'flux up started'
}

test('store - a deleted node.json, a damaged one, a copied home, a damaged store: each its own code, naming the file and the way out', async (t) => {
  t.timeout(120_000)
  const c = cli(t)
  await c.dht()
  const home = await t.tmp()
  const node = await c.up(home)
  await c.run(home, 'project', 'create', 'kept')
  await node.stop('SIGTERM', 15_000)
  const state = path.join(home, 'node.json')
  const saved = fs.readFileSync(state)

  // deleted: not "a damaged key file"
  fs.rmSync(state)
  let err = await upFails(c, home)
  t.ok(/STATE_MISSING/.test(err), err)
  t.ok(err.includes(state) && /flux recover/.test(err), 'names the file and the way out')
  t.absent(/KEYFILE_CORRUPT|key file is damaged/.test(err), 'not reported as a damaged key file')
  t.absent(NO_STACK.test(err), 'no stack trace')

  // damaged
  fs.writeFileSync(state, saved.subarray(0, saved.byteLength >> 1))
  err = await upFails(c, home)
  t.ok(/STATE_CORRUPT/.test(err) && err.includes(state), err)
  t.absent(NO_STACK.test(err), 'no stack trace')

  // back in place: the node starts with its project
  fs.writeFileSync(state, saved)
  const again = await c.up(home)
  const list: RunResult = await c.run(home, 'project', 'list')
  t.ok(list.stdout.includes('kept'), 'the project is back')
  await again.stop('SIGTERM', 15_000)

  // a home copied as a backup (cp -r): Corestore's guard refuses it, and the node says why
  const copy = path.join(await t.tmp(), 'copy')
  fs.cpSync(home, copy, { recursive: true })
  err = await upFails(c, copy)
  t.ok(/HOME_COPIED/.test(err) && err.includes(path.join(copy, 'store')), err)
  t.absent(NO_STACK.test(err), 'no stack trace')

  // a damaged store: RocksDB's CURRENT file names a manifest that is not there
  const store = path.join(home, 'store')
  fs.writeFileSync(path.join(store, 'db', 'CURRENT'), 'MANIFEST-999999\n')
  err = await upFails(c, home)
  t.ok(/STORE_CORRUPT/.test(err) && err.includes(store), err)
  t.ok(/flux recover/.test(err), 'says what to do')
  t.absent(NO_STACK.test(err), 'no stack trace')
})
