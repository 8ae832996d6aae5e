import test from 'brittle'
import { LineReader } from '../../src/control/protocol.js'

test('control - line reader: lines across chunks, split characters, the bound', (t) => {
  const r = new LineReader(8)
  const euro = Buffer.from('€') // 3 bytes
  t.alike(r.push(Buffer.from('ab')), [])
  t.alike(r.push(Buffer.concat([euro.subarray(0, 1)])), [])
  t.alike(r.push(Buffer.concat([euro.subarray(1), Buffer.from('\ncd\nef')])), ['ab€', 'cd'])
  t.alike(r.push(Buffer.from('\n')), ['ef'], 'a line ends in a later chunk')
  t.alike(r.push(Buffer.from('12345678\n')), ['12345678'], 'exactly the bound is read')
  t.alike(r.push(Buffer.from('ok\n123456789')), ['ok'], 'lines before the overflow are kept')
  t.ok(r.overflowed, 'a line past the bound overflows')
  t.alike(r.push(Buffer.from('\nmore\n')), [], 'nothing is read after it')
})
