import test from 'brittle'
import path from 'path'
import { mesh, until } from '../helpers/index.js'
import { fillDisk, smallDisk } from '../helpers/disk.js'
import { isFluxError } from '../../src/errors.js'

test('disk full - the project says the disk is full; the node still answers', async (t) => {
  t.timeout(180_000)
  const disk = await smallDisk(t, '48m')
  if (disk === null) {
    t.pass('skipped: needs root and tmpfs to make a small disk')
    return
  }
  const m = await mesh(t)
  const a = await m.create({ home: path.join(disk, 'home') })
  const { key } = await a.app.projects.create({ name: 'full' })
  await a.app.content.post(key, 'before the disk filled')
  const told: string[] = []
  a.node.on('disk-full', (project) => told.push(project))
  // fill the disk, leaving about a megabyte
  fillDisk(disk)

  // write until the project stops (the write in flight fails with Autobase's own words)
  let failed = false
  for (let i = 0; i < 5000 && !failed; i++) {
    failed = await a.app.content.post(key, 'x'.repeat(3000)).then(
      () => false,
      () => true
    )
  }
  t.ok(failed, 'the disk filled up')
  const status = await until(a.node, async () => {
    const s = await a.app.status()
    return /DISK_FULL: no space left on the disk of/.test(s.projects[0]?.error ?? '') && s
  })
  t.ok(status.projects[0]!.error!.includes(a.home), status.projects[0]!.error!)
  t.is(told.length, 1, 'the node tells it (flux up then waits for space: control/daemon.ts)')
  const err = await a.app.content.post(key, 'one more').then(
    () => null,
    (e: unknown) => e
  )
  t.ok(isFluxError(err, 'DISK_FULL'), `writing says the disk is full: ${String(err)}`)
  const read = await a.app.content.feed(key).then(
    () => null,
    (e: unknown) => e
  )
  t.ok(isFluxError(read, 'DISK_FULL'), 'reading it says so too (the stopped base is closed)')
  t.ok(/reopens by itself once space returns/.test(String(err)), 'and that it recovers by itself')
  // the recovery itself is flux up's (control/daemon.ts): test/cli/disk-full
})
