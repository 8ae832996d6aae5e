import test, { type Test } from 'brittle'
import net from 'net'
import { flux, UNLOCK } from '../cli/helpers.js'
import { socketPath } from '../../src/control/protocol.js'
import { prepareSocketDir } from '../../src/control/socket-path.js'
import { decodeMaterial } from '../../src/identity/handover.js'
import { encodeKey } from '../../src/identity/keys.js'

interface Seen {
  method: string
  params: Record<string, unknown>
  line: string
}

/**
 * A stand-in for a node on `home`'s control socket that records every request line: the
 * client's side of the protocol is what is under test (what crosses the socket).
 */
async function recorder(
  t: Test,
  home: string,
  answer: (method: string, params: Record<string, unknown>) => Record<string, unknown>
): Promise<Seen[]> {
  const file = socketPath(home)
  await prepareSocketDir(home, file)
  const seen: Seen[] = []
  const server = net.createServer((socket) => {
    let buffered = ''
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf-8')
      let nl: number
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        const req = JSON.parse(line) as {
          id: number
          method: string
          params: Record<string, unknown>
        }
        seen.push({ method: req.method, params: req.params, line })
        socket.write(JSON.stringify({ id: req.id, ...answer(req.method, req.params) }) + '\n')
      }
    })
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(file, resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return seen
}

const noProfile = { error: { code: 'NO_PROFILE', message: 'this node has no profile yet' } }

test('handover - flux init and flux recover never send the phrase over the control socket', async (t) => {
  t.timeout(60_000)
  const home = await t.tmp()
  const made = { profile: '', device: '' }
  const seen = await recorder(t, home, (method, params) => {
    if (method === 'whoami') return noProfile
    if (method === 'profile.init') {
      const m = decodeMaterial(params.material as string)
      made.profile = encodeKey(m.keys.profileId)
      made.device = encodeKey(m.keys.device.publicKey)
      return { result: { ...made, name: params.name, phrase: '' } }
    }
    return {
      error: { code: 'RECOVERY_NO_PEERS', message: 'no peer holding this profile answered' }
    }
  })
  const init = await flux(['init', '--name', 'Ada', '--home', home, '--json'], { env: UNLOCK })
  t.is(init.code, 0, `init exits 0 ${init.stderr}`)
  const out = init.json as { phrase: string; profile: string }
  const words = out.phrase.split(' ')
  t.is(words.length, 24, 'the client shows the 24 words it made')
  t.is(out.profile, made.profile, 'the node got keys of that very profile')
  const sent = (): string => seen.map((s) => s.line).join('\n')
  t.absent(sent().includes(words.slice(0, 3).join(' ')), 'no phrase in what init sent')
  t.is(seen.find((s) => s.method === 'profile.init')?.params.phrase, undefined, 'no phrase field')

  const recover = await flux(['recover', '--home', home, '--timeout', '5s'], {
    env: { ...UNLOCK, FLUX_PHRASE: out.phrase }
  })
  t.is(recover.code, 1, 'the stand-in says no peer answered')
  const asked = seen.find((s) => s.method === 'profile.recover')
  t.ok(asked, 'recover asked the node')
  const material = decodeMaterial(asked!.params.material as string)
  t.is(encodeKey(material.keys.profileId), out.profile, 'with keys of the same profile')
  t.not(encodeKey(material.keys.device.publicKey), made.device, 'and a new device')
  t.ok(material.box.secretKey !== null, 'and the recovery box to open project keys')
  for (let i = 0; i + 3 <= words.length; i += 3) {
    t.absent(sent().includes(words.slice(i, i + 3).join(' ')), `no words ${i + 1}-${i + 3} sent`)
  }
  t.absent(/"phrase"/.test(asked!.line), 'no phrase field')
})
