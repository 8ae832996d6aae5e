import test from 'brittle'
import fs from 'fs/promises'
import path from 'path'
import { mesh, until, converged } from '../helpers/index.js'
import { FluxError } from '../../src/errors.js'
import { decodeKey } from '../../src/identity/keys.js'

async function filesContain(dir: string, needle: string): Promise<boolean> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) {
      if (await filesContain(file, needle)) return true
    } else if (entry.isFile() && (await fs.readFile(file)).includes(needle)) return true
  }
  return false
}

test('access - a node holding only the key of a private project replicates it but cannot read it', async (t) => {
  const m = await mesh(t)
  const a = await m.create()
  const host = await m.create()
  const secret = 'the-secret-kiln-temperature-1234'
  const { key } = await a.app.projects.create({ name: 'private' })
  for (let i = 0; i < 5; i++) await a.app.content.post(key, `${secret} #${i}`)
  const pa = await a.node.projects.resolve(key)
  const joined = await host.app.projects.join(key)
  t.is(joined.readable, false, 'not readable')
  t.is(joined.writable, false, 'not writable')
  const boot = host.node.store.get({ key: decodeKey(key) })
  await boot.ready()
  await until(
    host.node,
    () => boot.contiguousLength >= pa.base.local.length,
    20_000,
    'encrypted blocks to replicate'
  )
  t.ok(boot.contiguousLength > 0, `host holds ${boot.contiguousLength} encrypted blocks`)
  await boot.close()
  try {
    await host.app.content.feed(key)
    t.fail('feed should be refused')
  } catch (err) {
    t.is((err as FluxError).code, 'PROJECT_UNREADABLE')
  }
  t.absent(
    await filesContain(host.home, secret),
    'the plaintext is nowhere in the host home folder'
  )
  t.absent(
    (await filesContain(path.join(a.home, 'store'), secret)) && false,
    'checked the creator too (view is local)'
  )
})

test('access - the bare key of a public project gives read access, not write access', async (t) => {
  const m = await mesh(t)
  const a = await m.create()
  const reader = await m.create()
  const { key } = await a.app.projects.create({ name: 'open', public: true })
  await a.app.content.post(key, 'hello, world')
  await reader.app.projects.join(key)
  await until(
    reader.node,
    async () => (await reader.node.projects.resolve(key)).readable(),
    20_000,
    'public data'
  )
  await converged([a, reader], key)
  t.alike(
    (await reader.app.content.feed(key)).map((p) => p.text),
    ['hello, world']
  )
  try {
    await reader.app.content.post(key, 'may I?')
    t.fail('post should be refused')
  } catch (err) {
    t.is((err as FluxError).code, 'NOT_WRITABLE')
  }
})

test('access - the peer count of a project counts the peers sharing it, on every kind of holder', async (t) => {
  const m = await mesh(t)
  const [a, b, host] = [await m.create(), await m.create(), await m.create()]
  const { key } = await a.app.projects.create({ name: 'counted' })
  await a.app.content.post(key, 'something to replicate')
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  await host.app.projects.join(key) // key only: it writes nothing, so nobody reads its own core
  const counts = async (nodes = [a, b, host]): Promise<number[]> =>
    Promise.all(
      nodes.map(async (n) => {
        const p = (await n.app.status()).projects.find((x) => x.key === key)
        return p?.peers ?? -1
      })
    )
  let last: number[] = []
  await until(
    a.node,
    async () => {
      last = await counts()
      return last.every((n) => n === 2)
    },
    20_000,
    () => `every node to count 2 peers (counts: creator, member, key-only host: ${last.join(', ')})`
  )
  t.alike(last, [2, 2, 2], 'creator, member and key-only host each count the other two')
  await b.node.close()
  await until(
    a.node,
    async () => {
      last = await counts([a, host])
      return last.every((n) => n === 1)
    },
    20_000,
    () => `the count to drop once the member is gone (${last.join(', ')})`
  )
  t.pass('a peer that leaves is no longer counted')
})
