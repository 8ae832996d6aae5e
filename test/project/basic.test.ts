import test from 'brittle'
import { mesh, converged, until } from '../helpers/index.js'

test('project - create, invite, join, post and converge (two nodes)', async (t) => {
  const m = await mesh(t)
  const a = await m.create()
  const b = await m.create()
  const created = await a.node.createProject({ name: 'Solar kiln', description: 'a kiln' })
  t.is(created.name, 'Solar kiln')
  t.is(created.role, 'admin')
  const invite = await a.node.invite(created.key)
  t.ok(invite.code.length > 60, 'invite code printed')
  const joined = await b.node.join(invite.code)
  t.is(joined.key, created.key, 'joined the same project')
  t.ok(joined.writable, 'joiner is a writer')
  await a.actions.post(created.key, 'hello from a')
  await b.actions.post(created.key, 'hello from b')
  const hash = await converged([a, b], created.key)
  t.ok(hash.length === 64, 'views identical')
  const feed = await b.actions.feed(created.key)
  t.alike(feed.map((p) => p.text).sort(), ['hello from a', 'hello from b'])
  await until(a.node, async () => (await a.actions.feed(created.key)).length === 2)
})
