import test from 'brittle'
import createTestnet from 'hyperdht/testnet.js'
import Hyperswarm from 'hyperswarm'
import HyperDHT from 'hyperdht'
import crypto from 'hypercore-crypto'
import { Topics } from '../../src/swarm/topics.js'

test('topics - counted per owner: one owner leaving keeps the topic for another; the last one leaves it', async (t) => {
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  t.teardown(() => testnet.destroy(), { order: Infinity })
  const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`)
  const swarm = new Hyperswarm({ dht: new HyperDHT({ bootstrap, host: '127.0.0.1' }) })
  t.teardown(() => swarm.destroy())
  const topics = new Topics(swarm)
  const topic = crypto.randomBytes(32)

  await topics.join(topic, 'project')
  await topics.join(topic, 'profile-hosting')
  await topics.join(topic, 'project') // the same owner twice counts once
  t.alike(topics.owners(topic).sort(), ['profile-hosting', 'project'])
  t.ok(swarm.status(topic), 'the swarm is on the topic')

  await topics.leave(topic, 'project')
  t.alike(topics.owners(topic), ['profile-hosting'], 'one owner left')
  t.ok(swarm.status(topic), 'the swarm is still on the topic for the other owner')

  await topics.leave(topic, 'nobody') // an owner that never joined changes nothing
  t.ok(swarm.status(topic))

  await topics.leave(topic, 'profile-hosting')
  t.alike(topics.owners(topic), [])
  t.absent(swarm.status(topic), 'the last owner gone: the swarm left the topic')
  t.is(topics.size, 0)
})
