import test from 'brittle'
import { mesh, converged, until } from '../helpers/index.js'

test('project - three nodes: concurrent posts and task edits converge; an offline node catches up', async (t) => {
  const m = await mesh(t)
  const a = await m.create()
  const b = await m.create()
  const cHome = await t.tmp()
  let c = await m.create({ home: cHome })
  const { key } = await a.app.projects.create({ name: 'Solar kiln' })
  const inviteB = await a.app.projects.invite(key)
  const inviteC = await a.app.projects.invite(key)
  await Promise.all([b.app.projects.join(inviteB.code), c.app.projects.join(inviteC.code)])

  const task = await a.app.content.addTask(key, 'Build the frame')
  await until(b.node, async () => (await b.node.projects.resolve(key)).view.task(task.id))
  await Promise.all([
    ...[a, b, c].map((n, i) => n.app.content.post(key, `post from node ${i + 1}`)),
    b.app.content.setTask(key, task.id.slice(0, 8), { done: true }),
    c.app.content.setTask(key, task.id, { assignee: 'me' })
  ])
  const h1 = await converged([a, b, c], key)
  const feeds = await Promise.all([a, b, c].map((n) => n.app.content.feed(key)))
  const line = (f: (typeof feeds)[0]) => f.map((p) => `${p.seq}:${p.text}`).join('|')
  t.is(line(feeds[1]!), line(feeds[0]!), 'b orders the concurrent posts as a does')
  t.is(line(feeds[2]!), line(feeds[0]!), 'and so does c')
  const tasks = await c.app.content.tasks(key)
  t.is(tasks[0]?.done, true, 'done flag merged')
  t.ok(tasks[0]?.assignee, 'assignee merged')

  // c goes offline; a and b keep writing; c comes back and catches up
  await c.node.close()
  for (let i = 0; i < 10; i++) await a.app.content.post(key, `while c was away ${i}`)
  await b.app.content.addTask(key, 'Seal the glass')
  c = await m.create({ home: cHome })
  const h2 = await converged([a, b, c], key)
  t.not(h2, h1, 'state moved on')
  const feed = await c.app.content.feed(key)
  t.is(feed.length, 13, 'c has every post after catching up')
  t.is((await c.app.content.tasks(key)).length, 2, 'and every task')
})
