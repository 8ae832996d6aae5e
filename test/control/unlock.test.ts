/**
 * `flux up` with a profile starts its node while the key file's key derivation runs (the
 * keys arrive as a promise): the socket answers at once, what needs the profile waits for the
 * keys, a failed unlock fails those calls clearly and changes nothing, and peers hear from the
 * node only once it can say which profile it is.
 */
import test from 'brittle'
import fs from 'fs/promises'
import path from 'path'
import { mesh, copyKeys, until, errorCode, stoppedHome } from '../helpers/index.js'
import { startDaemon, type Daemon } from '../../src/control/daemon.js'
import { ControlClient } from '../../src/control/client.js'
import { FluxError } from '../../src/errors.js'
import type { DeviceKeys } from '../../src/identity/profile-keys.js'
import type { Test } from 'brittle'
import type { Session } from '../../src/swarm/session.js'

interface Deferred<T> {
  promise: Promise<T>
  resolve(v: T): void
  reject(err: unknown): void
}

function deferred<T>(): Deferred<T> {
  let resolve: (v: T) => void = () => {}
  let reject: (err: unknown) => void = () => {}
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)))
  promise.catch(() => {})
  return { promise, resolve, reject }
}

/** Whether `p` has settled, asked after a round trip that cannot let it settle by itself. */
function settled(p: Promise<unknown>): () => boolean {
  let done = false
  p.then(
    () => (done = true),
    () => (done = true)
  )
  return () => done
}

/** A daemon for `home` whose profile keys arrive when the test says so. */
async function daemonUnlocking(
  t: Test,
  bootstrap: string[],
  home: string,
  keys: Promise<DeviceKeys>
): Promise<{ daemon: Daemon; client: ControlClient }> {
  const daemon = await startDaemon({
    home,
    bootstrap,
    host: '127.0.0.1',
    pairingPoll: 500,
    profile: { keys }
  })
  t.teardown(() => daemon.stop())
  const client = await ControlClient.connect(home)
  t.teardown(() => client.close())
  return { daemon, client }
}

test('control unlock - the socket answers while the profile unlocks; a call that needs it waits, then succeeds', async (t) => {
  t.timeout(90_000)
  const m = await mesh(t)
  const { home, keys, key } = await stoppedHome(m, 'before the restart')

  const unlock = deferred<DeviceKeys>()
  const { daemon, client } = await daemonUnlocking(t, m.bootstrap, home, unlock.promise)
  const status = await client.call('status', {})
  t.is(status.profile, 'unlocking', 'status says the profile is unlocking')
  t.is(status.projects.length, 1, 'and already lists the project')
  const feed = await client.call('post.feed', { project: key })
  t.alike(
    feed.map((p) => p.text),
    ['before the restart'],
    'a read of the project is answered at once'
  )

  // creating a project needs the profile's keys; a post is written as the profile
  const creating = client.call('project.create', { name: 'Loom' })
  const posting = client.call('post.add', { project: key, text: 'after the unlock' })
  const created = settled(creating)
  const posted = settled(posting)
  await client.call('status', {}) // a round trip after both requests
  t.absent(created(), 'creating a project waits for the unlock')
  t.absent(posted(), 'so does a post')

  unlock.resolve(copyKeys(keys))
  t.is((await creating).name, 'Loom', 'then the project is created')
  const post = await posting
  t.is(post.text, 'after the unlock', 'and the post written')
  t.is(post.author, feed[0]?.author, 'by the profile that posted before the restart')
  t.is((await client.call('status', {})).profile, 'active', 'and the status says active')
  const after = await client.call('post.feed', { project: key })
  t.is(after.length, 2, 'both posts are in the feed')
  await daemon.stop()
})

test('control unlock - a wrong passphrase fails the waiting calls clearly and changes nothing', async (t) => {
  t.timeout(90_000)
  const m = await mesh(t)
  const { home, keys, key } = await stoppedHome(m)
  const stateFile = path.join(home, 'node.json')
  const stateBefore = await fs.readFile(stateFile)

  const unlock = deferred<DeviceKeys>()
  const { daemon, client } = await daemonUnlocking(t, m.bootstrap, home, unlock.promise)
  const posting = client.call('post.add', { project: key, text: 'never written' })
  await client.call('status', {})
  unlock.reject(new FluxError('PASSPHRASE_WRONG', 'wrong passphrase for this profile'))
  t.is(await errorCode(posting), 'PASSPHRASE_WRONG', 'the waiting post fails with the reason')
  t.is(
    await errorCode(client.call('project.create', { name: 'x' })),
    'PASSPHRASE_WRONG',
    'and so does a call made later'
  )
  const status = await client.call('status', {})
  t.is(status.profile, 'none', 'the node does not run as the profile')
  t.is(daemon.node.profile.keys, null, 'and holds no keys')
  await daemon.stop()
  t.alike(await fs.readFile(stateFile), stateBefore, 'node.json is byte-identical')

  // the same home unlocks and writes afterwards
  const again = deferred<DeviceKeys>()
  again.resolve(copyKeys(keys))
  const { client: c2 } = await daemonUnlocking(t, m.bootstrap, home, again.promise)
  const feed = await c2.call('post.feed', { project: key })
  t.is(feed.length, 0, 'nothing was posted by the failed start')
  t.is((await c2.call('post.add', { project: key, text: 'now' })).text, 'now')
})

test('control unlock - peers hear from the node only once its profile is unlocked', async (t) => {
  t.timeout(90_000)
  const m = await mesh(t)
  const ada = await m.create({ name: 'Ada' })
  const bo = await m.create({ name: 'Bo' })
  const { key } = await ada.app.projects.create({ name: 'Kiln' })
  await bo.app.projects.join((await ada.app.projects.invite(key)).code)
  const keys = copyKeys(bo.node.profile.keys as DeviceKeys)
  const boProfile = bo.node.profile.profileHex
  const home = bo.home
  await bo.node.close()

  const unlock = deferred<DeviceKeys>()
  const { daemon } = await daemonUnlocking(t, m.bootstrap, home, unlock.promise)
  const network = daemon.node.network
  // Bo's node reconnects to Ada (the project's topic, known peers) while it unlocks
  await until(
    ada.node,
    () => network.swarm.connections.size > 0,
    30_000,
    'a connection while unlocking'
  )
  t.is(network.sessions.size, 0, 'Bo says nothing on it yet (no session)')
  const atAda = (): Session | undefined =>
    ada.node.network.sessions.get(network.publicKey.toString('hex'))
  t.absent(atAda()?.known, 'so Ada has not judged Bo as a node without a profile')

  unlock.resolve(copyKeys(keys))
  await daemon.node.profile.unlocked()
  const session = await until(
    ada.node,
    () => (atAda()?.state === 'admitted' && atAda()?.identity !== null ? atAda() : null),
    30_000,
    'Ada to admit Bo, knowing its profile'
  )
  t.is(session.identity?.profile, boProfile, "Ada sees Bo's profile")
  t.ok(network.sessions.size > 0, 'and Bo has its session')
})
