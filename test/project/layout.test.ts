import test from 'brittle'
import { mesh, converged } from '../helpers/index.js'
import { encodeOp } from '../../src/autobase/envelope.js'
import { Keys, PAGE_BYTES, PAGE_POSTS } from '../../src/views/project.js'
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

test('layout 2 - posts in pages: far fewer view blocks than layout 1, the same feed on every peer', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create(), await m.create()]
  const paged = await a.app.projects.create({ name: 'paged' })
  const flat = await a.app.projects.create({ name: 'flat', layout: 1 })
  const pa = await a.node.projects.resolve(paged.key)
  const fa = await a.node.projects.resolve(flat.key)
  await burst(pa, 300, 50, 'post')
  await burst(fa, 300, 50, 'post')

  const kinds = await keyKinds(pa)
  t.is(kinds.post, undefined, 'layout 2 keeps no record per post')
  t.is(kinds.feed, undefined, 'nor a feed entry per post')
  t.is(kinds.page, Math.ceil(300 / PAGE_POSTS), `posts in ${kinds.page} pages of ${PAGE_POSTS}`)
  const flatKinds = await keyKinds(fa)
  t.is(flatKinds.post, 300, 'layout 1 is kept as it was: a record per post')
  t.is(flatKinds.page, undefined)
  const blocks = pa.bee.core.length
  const flatBlocks = fa.bee.core.length
  t.ok(
    blocks * 10 < flatBlocks,
    `same 300 posts: ${blocks} view blocks in layout 2, ${flatBlocks} in layout 1`
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

test('layout 2 - replies name their parent by id and number; a wrong number is skipped on every peer', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create(), await m.create()]
  const { key } = await a.app.projects.create({ name: 'replies' })
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
  const wrong = pb.makeOp({ type: 'post/add', text: 'wrong page', replyTo: first.id, replyAt: 40 })
  const ahead = pb.makeOp({ type: 'post/add', text: 'ahead', replyTo: first.id, replyAt: 999 })
  const none = pb.makeOp({ type: 'post/add', text: 'no number', replyTo: first.id })
  for (const op of [wrong, ahead, none]) await pb.appendRaw(encodeOp(op))
  await b.app.content.post(key, 'after them')
  await converged([a, b], key)
  for (const p of [pa, pb]) {
    const reasons = (await p.view.skipped()).map((s) => s.reason)
    t.alike(reasons, Array(3).fill('reply to an unknown post'), 'the three skipped, with a reason')
    t.is(await p.view.rejection(wrong.id), 'reply to an unknown post', 'its author can see why')
    const texts = (await p.view.feed()).map((x) => x.text)
    t.ok(texts.includes('after them') && !texts.includes('wrong page'), 'the rest applies')
  }
})

test('layout 2 - a page closes at its post or byte bound', async (t) => {
  const m = await mesh(t)
  const a = await m.create()
  const { key } = await a.app.projects.create({ name: 'big posts' })
  const p = await a.node.projects.resolve(key)
  const big = 'x'.repeat(3900)
  const perPage = Math.floor(PAGE_BYTES / (big.length + 200))
  for (let i = 0; i < perPage + 2; i++) await a.app.content.post(key, big)
  const pages: number[] = []
  for await (const e of p.bee.createReadStream({ gte: Keys.pagePrefix, lt: 'page0' })) {
    pages.push((e.value as unknown[]).length)
    t.ok(JSON.stringify(e.value).length <= PAGE_BYTES, `page ${e.key} within ${PAGE_BYTES} bytes`)
  }
  t.ok(pages.length >= 2 && pages[0]! < PAGE_POSTS, `closed by bytes: ${pages.join(', ')} posts`)
  t.is((await a.app.content.feed(key)).length, perPage + 2, 'every post is read back')
})

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
