import test from 'brittle'
import { mesh, converged } from '../helpers/index.js'

test('project - create, invite, join, post and converge (two nodes)', async (t) => {
  const m = await mesh(t)
  const a = await m.create()
  const b = await m.create()
  const created = await a.app.projects.create({ name: 'Solar kiln', description: 'a kiln' })
  t.is(created.name, 'Solar kiln')
  t.is(created.role, 'admin')
  const invite = await a.app.projects.invite(created.key)
  t.ok(invite.code.length > 60, 'invite code printed')
  const joined = await b.app.projects.join(invite.code)
  t.is(joined.key, created.key, 'joined the same project')
  t.ok(joined.writable, 'joiner is a writer')
  await a.app.content.post(created.key, 'hello from a')
  await b.app.content.post(created.key, 'hello from b')
  await converged([a, b], created.key)
  const feed = await b.app.content.feed(created.key)
  t.alike(feed.map((p) => p.text).sort(), ['hello from a', 'hello from b'])
  // the same order, authors and sequence numbers on both: one linearization
  const line = (f: typeof feed) => f.map((p) => `${p.seq}:${p.author}:${p.text}`)
  t.alike(line(await a.app.content.feed(created.key)), line(feed), 'one feed, in one order')
  t.is(new Set(feed.map((p) => p.author)).size, 2, 'written by two profiles')
})
