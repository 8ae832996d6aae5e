import test from 'brittle'
import { mesh, converged } from '../helpers/index.js'
import { encodeOp } from '../../src/autobase/envelope.js'
import {
  Keys,
  PAGE3_BYTES,
  PAGE3_POSTS,
  PAGE_BYTES,
  PAGE_POSTS,
  pagePosts
} from '../../src/views/project.js'
import type { Project } from '../../src/project/project.js'

/** The view's keys by their first segment (`page`, `post`, `feed`...), counted. */
async function keyKinds(p: Project): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for await (const e of p.bee.createReadStream()) {
    const kind = e.key.split('/')[0] as string
    out[kind] = (out[kind] ?? 0) + 1
  }
  return out
}

/** Post `n` texts in bursts of `burst` concurrent posts (one Autobase batch each, mostly). */
async function burst(p: Project, n: number, burst: number, prefix: string): Promise<void> {
  for (let i = 0; i < n; i += burst) {
    const all = []
    for (let j = i; j < Math.min(n, i + burst); j++) {
      all.push(p.append({ type: 'post/add', text: `${prefix} ${j}`, replyTo: null }))
    }
    await Promise.all(all)
  }
  await p.update()
}

/** The view's page writes: blocks written under `page/`, distinct pages, and their bytes. */
async function pageWrites(p: Project): Promise<{ blocks: number; pages: number; bytes: number }> {
  const keys = new Set<string>()
  let blocks = 0
  let bytes = 0
  for await (const e of p.bee.createHistoryStream()) {
    if (!e.key.startsWith(Keys.pagePrefix)) continue
    blocks++
    keys.add(e.key)
    bytes += (await p.bee.core.get(e.seq))!.byteLength
  }
  return { blocks, pages: keys.size, bytes }
}

test('layout 3 - posts in pages: far fewer view blocks than layout 1, fewer bytes than layout 2, the same feed on every peer', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create(), await m.create()]
  const paged = await a.app.projects.create({ name: 'paged' })
  const two = await a.app.projects.create({ name: 'two', layout: 2 })
  const flat = await a.app.projects.create({ name: 'flat', layout: 1 })
  const pa = await a.node.projects.resolve(paged.key)
  const ta = await a.node.projects.resolve(two.key)
  const fa = await a.node.projects.resolve(flat.key)
  t.is((await pa.view.system()).layout, 3, 'a new project is made in layout 3')
  t.is((await pa.view.system()).causal, 3, 'under causal rule 3')
  t.is((await fa.view.system()).causal, undefined, 'a layout 1 project keeps causal rule 1')
  await burst(pa, 300, 50, 'post')
  await burst(ta, 300, 50, 'post')
  await burst(fa, 300, 50, 'post')

  const kinds = await keyKinds(pa)
  t.is(kinds.post, undefined, 'layout 3 keeps no record per post')
  t.is(kinds.feed, undefined, 'nor a feed entry per post')
  const writes = await pageWrites(pa)
  t.is(writes.blocks, writes.pages, `each of the ${writes.pages} pages written once`)
  // a page per apply call (one writer block: a burst is one block), more for a long burst
  t.ok(
    writes.pages <= pa.base.local.length + Math.ceil(300 / PAGE3_POSTS),
    `${writes.pages} pages for ${pa.base.local.length} writer blocks`
  )
  const flatKinds = await keyKinds(fa)
  t.is(flatKinds.post, 300, 'layout 1 is kept as it was: a record per post')
  t.is(flatKinds.page, undefined)
  const blocks = pa.bee.core.length
  const flatBlocks = fa.bee.core.length
  t.ok(
    blocks * 8 < flatBlocks,
    `same 300 posts: ${blocks} view blocks in layout 3, ${flatBlocks} in layout 1`
  )
  const twoWrites = await pageWrites(ta)
  t.ok(
    writes.bytes * 1.5 < twoWrites.bytes,
    `same 300 posts: ${writes.bytes} bytes of pages in layout 3, ${twoWrites.bytes} in layout 2`
  )
  t.alike(
    (await pa.view.feed()).map((p) => [p.seq, p.text, p.author, p.device]),
    (await ta.view.feed()).map((p) => [p.seq, p.text, p.author, p.device]),
    'layouts 2 and 3 read as the same posts'
  )

  // a late joiner reads the same feed, in the same order, with the same state hash
  await b.app.projects.join((await a.app.projects.invite(paged.key)).code)
  await converged([a, b], paged.key)
  const feed = await b.app.content.feed(paged.key)
  t.is(feed.length, 300)
  t.alike(
    feed.map((p) => p.seq),
    [...feed.map((p) => p.seq)].sort((x, y) => x - y),
    'feed order is apply order'
  )
  t.alike(
    (await a.app.content.feed(paged.key)).map((p) => `${p.seq}:${p.id}:${p.text}`),
    feed.map((p) => `${p.seq}:${p.id}:${p.text}`),
    'one feed on both peers'
  )
  t.alike(
    (await b.app.content.feed(paged.key, { limit: 40 })).map((p) => p.text),
    feed.slice(-40).map((p) => p.text),
    'the latest 40, across a page boundary'
  )
})

test('layout 3 - posts one by one: a page each, never written again (layout 2 rewrote its open page)', async (t) => {
  const m = await mesh(t)
  const a = await m.create()
  const three = await a.app.projects.create({ name: 'three' })
  const two = await a.app.projects.create({ name: 'two', layout: 2 })
  for (const { key } of [three, two]) {
    for (let i = 0; i < 40; i++) await a.app.content.post(key, `one by one ${i}`)
  }
  const p3 = await pageWrites(await a.node.projects.resolve(three.key))
  const p2 = await pageWrites(await a.node.projects.resolve(two.key))
  t.is(p3.blocks, 40, 'one page block per post')
  t.is(p3.pages, 40, 'none written twice')
  t.is(p2.blocks, 40, 'layout 2: one page write per post too...')
  t.is(p2.pages, 2, '...rewriting its two pages')
  t.ok(p3.bytes * 4 < p2.bytes, `${p3.bytes} bytes of pages in layout 3, ${p2.bytes} in layout 2`)
  for (const { key } of [three, two]) {
    const feed = await a.app.content.feed(key)
    t.alike(
      feed.map((x) => x.text),
      Array.from({ length: 40 }, (_, i) => `one by one ${i}`)
    )
  }
})

test('layout 3 - a post is read back where apply put it; a number a reorder changed is found again', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create(), await m.create()]
  const { key } = await a.app.projects.create({ name: 'read back' })
  const pa = await a.node.projects.resolve(key)

  // a burst: every caller gets its own post back (read-backs of one page share its read)
  const texts = Array.from({ length: 60 }, (_, i) => `burst ${i}`)
  const got = await Promise.all(texts.map((x) => a.app.content.post(key, x)))
  t.alike(
    got.map((p) => p.text),
    texts,
    'each read-back is its own post'
  )
  // one post: read back from the page apply named, with no scan of the pages
  let scans = 0
  const scan = pa.bee.createReadStream.bind(pa.bee)
  pa.bee.createReadStream = ((...args: Parameters<typeof scan>) => {
    if (args[0]?.gte?.toString().startsWith(Keys.pagePrefix)) scans++ // not other services'
    return scan(...args)
  }) as typeof scan
  const one = await a.app.content.post(key, 'one more')
  pa.bee.createReadStream = scan
  t.is(one.text, 'one more')
  t.is(scans, 0, 'no page scan for the read-back')

  // a number is checked on use: a wrong one, or a page that is not there, is found again (a
  // is the only writer so far: no apply runs meanwhile to hint the right number again)
  const feed = await pa.view.feed()
  const [first, last] = [feed[0]!, feed.at(-1)!]
  let other = 0 // the first number of the last page: another post's
  for await (const e of pa.bee.createReadStream({ gte: Keys.pagePrefix, lt: 'page0' })) {
    other = Number(e.key.slice(Keys.pagePrefix.length))
  }
  t.ok(other > 1, `the last page starts at post ${other}`)
  pa.view.hint(first.id, other, other)
  pa.view.hint(last.id, 9999, 9990)
  t.alike(await pa.view.postAt(first.id), { post: first, n: 1 }, 'a wrong number')
  t.alike(await pa.view.postAt(last.id), { post: last, n: feed.length }, 'a page not there')

  // both post while apart (each numbers its post the same): merged, one is renumbered
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  await converged([a, b], key)
  await b.node.network.pause()
  const fromA = await a.app.content.post(key, 'a, apart')
  const fromB = await b.app.content.post(key, 'b, apart')
  const pb = await b.node.projects.resolve(key)
  const apart = [(await pa.view.postAt(fromA.id))?.n, (await pb.view.postAt(fromB.id))?.n]
  t.is(apart[0], apart[1], `both numbered ${apart[0]} while apart`)
  await b.node.network.resume()
  await converged([a, b], key)
  for (const n of [a, b]) {
    const p = await n.node.projects.resolve(key)
    const all = (await p.view.feed()).map((x) => x.id)
    for (const id of [fromA.id, fromB.id]) {
      const at = await p.view.postAt(id)
      t.is(
        at?.n,
        all.indexOf(id) + 1,
        `${n === a ? 'a' : 'b'} finds ${id.slice(0, 6)} at its number`
      )
    }
  }
})

for (const layout of [2, 3] as const) {
  test(`layout ${layout} - replies name their parent by id and number; a wrong number is skipped on every peer`, async (t) => {
    const m = await mesh(t)
    const [a, b] = [await m.create(), await m.create()]
    const { key } = await a.app.projects.create({ name: 'replies', layout })
    await b.app.projects.join((await a.app.projects.invite(key)).code)
    const pa = await a.node.projects.resolve(key)
    await burst(pa, 70, 35, 'early')
    const first = (await a.app.content.feed(key))[0]!
    // by a unique prefix of its id, as a person types it
    const reply = await b.app.content.post(key, 'a late reply', first.id.slice(0, 8))
    t.is(reply.replyTo, first.id, 'the reply names the first post')
    await converged([a, b], key)
    t.alike(
      (await pa.view.replies(first.id)).map((p) => p.text),
      ['a late reply'],
      'found through its number'
    )
    // a reply whose number does not hold its parent, and one past the last post
    const pb = await b.node.projects.resolve(key)
    const wrong = pb.makeOp({
      type: 'post/add',
      text: 'wrong page',
      replyTo: first.id,
      replyAt: 40
    })
    const ahead = pb.makeOp({ type: 'post/add', text: 'ahead', replyTo: first.id, replyAt: 999 })
    const none = pb.makeOp({ type: 'post/add', text: 'no number', replyTo: first.id })
    for (const op of [wrong, ahead, none]) await pb.appendRaw(encodeOp(op))
    await b.app.content.post(key, 'after them')
    await converged([a, b], key)
    for (const p of [pa, pb]) {
      const reasons = (await p.view.skipped()).map((s) => s.reason)
      t.alike(
        reasons,
        Array(3).fill('reply to an unknown post'),
        'the three skipped, with a reason'
      )
      t.is(await p.view.rejection(wrong.id), 'reply to an unknown post', 'its author can see why')
      const texts = (await p.view.feed()).map((x) => x.text)
      t.ok(texts.includes('after them') && !texts.includes('wrong page'), 'the rest applies')
    }
  })
}

for (const layout of [2, 3] as const) {
  test(`layout ${layout} - a page closes at its post or byte bound`, async (t) => {
    const m = await mesh(t)
    const a = await m.create()
    const { key } = await a.app.projects.create({ name: 'big posts', layout })
    const p = await a.node.projects.resolve(key)
    const [maxPosts, maxBytes] =
      layout === 2 ? [PAGE_POSTS, PAGE_BYTES] : [PAGE3_POSTS, PAGE3_BYTES]
    const big = 'x'.repeat(3900)
    const perPage = Math.floor(maxBytes / (big.length + 200))
    const n = perPage + 2
    if (layout === 2) {
      for (let i = 0; i < n; i++) await a.app.content.post(key, big)
    } else {
      // layout 3 pages are per apply call: one burst, one writer block
      await Promise.all(Array.from({ length: n + 1 }, () => a.app.content.post(key, big)))
    }
    const pages: number[] = []
    let fullest = 0
    for await (const e of p.bee.createReadStream({ gte: Keys.pagePrefix, lt: 'page0' })) {
      pages.push(pagePosts(e.value)!.length)
      const bytes = JSON.stringify(e.value).length
      fullest = Math.max(fullest, bytes)
      t.ok(bytes <= maxBytes, `page ${e.key} within ${maxBytes} bytes`)
    }
    t.ok(
      pages.length >= 2 && Math.max(...pages) < maxPosts && fullest + big.length > maxBytes,
      `closed by bytes, not by count: ${pages.join(', ')} posts, the fullest ${fullest} bytes`
    )
    const total = pages.reduce((x, y) => x + y, 0)
    t.ok(total >= n, `${total} posts in pages`)
    t.is((await a.app.content.feed(key)).length, total, 'every post is read back')
  })
}

test('layout 1 - a project made before layout 2 keeps working: posts, replies, a repeated post op ignored', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create(), await m.create()]
  const { key } = await a.app.projects.create({ name: 'old', layout: 1 })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  const pb = await b.node.projects.resolve(key)
  const op = pb.makeOp({ type: 'post/add', text: 'once', replyTo: null })
  await pb.appendRaw(encodeOp(op))
  await pb.appendRaw(encodeOp(op))
  await converged([a, b], key)
  const reply = await a.app.content.post(key, 'a reply', op.id)
  await converged([a, b], key)
  for (const n of [a, b]) {
    const feed = await n.app.content.feed(key)
    t.alike(
      feed.map((x) => x.text),
      ['once', 'a reply'],
      'the repeated op applied once'
    )
    const p = await n.node.projects.resolve(key)
    t.is((await p.view.system()).layout, undefined, 'still layout 1')
    t.is((await p.view.post(reply.id))?.replyTo, op.id)
  }
})
