import test from 'brittle'
import dgram from 'dgram'
import { mesh } from '../helpers/index.js'
import { ManualClock } from '../../src/util/clock.js'
import { SILENT_AFTER } from '../../src/swarm/dht-watch.js'
import type { DhtStatus } from '../../src/api.js'

/** A UDP port where something is bound and never answers: a bootstrap that is down. */
async function silentPort(t: { teardown(fn: () => unknown): void }): Promise<number> {
  const socket = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()))
  t.teardown(() => new Promise<void>((resolve) => socket.close(() => resolve())))
  return socket.address().port
}

test('dht watch - a bootstrap that never answers is reported after a while, not as a silent 0 peers', async (t) => {
  const m = await mesh(t)
  const clock = new ManualClock()
  const port = await silentPort(t)
  const lone = await m.create({ clock, bootstrap: [`127.0.0.1:${port}`], noProfile: true })
  const events: DhtStatus[] = []
  lone.node.network.on('dht-status', (s) => events.push(s))
  t.is((await lone.app.status()).dht.silent, false, 'not judged before the while has passed')

  clock.advance(SILENT_AFTER - 1000)
  t.is(events.length, 0, 'still nothing to say just before')
  clock.advance(1000)
  t.is(events.length, 1, 'one event once the while has passed')
  t.is(events[0]?.silent, true)
  const status = (await lone.app.status()).dht
  t.is(status.silent, true, 'and the status says so')
  t.is(status.nodes, 0)
  t.is(status.silentSince, clock.now() - SILENT_AFTER, 'since when')
  clock.advance(SILENT_AFTER * 3)
  t.is(events.length, 1, 'said once, not on every check')
})

test('dht watch - a node whose bootstrap answers is never reported', async (t) => {
  const m = await mesh(t)
  const clock = new ManualClock()
  const a = await m.create({ clock, noProfile: true })
  const events: DhtStatus[] = []
  a.node.network.on('dht-status', (s) => events.push(s))
  const deadline = Date.now() + 20_000
  while (a.node.network.dhtStatus().nodes === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.ok(a.node.network.dhtStatus().nodes > 0, 'DHT nodes known')
  clock.advance(SILENT_AFTER * 2)
  t.is(events.length, 0, 'no event')
  t.is((await a.app.status()).dht.silent, false)
})
