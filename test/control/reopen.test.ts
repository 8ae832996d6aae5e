/**
 * What `flux up` does after a full disk, without a full disk (that needs root and a small
 * tmpfs: test/cli/disk-full): told that a project stopped on one, the daemon checks the home's
 * free space on its clock and reopens the node in-process, behind the same control socket,
 * still running as its profile.
 */
import test from 'brittle'
import { mesh, stoppedHome } from '../helpers/index.js'
import { startDaemon, type DaemonEvents } from '../../src/control/daemon.js'
import { ControlClient } from '../../src/control/client.js'
import { ManualClock, withTimeout } from '../../src/util/clock.js'
import { FluxError } from '../../src/errors.js'

test('control reopen - after a full disk the node is reopened behind the same socket, on the next space check', async (t) => {
  t.timeout(90_000)
  const m = await mesh(t)
  const { home, keys, key } = await stoppedHome(m, 'before the disk filled')

  const clock = new ManualClock()
  const daemon = await startDaemon(
    { home, bootstrap: m.bootstrap, host: '127.0.0.1', profile: { keys } },
    { clock, spaceCheckInterval: 60_000 }
  )
  t.teardown(() => daemon.stop())
  const client = await ControlClient.connect(home)
  t.teardown(() => client.close())
  const seen: string[] = []
  const next = <K extends keyof DaemonEvents>(name: K): Promise<DaemonEvents[K]> =>
    withTimeout(
      new Promise<DaemonEvents[K]>((resolve) => daemon.on(name, (...args) => resolve(args))),
      30_000,
      `the daemon's ${name} event`
    )
  for (const name of ['disk-full', 'reopening', 'reopened', 'reopen-failed'] as const) {
    daemon.on(name, () => seen.push(name))
  }
  const first = daemon.node
  const diskFull = next('disk-full')
  // what the node says when a project stopped on a full disk
  first.emit('disk-full', key, 0)
  t.is(daemon.state, 'disk-full', 'the daemon waits for space')
  const [info] = await diskFull
  t.is(info.home, first.home, 'and says for which home')
  t.is(daemon.node, first, 'nothing is reopened before the space check')

  const reopened = next('reopened')
  clock.advance(60_000)
  const [{ node }] = await reopened
  t.alike(seen, ['disk-full', 'reopening', 'reopened'], 'every state change was told')
  t.is(daemon.state, 'running', 'the daemon runs again')
  t.is(daemon.node, node, 'with a new node')
  t.not(node, first, 'not the old one')
  t.ok(first.closed, 'which is closed')
  t.is(node.home, first.home, 'on the same home')

  // the same connection to the same socket: the new node answers, as the same profile
  const status = await client.call('status', {})
  t.is(status.profile, 'active', 'the profile is active on the new node')
  t.is(status.peerId, first.peerId, 'under the same peer id')
  const post = await client.call('post.add', { project: key, text: 'after the reopen' })
  t.is(post.authorName, 'Ada', 'a post is written as Ada')
  const feed = await client.call('post.feed', { project: key })
  t.alike(
    feed.map((p) => p.text),
    ['before the disk filled', 'after the reopen'],
    'the feed has both posts'
  )
  t.is(
    first.profile.keys?.device.secretKey.every((b) => b === 0),
    true,
    'old keys were zeroed'
  )
})

test('control reopen - requests wait while the node is swapped, or say why at once', async (t) => {
  t.timeout(60_000)
  const m = await mesh(t)
  const ada = await m.create({ noProfile: true })
  const home = ada.home
  await ada.node.close()
  const daemon = await startDaemon({ home, bootstrap: m.bootstrap, host: '127.0.0.1' })
  t.teardown(() => daemon.stop())
  const client = await ControlClient.connect(home)
  t.teardown(() => client.close())

  daemon.server.hold()
  let answered = false
  const held = client.call('status', {}).then((s) => ((answered = true), s))
  // a round trip on another connection that does not wait: the held one is still waiting
  const other = await ControlClient.connect(home)
  t.teardown(() => other.close())
  const refused = new FluxError('DISK_FULL', 'the node could not be reopened')
  daemon.server.hold(refused)
  const now = await other.call('status', {}).then(
    () => null,
    (e: unknown) => e
  )
  t.ok(
    now instanceof FluxError && now.code === 'DISK_FULL',
    `a held server with a reason says it: ${String(now)}`
  )
  t.absent(answered, 'the request held before is still waiting')
  daemon.server.setApp(daemon.app)
  const status = await held
  t.is(status.home, daemon.node.home, 'and is answered once the app is set')
  t.ok((await other.call('status', {})).home, 'requests run again')
})
