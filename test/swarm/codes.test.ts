import test from 'brittle'
import BlindPairing from 'blind-pairing'
import crypto from 'hypercore-crypto'
import { FluxError } from '../../src/errors.js'
import {
  decodeInviteCode,
  decodeLinkCode,
  encodeInviteCode,
  encodeLinkCode,
  expiredMessage
} from '../../src/swarm/codes.js'

function codeOf(fn: () => unknown): string {
  try {
    fn()
    return 'OK'
  } catch (err) {
    return err instanceof FluxError ? err.code : 'not a FluxError'
  }
}

test('codes - a code cut short by any number of characters, or with a stray one after it, is malformed', (t) => {
  const { invite } = BlindPairing.createInvite(crypto.randomBytes(32), {
    expires: Date.now() + 3_600_000
  })
  const code = encodeInviteCode(invite)
  const link = encodeLinkCode(crypto.randomBytes(32), crypto.randomBytes(32), invite)
  t.is(
    codeOf(() => decodeInviteCode(code)),
    'OK'
  )
  t.is(
    codeOf(() => decodeLinkCode(link)),
    'OK'
  )
  const cut = (c: string, n: number): string => c.slice(0, c.length - n)
  const wrong: string[] = []
  for (let n = 1; n < code.length; n++) {
    const got = codeOf(() => decodeInviteCode(cut(code, n)))
    if (got !== 'INVITE_MALFORMED') wrong.push(`invite -${n}: ${got}`)
  }
  for (let n = 1; n < link.length; n++) {
    const got = codeOf(() => decodeLinkCode(cut(link, n)))
    if (got !== 'LINK_MALFORMED') wrong.push(`link -${n}: ${got}`)
  }
  for (const extra of ['y', 'o', '8']) {
    const got = codeOf(() => decodeInviteCode(code + extra))
    if (got !== 'INVITE_MALFORMED') wrong.push(`invite +${extra}: ${got}`)
  }
  t.alike(wrong, [], 'every damaged copy is malformed')
  t.is(
    codeOf(() => decodeInviteCode(`  ${code}\n`)),
    'OK',
    'blanks around it are fine'
  )
})

test('codes - an expired code is judged by this machine clock, and the message says so', (t) => {
  const msg = expiredMessage('invite', Date.UTC(2026, 0, 1), Date.UTC(2036, 0, 1), 'ask again')
  t.ok(msg.includes('2026-01-01T00:00:00.000Z') && msg.includes('2036-01-01T00:00:00.000Z'), msg)
  t.ok(/if this machine's clock is wrong, set it right/.test(msg), 'a fast clock is named')
})
