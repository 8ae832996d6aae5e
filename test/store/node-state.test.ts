import test from 'brittle'
import fs from 'fs/promises'
import path from 'path'
import { NodeState } from '../../src/store/node-state.js'
import { FluxError } from '../../src/errors.js'

const hex = (b: string): string => b.repeat(64)

async function loadCode(home: string): Promise<string> {
  try {
    await NodeState.at(home).load()
    return 'OK'
  } catch (err) {
    return err instanceof FluxError ? `${err.code}: ${err.detail}` : `not a FluxError: ${err}`
  }
}

test('store - node.json round-trips, and a missing one is an empty state', async (t) => {
  const home = await t.tmp()
  const empty = NodeState.at(home)
  await empty.load()
  t.alike(empty.projects(), [], 'no file: no projects')
  await empty.putProject({ key: hex('a'), ns: 'ns', encryptionKey: null, via: 'key', addedAt: 1 })
  await empty.putProfile({
    id: hex('b'),
    name: 'Ada',
    discovery: hex('c'),
    recovery: hex('d'),
    base: null,
    baseSig: null
  })
  const again = NodeState.at(home)
  await again.load()
  t.is(again.project(hex('a'))?.via, 'key')
  t.is(again.profile()?.name, 'Ada')
  const text = JSON.parse(await fs.readFile(path.join(home, 'node.json'), 'utf-8'))
  t.is(text.version, 1, 'the file says its version')
})

test('store - a damaged node.json is named with what is wrong; a newer one is refused', async (t) => {
  const home = await t.tmp()
  const file = path.join(home, 'node.json')
  const cases: Array<[string, RegExp]> = [
    ['{ not json', /STATE_CORRUPT: .*node\.json is damaged \(not JSON\)/],
    ['[]', /not an object/],
    [JSON.stringify({ version: 1, projects: [] }), /"projects" is not an object/],
    [
      JSON.stringify({ version: 1, projects: { x: { key: 'zz', ns: 'a', via: 'key' } } }),
      /projects entry x: bad key/
    ],
    [JSON.stringify({ version: 1, profile: { id: hex('a'), name: 7 } }), /profile: bad name/],
    [JSON.stringify({ projects: {} }), /unknown version undefined/],
    [JSON.stringify({ version: 9 }), /STATE_VERSION: .*newer Flux \(version 9/]
  ]
  for (const [text, expected] of cases) {
    await fs.writeFile(file, text)
    const got = await loadCode(home)
    t.ok(expected.test(got), got)
  }
  await fs.writeFile(file, JSON.stringify({ version: 1 }))
  t.is(await loadCode(home), 'OK', 'missing sections are empty')
})
