import test from 'brittle'
import BlindPairing from 'blind-pairing'
import crypto from 'hypercore-crypto'
import z32 from 'z32'
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

const DAMAGED = new Set(['INVITE_CORRUPT', 'LINK_CORRUPT'])
const ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769'

function fresh(): { invite: Buffer; code: string; link: string } {
  const { invite } = BlindPairing.createInvite(crypto.randomBytes(32), {
    expires: Date.now() + 3_600_000
  })
  return {
    invite,
    code: encodeInviteCode(invite, 'Bruno'),
    link: encodeLinkCode(crypto.randomBytes(32), crypto.randomBytes(32), invite)
  }
}

test('codes - a code cut short by any number of characters, or with a stray one after it, is refused', (t) => {
  const { code, link } = fresh()
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
  // cut to a few characters it is no longer recognisable as a code: malformed is right then
  const refused = (got: string, malformed: string): boolean => DAMAGED.has(got) || got === malformed
  for (let n = 1; n < code.length; n++) {
    const got = codeOf(() => decodeInviteCode(cut(code, n)))
    if (!refused(got, 'INVITE_MALFORMED') || (n < 20 && !DAMAGED.has(got))) {
      wrong.push(`invite -${n}: ${got}`)
    }
  }
  for (let n = 1; n < link.length; n++) {
    const got = codeOf(() => decodeLinkCode(cut(link, n)))
    if (!refused(got, 'LINK_MALFORMED') || (n < 20 && !DAMAGED.has(got))) {
      wrong.push(`link -${n}: ${got}`)
    }
  }
  for (const extra of ['y', 'o', '8']) {
    const got = codeOf(() => decodeInviteCode(code + extra))
    if (got !== 'INVITE_CORRUPT') wrong.push(`invite +${extra}: ${got}`)
  }
  t.alike(wrong, [], 'every damaged copy is refused')
  t.is(
    codeOf(() => decodeInviteCode(`  ${code}\n`)),
    'OK',
    'blanks around it are fine'
  )
})

test('codes - one character changed, missing or added anywhere is damaged, at once', (t) => {
  const { code, link } = fresh()
  const wrong: string[] = []
  const each = (text: string, decode: (s: string) => unknown, expected: string): void => {
    for (let i = 0; i < text.length; i++) {
      const variants = [text.slice(0, i) + text.slice(i + 1)]
      for (const ch of ALPHABET + 'l0') {
        if (ch !== text[i]) variants.push(text.slice(0, i) + ch + text.slice(i + 1))
      }
      variants.push(text.slice(0, i) + 'y' + text.slice(i))
      for (const v of variants) {
        const got = codeOf(() => decode(v))
        if (got !== expected) wrong.push(`${expected} at ${i} (${v.length}): ${got}`)
      }
    }
  }
  each(code, decodeInviteCode, 'INVITE_CORRUPT')
  each(link, decodeLinkCode, 'LINK_CORRUPT')
  t.alike(wrong.slice(0, 10), [], `every variant refused as damaged (${wrong.length} not)`)
  const err = (() => {
    try {
      decodeInviteCode(code.slice(0, 30) + code.slice(31))
    } catch (e) {
      return e as FluxError
    }
    return null
  })()
  t.ok(err?.message.includes('check you copied all of it'), err?.message)
})

test('codes - a code from before the checksum is refused at once, saying so; a link code is not an invite', (t) => {
  const { invite, link } = fresh()
  const legacy = z32.encode(Buffer.concat([Buffer.from([1]), invite]))
  const profileId = crypto.randomBytes(32)
  const legacyLink = z32.encode(
    Buffer.concat([Buffer.from([2]), profileId, crypto.randomBytes(32), invite])
  )
  for (const [what, fn] of [
    ['an old invite', () => decodeInviteCode(legacy)],
    ['an old link code', () => decodeLinkCode(legacyLink)]
  ] as const) {
    let err: FluxError | null = null
    try {
      fn()
    } catch (e) {
      err = e as FluxError
    }
    t.ok(
      err?.message.includes('older Flux') && err.message.includes('ask for a new'),
      `${what}: ${err?.message}`
    )
  }
  t.is(
    codeOf(() => decodeInviteCode(link)),
    'INVITE_MALFORMED',
    'a link code given as an invite'
  )
  t.is(
    codeOf(() => decodeLinkCode(legacy)),
    'LINK_MALFORMED',
    'an old invite given as a link code'
  )
  t.is(
    codeOf(() => decodeInviteCode('abc')),
    'INVITE_MALFORMED',
    'short text is not a code'
  )
  t.is(
    codeOf(() => decodeInviteCode('this is not an invite code at all')),
    'INVITE_MALFORMED'
  )
})

test('codes - an invite names its maker, cut short and without control characters', (t) => {
  const { invite } = BlindPairing.createInvite(crypto.randomBytes(32), {
    expires: Date.now() + 1000
  })
  t.is(decodeInviteCode(encodeInviteCode(invite, 'Bruno')).maker, 'Bruno')
  t.is(decodeInviteCode(encodeInviteCode(invite, null)).maker, null)
  t.is(decodeInviteCode(encodeInviteCode(invite, 'B\u001b[31mruno\u0007')).maker, 'B[31mruno')
  const long = decodeInviteCode(encodeInviteCode(invite, 'é'.repeat(40))).maker ?? ''
  t.is(long, 'é'.repeat(16), 'cut to 32 bytes on a character boundary')
})

test('codes - an expired code is judged by this machine clock, and the message says so', (t) => {
  const msg = expiredMessage('invite', Date.UTC(2026, 0, 1), Date.UTC(2036, 0, 1), 'ask again')
  t.ok(msg.includes('2026-01-01T00:00:00.000Z') && msg.includes('2036-01-01T00:00:00.000Z'), msg)
  t.ok(/if this machine's clock is wrong, set it right/.test(msg), 'a fast clock is named')
})
