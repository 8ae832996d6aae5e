import test from 'brittle'
import type { BaseSystem } from '../../src/autobase/runner.js'
import { openAddBase, viewEntries } from '../helpers/add-base.js'

// A burst (ops appended in one tick, none awaited before the next) goes out as one writer
// block: fewer signatures, fewer blocks for every peer to download and apply. The flush starts
// a microtask after the first append (DESIGN.md "Speed", item 5, "One block per burst").

test('burst - ops appended in one tick are one writer block; awaited one by one, one block each', async (t) => {
  const { store, base } = await openAddBase(await t.tmp(), null, { batches: true })
  const local = base.base.local
  const start = local.length

  const burst: Promise<unknown>[] = []
  for (let n = 0; n < 100; n++) burst.push(base.append({ type: 'add' }))
  await Promise.all(burst)
  t.is(local.length - start, 1, 'a burst of 100 ops: one block')

  const before = local.length
  for (let n = 0; n < 3; n++) await base.append({ type: 'add' })
  t.is(local.length - before, 3, 'three ops awaited one by one: three blocks')

  await base.update()
  const sys = (await base.bee.get('sys'))?.value as BaseSystem
  t.is(sys.applied, 103, 'every op applied')
  t.is((await viewEntries(base, 'add/')).length, 103, 'every op in the view')
  await base.close()
  await store.close()
})
