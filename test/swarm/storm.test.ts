import test from 'brittle'
import HyperDHT from 'hyperdht'
import { mesh, converged, until } from '../helpers/index.js'

/** Open `n` connections to `key`, each with a fresh key pair, and close each once it opened. */
async function strangers(bootstrap: string[], key: Buffer, n: number): Promise<number> {
  const dht = new HyperDHT({ bootstrap, host: '127.0.0.1', ephemeral: true } as never)
  await dht.ready()
  let opened = 0
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<void>((resolve) => {
          const s = dht.connect(key, { keyPair: HyperDHT.keyPair() })
          s.on('open', () => {
            opened++
            s.destroy()
          })
          s.on('error', () => {})
          s.on('close', () => resolve())
        })
    )
  )
  await dht.destroy()
  return opened
}

test('storm - strangers that dialed us and left are not redialed; a member that is lost is', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create(), await m.create()]
  const { key } = await a.app.projects.create({ name: 'stormed' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  await converged([a, b], key)

  const opened = await strangers(m.bootstrap, a.node.network.publicKey, 40)
  t.ok(opened >= 30, `${opened} of 40 stranger connections opened`)
  const net = a.node.network
  await until(
    a.node,
    () => [...net.sessions.values()].filter((s) => s.state !== 'closed').length === 1,
    20_000,
    'the strangers to be gone (the member stays)'
  )
  t.is(net.reconnect.size, 0, 'none of the strangers is redialed')

  // the member's connection dies under us: it is dialed again
  const session = [...net.sessions.values()].find(
    (s) => s.key === b.node.network.publicKey.toString('hex')
  )
  t.ok(session, 'connected to the member')
  session!.stream.destroy()
  await until(
    a.node,
    () =>
      net.reconnect.size === 1 ||
      [...net.sessions.values()].some((s) => s !== session && s.state !== 'closed'),
    20_000,
    'the member to be redialed or back'
  )
  t.pass('the member is redialed')
})
