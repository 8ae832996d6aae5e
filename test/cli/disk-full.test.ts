import test from 'brittle'
import fs from 'fs'
import path from 'path'
import { cli, waitFor } from './helpers.js'
import { fillDisk, freeBytes, smallDisk } from '../helpers/disk.js'
import { ControlClient } from '../../src/control/client.js'
import { FluxError } from '../../src/errors.js'

test('cli - disk full: flux up waits for space, then reopens the node by itself', async (t) => {
  t.timeout(240_000)
  // 160 MiB: the home grows to about 67 MiB (mostly RocksDB's log) while it fills the rest;
  // once the filler is gone there is room for the 48 MiB the daemon waits for
  const disk = await smallDisk(t, '160m')
  if (disk === null) {
    t.pass('skipped: needs root and tmpfs to make a small disk')
    return
  }
  const c = cli(t)
  await c.dht()
  const home = path.join(disk, 'home')
  const up = await c.up(home)
  const client = await ControlClient.connect(home)
  t.teardown(() => client.close())
  const { key } = await client.call('project.create', { name: 'full' })
  const acknowledged: string[] = []
  const post = async (text: string): Promise<void> => {
    await client.call('post.add', { project: key, text })
    acknowledged.push(text)
  }
  await post('before the disk filled')

  // fill the disk, leaving about a megabyte, then post until the project stops
  const filler = fillDisk(disk)
  let failed = false
  for (let i = 0; i < 5000 && !failed; i++) {
    failed = await post(`post ${i} ${'x'.repeat(3000)}`).then(
      () => false,
      () => true
    )
  }
  t.ok(failed, `the disk filled up (${acknowledged.length} posts acknowledged)`)
  const error = await waitFor(
    async () => {
      const s = await client.call('status', {})
      const e = s.projects[0]?.error ?? ''
      return /DISK_FULL: no space left on the disk of/.test(e) && e
    },
    'the status to say the disk is full',
    60_000
  )
  t.ok(/reopens by itself once space returns/.test(error), `status says so: ${error}`)
  const refused = await client.call('post.add', { project: key, text: 'one more' }).then(
    () => null,
    (e: unknown) => e
  )
  t.ok(
    refused instanceof FluxError && refused.code === 'DISK_FULL',
    `a write says the disk is full: ${String(refused)}`
  )
  await waitFor(
    async () => /flux: disk full: .* the node reopens by itself/.test(up.stdout()),
    'flux up to say it waits for space',
    30_000
  )
  t.pass('flux up says it waits for space')

  // space returns; nothing is restarted by the test
  const stoppedAt = Date.now()
  fs.rmSync(filler)
  t.comment(`free once the filler is gone: ${(freeBytes(disk) / 1048576).toFixed(1)} MiB`)
  const after = await waitFor(
    () =>
      client.call('post.add', { project: key, text: 'after the space returned' }).catch(() => null),
    'a post to succeed once space returned',
    120_000,
    500
  ).catch((err: unknown) => {
    const said = up.stdout().split('\n')
    const lines = said.filter((l) => !l.startsWith('warning: ')).slice(-40)
    t.comment(
      `flux up said (${said.length} lines):\n${lines.join('\n')}\n${up.stderr().slice(-3000)}`
    )
    throw err
  })
  t.ok(after.id, `a post succeeds ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after`)
  t.ok(/flux: space is back: node reopened/.test(up.stdout()), 'flux up says the node reopened')
  t.is(up.child.exitCode, null, 'the same flux up process still runs')
  const feed = await client.call('post.feed', { project: key })
  const texts = new Set(feed.map((p) => p.text))
  const lost = acknowledged.filter((text) => !texts.has(text))
  t.is(lost.length, 0, `every acknowledged post is there (${acknowledged.length})`)
  t.ok(texts.has('after the space returned'), 'and the new one')
  const status = await client.call('status', {})
  t.absent(status.projects[0]?.error, 'the project has no error')
})
