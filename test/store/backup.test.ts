import test from 'brittle'
import fs from 'fs'
import path from 'path'
import { execFileSync } from 'child_process'
import { mesh, converged, until, errorCode, type TestNode } from '../helpers/index.js'
import { KDF_INTERACTIVE } from '../../src/identity/keyfile.js'

async function texts(n: TestNode, key: string): Promise<string[]> {
  const p = await n.node.projects.resolve(key)
  await p.update()
  return (await p.view.feed()).map((x) => x.text).sort()
}

/** Every file under `dir` with its size and modification time: what a write would change. */
function listing(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else {
        const s = fs.statSync(p)
        out.push(`${path.relative(dir, p)} ${s.size} ${s.mtimeMs}`)
      }
    }
  }
  walk(dir)
  return out.sort()
}

test('backup - a running node backs up; a fresh home restores from it offline, with what no peer had, and never writes to it', async (t) => {
  t.timeout(150_000)
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const b = await m.create({ name: 'Bruno' })
  const { key } = await a.app.projects.create({ name: 'kept' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  await a.app.content.post(key, 'seen by Bruno')
  await converged([a, b], key)
  await b.node.close()
  await a.app.content.post(key, 'only on Ada') // no peer holds this one
  const dir = path.join(await t.tmp(), 'backup')
  const progress: string[] = []
  const first = await a.app.backup(dir, (p) => progress.push(p.message))
  t.ok(
    first.cores > 0 && first.blocks > 0 && !first.updated,
    `backed up (${first.cores} cores, ${first.blocks} blocks)`
  )
  t.ok(progress.length > 0, `progress shown (${progress.at(-1)})`)
  await a.app.content.post(key, 'after the first backup')
  const second = await a.app.backup(dir)
  t.ok(
    second.updated && second.blocks > first.blocks,
    `run again: updated (${second.blocks} blocks)`
  )
  t.is(fs.statSync(dir).mode & 0o777, 0o700, 'the backup folder is private')
  t.absent(fs.existsSync(path.join(dir, 'profile.key')), 'no key file in the backup')
  t.is(await errorCode(a.app.backup(a.home)), 'INVALID_INPUT', 'not into the home itself')
  const phrase = a.phrase
  await a.node.close() // the only device is lost; Bruno is offline too

  // a folder that is not a copy, the node's own home, and a copy of another profile: refused,
  // with nothing changed
  const r = await m.create({ noProfile: true, kdf: KDF_INTERACTIVE })
  const attempt = (from: string): Promise<unknown> =>
    r.node.recovery.recover(phrase, { passphrase: 'p', timeout: 5000, from })
  t.is(await errorCode(attempt(await t.tmp())), 'BACKUP_UNREADABLE', 'an empty folder')
  t.is(await errorCode(attempt(r.home)), 'INVALID_INPUT', "the node's own home")
  t.is(await errorCode(attempt(b.home)), 'INVALID_INPUT', "a copy of Bruno's home")
  t.is(r.node.profile.keys, null, 'nothing changed')

  const before = listing(dir)
  const phases: string[] = []
  const report = await r.node.recovery.recover(phrase, {
    passphrase: 'new passphrase',
    timeout: 30_000,
    from: dir,
    onProgress: (p) => phases.push(p.phase)
  })
  t.is(report.whoami.name, 'Ada', 'the profile is back, with no peer online')
  t.ok(
    report.fromCopy && report.fromCopy.blocks === second.blocks,
    'every block of the backup read'
  )
  t.ok(
    report.answered.some((x) => x.peer.startsWith('copy ') && x.chosen),
    'the copy answered like a peer'
  )
  t.ok(phases.includes('copy'), 'progress while reading the copy')
  t.is(report.projects.length, 1, 'its project is back')
  t.alike(
    await texts(r, key),
    ['after the first backup', 'only on Ada', 'seen by Bruno'],
    'every post, the ones no peer had included'
  )
  t.alike(listing(dir), before, 'the backup was not written to')

  // Bruno comes back: the restored node hands him what only the lost device had, and he adds
  // the new device as a writer
  const b2 = await m.create({ home: b.home })
  await until(
    b2.node,
    async () => (await texts(b2, key)).includes('only on Ada'),
    30_000,
    "Bruno to get Ada's offline post from the restored node"
  )
  const pr = await r.node.projects.resolve(key)
  await pr.waitWritable(30_000)
  await r.app.content.post(key, 'restored')
  await converged([r, b2], key)
  t.ok((await texts(b2, key)).includes('restored'), 'the restored device writes again')
})

test('backup - a stopped home copied with cp -a restores the same way; the copy itself is still refused as a home', async (t) => {
  t.timeout(120_000)
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const { key } = await a.app.projects.create({ name: 'copied' })
  await a.app.content.post(key, 'in the copy')
  const phrase = a.phrase
  await a.node.close()
  const copy = path.join(await t.tmp(), 'copy')
  execFileSync('cp', ['-a', a.home, copy])
  t.is(
    await errorCode(m.create({ home: copy })),
    'HOME_COPIED',
    'Corestore still refuses to run a copy'
  )
  const before = listing(copy)
  const r = await m.create({ noProfile: true, kdf: KDF_INTERACTIVE })
  const report = await r.node.recovery.recover(phrase, {
    passphrase: 'x',
    timeout: 30_000,
    from: copy
  })
  t.is(report.whoami.name, 'Ada')
  t.alike(await texts(r, key), ['in the copy'], 'its posts are back')
  t.alike(listing(copy), before, 'the copy was not written to')
  t.alike(
    fs.readdirSync(r.home).filter((f) => f.startsWith('restore-')),
    [],
    'the scratch copy of its store is gone'
  )
})
