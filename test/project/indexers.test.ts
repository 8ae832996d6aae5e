import test from 'brittle'
import {
  AWAY,
  MAX_INDEXERS,
  chooseIndexers,
  nextStep,
  type Candidate
} from '../../src/project/indexers.js'

const c = (writer: string, order: number, admin = false): Candidate => ({
  writer,
  profile: `p-${writer}`,
  admin,
  order
})
const NOW = 10 * AWAY

test('indexers - admins first, then in join order; at most three; never exactly two', (t) => {
  const members = [c('m1', 1), c('m2', 2), c('a0', 0, true), c('m3', 3), c('a4', 4, true)]
  t.alike(chooseIndexers(members, {}, NOW), ['a0', 'a4', 'm1'], 'admins first, then join order')
  t.is(chooseIndexers(members, {}, NOW).length, MAX_INDEXERS)
  t.alike(
    chooseIndexers([c('a', 0, true), c('b', 1)], {}, NOW),
    ['a'],
    'two candidates: one indexer'
  )
  t.alike(chooseIndexers([c('a', 0, true)], {}, NOW), ['a'])
  t.alike(chooseIndexers([], {}, NOW), [])
  t.alike(
    chooseIndexers([...members].reverse(), {}, NOW),
    chooseIndexers(members, {}, NOW),
    'the order candidates come in does not matter'
  )
})

test('indexers - an indexer away for long gives its seat to a member who is around', (t) => {
  const members = [c('a', 0, true), c('b', 1), c('c', 2), c('d', 3), c('e', 4)]
  const fresh = Object.fromEntries(members.map((m) => [m.writer, NOW]))
  t.alike(chooseIndexers(members, fresh, NOW), ['a', 'b', 'c'], 'everyone around: the first three')
  t.alike(
    chooseIndexers(members, { ...fresh, a: NOW - AWAY - 1 }, NOW),
    ['b', 'c', 'd'],
    'one of three away: the next member around takes its seat'
  )
  t.alike(
    chooseIndexers(members, { ...fresh, a: NOW - AWAY - 1, b: NOW - AWAY - 1 }, NOW),
    ['c', 'd', 'e'],
    'two of three away: those around take over'
  )
  t.alike(
    chooseIndexers(members, { ...fresh, a: NOW - AWAY, b: NOW - AWAY }, NOW),
    ['a', 'b', 'c'],
    'exactly AWAY is not away yet'
  )
  const three = [c('a', 0, true), c('b', 1), c('c', 2)]
  t.alike(
    chooseIndexers(three, { a: NOW - AWAY - 1, b: NOW, c: NOW }, NOW),
    ['b', 'c', 'a'],
    'nobody to take the seat: the away one keeps it (the set does not shrink to two)'
  )
  const two = [c('a', 0, true), c('b', 1)]
  t.alike(
    chooseIndexers(two, { a: NOW - AWAY - 1, b: NOW }, NOW),
    ['b'],
    'the sole indexer away: the other takes over'
  )
  const allAway = Object.fromEntries(members.map((m) => [m.writer, 0]))
  t.alike(chooseIndexers(members, allAway, NOW), ['a', 'b', 'c'], 'nobody around: nothing changes')
})

test('indexers - steps: add what is missing first; remove only once every wanted one is active; never both', (t) => {
  t.alike(nextStep(['a'], [], ['a', 'b', 'c']), { kind: 'add', writers: ['b', 'c'] })
  t.is(nextStep(['a'], ['b', 'c'], ['a', 'b', 'c']), null, 'added, waiting for them to write')
  t.alike(nextStep(['a', 'b'], ['c'], ['b', 'c']), null, 'a stays until c is active')
  t.alike(nextStep(['a', 'b', 'c'], [], ['b', 'c']), { kind: 'remove', writers: ['a'] })
  t.alike(
    nextStep(['a'], [], ['b']),
    { kind: 'add', writers: ['b'] },
    'add before removing the last'
  )
  t.alike(nextStep(['a', 'b'], [], ['b']), { kind: 'remove', writers: ['a'] })
  t.alike(
    nextStep(['a'], ['x'], ['a']),
    { kind: 'remove', writers: ['x'] },
    'a pending one no longer wanted'
  )
  t.is(nextStep(['a'], [], []), null, 'nobody wanted: keep what there is')
  t.is(nextStep(['a', 'b', 'c'], [], ['c', 'a', 'b']), null)
})
