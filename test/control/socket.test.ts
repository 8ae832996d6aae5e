import test from 'brittle'
import net from 'net'
import { cli } from '../cli/helpers.js'
import { socketPath } from '../../src/control/protocol.js'
import type { NodeStatus } from '../../src/api.js'

/** The longest request line the node reads (MAX_REQUEST_BYTES). */
const MAX_REQUEST_BYTES = 1024 * 1024

/** Send `payload` on a raw connection to the node's socket; what came back once it closed. */
function abuse(home: string, payload: Buffer, timeout = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath(home))
    let got = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`the node neither answered nor closed within ${timeout} ms (got ${got})`))
    }, timeout)
    socket.setEncoding('utf-8')
    socket.on('data', (d: string) => (got += d))
    socket.on('error', () => {}) // EPIPE: the node closed while we were still writing
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(got)
    })
    socket.on('connect', () => socket.write(payload))
  })
}

test('control - a 64 MiB line and a line without a newline get an error and a close; the node still answers', async (t) => {
  t.timeout(120_000)
  const c = cli(t)
  await c.dht()
  const home = await t.tmp()
  await c.up(home)

  const huge = Buffer.alloc(64 * 1024 * 1024 + 1, 'a'.charCodeAt(0))
  huge[huge.byteLength - 1] = 10 // one 64 MiB request line
  const answer = await abuse(home, huge)
  const msg = JSON.parse(answer.split('\n')[0] ?? '') as {
    error: { code: string; message: string }
  }
  t.is(msg.error.code, 'CONTROL_PROTOCOL', msg.error.message)
  t.ok(/longer than 1048576 bytes/.test(msg.error.message), 'the message says why')

  // no newline at all, just past the bound: the same answer, before any newline comes
  const endless = Buffer.alloc(MAX_REQUEST_BYTES + 1, 'b'.charCodeAt(0))
  const answer2 = await abuse(home, endless)
  t.ok(/CONTROL_PROTOCOL/.test(answer2), 'refused before the line ends')

  // a request just under the bound is still read (and answered: it is not a request)
  const under = Buffer.concat([Buffer.alloc(MAX_REQUEST_BYTES, ' '), Buffer.from('\n')])
  const answer3 = await abuseThenClose(home, under)
  t.ok(/malformed control request/.test(answer3), 'a 1 MiB line is read whole')

  // a request nested 100,000 deep fits in the bound: refused before anything walks it
  const deep = `{"id":7,"method":"status","params":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}}\n`
  const answer4 = await abuseThenClose(home, Buffer.from(deep))
  t.ok(/"id":7.*nested deeper than 100 levels/.test(answer4), answer4.slice(0, 200))

  const status = await c.json<NodeStatus>(home, 'status')
  t.is(typeof status.pid, 'number', 'the node still answers a normal request')
})

/** Send one line and close our side; what the node answered. */
function abuseThenClose(home: string, payload: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath(home))
    let got = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('no answer within 30 s'))
    }, 30_000)
    socket.setEncoding('utf-8')
    socket.on('error', () => {})
    socket.on('data', (d: string) => {
      got += d
      if (got.includes('\n')) socket.end()
    })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(got)
    })
    socket.on('connect', () => socket.write(payload))
  })
}
