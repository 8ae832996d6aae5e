import test from 'brittle'
import crypto from 'crypto'
import { closest, HOSTS_PER_PROFILE } from '../../src/profile/copies.js'

const id = (): string => crypto.randomBytes(32).toString('hex')

test('hosting - each profile gets the same few hosts whoever computes them, and the load spreads', (t) => {
  const members = Array.from({ length: 40 }, id)
  const load = new Map<string, number>()
  for (const p of members) {
    const others = members.filter((m) => m !== p)
    const hosts = closest(p, others, HOSTS_PER_PROFILE)
    t.is(hosts.length, HOSTS_PER_PROFILE, 'k hosts')
    t.ok(!hosts.includes(p), 'never itself')
    // the order members are listed in does not matter: every peer agrees
    t.alike(closest(p, [...others].reverse(), HOSTS_PER_PROFILE), hosts, 'same on every peer')
    // the chosen are nearer (XOR) than every one left out
    const d = (x: string): Buffer =>
      Buffer.from(Buffer.from(x, 'hex').map((b, i) => b ^ Buffer.from(p, 'hex')[i]!))
    const far = others.filter((o) => !hosts.includes(o))
    t.ok(
      hosts.every((h) => far.every((f) => Buffer.compare(d(h), d(f)) < 0)),
      'the closest ones'
    )
    for (const h of hosts) load.set(h, (load.get(h) ?? 0) + 1)
  }
  const most = Math.max(...load.values())
  t.ok(most <= 12, `no member hosts more than a few profiles (most: ${most} of 40)`)
})
