import test from 'brittle'
import { decide } from '../../src/policy/admission.js'

test('policy - admission: blocked peers are refused, every other peer is admitted', (t) => {
  const table: Array<[{ blocked: boolean }, string]> = [
    [{ blocked: false }, 'admit'],
    [{ blocked: true }, 'refuse']
  ]
  for (const [facts, expected] of table) {
    t.is(decide(facts).decision, expected, JSON.stringify(facts))
  }
  const refused = decide({ blocked: true })
  t.ok(refused.decision === 'refuse' && /blocked/.test(refused.reason), 'with a reason')
})
