import test from 'brittle'
import fs from 'fs/promises'
import path from 'path'
import { cli, flux, answers, UNLOCK } from './helpers.js'
import type { NodeStatus, PostInfo } from '../../src/api.js'

test('cli up - a home that ran before: a wrong passphrase fails clearly and changes nothing; the right one runs as the profile', async (t) => {
  t.timeout(120_000)
  const c = cli(t)
  await c.dht()
  const home = await t.tmp()
  const first = await c.up(home)
  const key = (await c.run(home, 'project', 'create', 'Kiln')).stdout.trim()
  t.is((await c.run(home, 'post', key, 'before')).code, 0)
  t.is(await first.stop(), 0, 'the first run stops cleanly')
  const keyFile = path.join(home, 'profile.key')
  const state = path.join(home, 'node.json')
  const [keyBefore, stateBefore] = [await fs.readFile(keyFile), await fs.readFile(state)]

  // the node starts while the key is derived, then stops again when it does not fit
  const up = ['up', '--home', home, '--bootstrap', c.bootstrap ?? '', '--host', '127.0.0.1']
  const wrong = await flux(up, { env: { ...UNLOCK, FLUX_PASSPHRASE: 'not the passphrase' } })
  t.is(wrong.code, 1, 'a wrong passphrase: exit 1')
  t.is(wrong.stderr, 'flux: error PASSPHRASE_WRONG: wrong passphrase for this profile\n')
  t.is(wrong.stdout, '', 'no banner')
  t.alike(await fs.readFile(keyFile), keyBefore, 'the key file is byte-identical')
  t.alike(await fs.readFile(state), stateBefore, 'node.json is byte-identical')
  t.absent(await answers(home), 'no node answers afterwards')

  await c.up(home)
  const status = await c.json<NodeStatus>(home, 'status')
  t.is(status.profile, 'active', 'the right passphrase: the node runs as the profile')
  const feed = await c.json<PostInfo[]>(home, 'feed', key)
  t.alike(
    feed.map((p) => p.text),
    ['before'],
    'with the project as it was'
  )
  t.is((await c.run(home, 'post', key, 'after')).code, 0, 'and writes to it')
})
