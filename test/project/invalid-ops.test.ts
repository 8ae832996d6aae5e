import test from 'brittle'
import { mesh, converged, errorCode } from '../helpers/index.js'
import { MAX_OP_BYTES, type Op } from '../../src/project/ops.js'
import { encodeOp } from '../../src/autobase/envelope.js'
import { shapeOnlyProof } from '../helpers/fixtures.js'

test('invalid ops - bad shape, unknown type, wrong role, oversized: skipped on every peer; a replay changes nothing', async (t) => {
  const m = await mesh(t)
  const [a, b, c] = [await m.create(), await m.create(), await m.create()]
  const { key } = await a.app.projects.create({ name: 'robust' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  await c.app.projects.join((await a.app.projects.invite(key)).code)
  const pb = await b.node.projects.resolve(key)
  const raw = (v: unknown): Buffer => Buffer.from(JSON.stringify(v))
  const good = pb.makeOp({ type: 'post/add', text: 'valid before', replyTo: null })
  const task = pb.makeOp({ type: 'task/add', title: 'valid task', assignee: null })
  const bad: Buffer[] = [
    Buffer.from([0xde, 0xad, 0xbe, 0xef]), // not JSON
    raw({ v: 1, id: 'x', ts: 1, type: 'post/add', text: 'bad id', replyTo: null }), // bad shape
    raw({ ...pb.makeOp({ type: 'post/add', text: 'x', replyTo: null }), type: 'post/explode' }), // unknown type
    encodeOp(pb.makeOp({ type: 'project/set', field: 'name', value: 'hijacked', prev: null })), // wrong role
    encodeOp(
      pb.makeOp({
        type: 'member/add',
        role: 'admin',
        invite: null,
        as: shapeOnlyProof
      })
    ), // wrong role
    encodeOp(pb.makeOp({ type: 'project/archive', archived: true, prev: null })), // wrong role
    encodeOp({
      ...pb.makeOp({ type: 'post/add', text: 'y', replyTo: null }),
      text: 'z'.repeat(MAX_OP_BYTES)
    } as Op), // oversized
    encodeOp(
      pb.makeOp({ type: 'task/set', task: 'ab'.repeat(16), field: 'done', value: true, prev: null })
    ) // unknown task
  ]
  await pb.appendRaw(encodeOp(good))
  await pb.appendRaw(encodeOp(task))
  for (const block of bad) await pb.appendRaw(block)
  // an op repeated in a later block: ignored without a trace (a post repeated by its own
  // writer is ignored only in layout 1, test/project/layout.test.ts)
  await pb.appendRaw(encodeOp(task))
  await b.app.content.post(key, 'valid after')
  await a.app.content.post(key, 'admin still works')
  await converged([a, b, c], key)
  for (const n of [a, b, c]) {
    const p = await n.node.projects.resolve(key)
    const sys = await p.view.system()
    t.is(sys.skipped, bad.length, `every bad op skipped (${sys.skipped})`)
    const info = await p.view.project()
    t.is(info?.name.value, 'robust', 'name not hijacked')
    t.is(info?.archived.value, false, 'not archived by a member')
    t.alike(
      (await n.app.content.feed(key)).map((x) => x.text).sort(),
      ['admin still works', 'valid after', 'valid before'],
      'valid posts applied once each'
    )
    t.alike(
      (await n.app.content.tasks(key)).map((x) => x.title),
      ['valid task'],
      'the repeated task op applied once'
    )
  }
  const reasons = (await pb.view.skipped()).map((s) => s.reason)
  t.ok(
    reasons.includes('requires the admin role') &&
      reasons.includes('unknown task') &&
      !reasons.some((r) => r.includes('duplicate')),
    reasons.join('; ')
  )
})

test('invalid ops - a block nested thousands of levels deep is skipped everywhere; the project keeps working', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create(), await m.create()]
  const { key } = await a.app.projects.create({ name: 'robust' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  const pb = await b.node.projects.resolve(key)
  // a modified client: a kv/set whose value nests 6000 deep, alone and inside a batch
  const op = pb.makeOp({ type: 'kv/set', key: 'k', value: null, prev: null })
  const deep = `${'['.repeat(6000)}${']'.repeat(6000)}`
  const poison = JSON.stringify(op).replace('"value":null', `"value":${deep}`)
  await pb.appendRaw(Buffer.from(poison))
  const good = pb.makeOp({ type: 'post/add', text: 'next to the poison', replyTo: null })
  await pb.appendRaw(
    Buffer.from(
      `{"v":1,"batch":[${poison.replace(op.id, 'ab'.repeat(16))},${JSON.stringify(good)}]}`
    )
  )
  await b.app.content.post(key, 'after the poison')
  await converged([a, b], key)
  for (const n of [a, b]) {
    const p = await n.node.projects.resolve(key)
    t.absent(p.closed, 'the project is open')
    const reasons = (await p.view.skipped()).map((s) => s.reason)
    t.alike(reasons, ['nested too deeply', 'nested too deeply'], 'both poison ops skipped')
    t.alike(
      (await n.app.content.feed(key)).map((x) => x.text),
      ['next to the poison', 'after the poison'],
      'their neighbours and later ops apply'
    )
    t.is((await n.app.status()).projects.length, 1, 'flux status answers')
  }
})

test('invalid ops - control characters in text: skipped on every peer; newline and tab in a post kept', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create(), await m.create()]
  const { key } = await a.app.projects.create({ name: 'clean' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  const [pa, pb] = [await a.node.projects.resolve(key), await b.node.projects.resolve(key)]
  // a modified client: text meant to recolour, retitle the window or fake lines when printed
  const fromB = [
    pb.makeOp({ type: 'post/add', text: 'hi\x1b[31m red from here on', replyTo: null }),
    pb.makeOp({ type: 'post/add', text: 'fake\r0a1b2c3d  Ada  just now', replyTo: null }),
    pb.makeOp({ type: 'post/add', text: 'C1 \u009b2J clears the screen', replyTo: null }),
    pb.makeOp({ type: 'member/name', name: 'Bob\x1b]0;pwned\x07', prev: null }),
    pb.makeOp({ type: 'member/name', name: 'Bob\n[x] fake done', prev: null }),
    pb.makeOp({ type: 'task/add', title: 'ship\n[x] 0a1b2c3d  fake done task', assignee: null }),
    pb.makeOp({ type: 'task/add', title: 'tab\there', assignee: null }),
    pb.makeOp({ type: 'kv/set', key: 'k\x1b[2J', value: 1, prev: null })
  ]
  const fromA = [
    pa.makeOp({ type: 'project/set', field: 'name', value: 'x\x1b[8m', prev: null }),
    pa.makeOp({ type: 'project/set', field: 'description', value: 'bell\x07', prev: null })
  ]
  for (const op of fromB) await pb.appendRaw(encodeOp(op))
  for (const op of fromA) await pa.appendRaw(encodeOp(op))
  const lines = 'line one\n\tindented line two'
  await b.app.content.post(key, lines)
  await a.app.content.post(key, 'admin still posts')
  await converged([a, b], key)
  for (const n of [a, b]) {
    const p = await n.node.projects.resolve(key)
    const sys = await p.view.system()
    t.is(
      sys.skipped,
      fromA.length + fromB.length,
      `every op with controls skipped (${sys.skipped})`
    )
    const reasons = (await p.view.skipped()).map((s) => s.reason)
    t.ok(
      reasons.every((r) => /control characters are not allowed/.test(r)),
      reasons.join('; ')
    )
    t.alike(
      (await n.app.content.feed(key)).map((x) => x.text).sort(),
      ['admin still posts', lines],
      'only the clean posts, newline and tab kept'
    )
    t.alike(
      (await n.app.content.tasks(key)).map((x) => x.title),
      [],
      'no task with a control character'
    )
    const info = await p.view.project()
    t.is(info?.name.value, 'clean', 'the name is unchanged')
  }
  const local = await errorCode(b.app.content.post(key, 'a local \x1b[31m post'))
  t.is(local, 'INVALID_INPUT', 'the node refuses its own op with controls up front')
})

test('invalid ops - objects where the checks print a value ({"toString":1}) are skipped everywhere; status answers; a restart works', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create(), await m.create()]
  const { key } = await a.app.projects.create({ name: 'robust' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  const pb = await b.node.projects.resolve(key)
  // a modified client: String() of such an object throws "Cannot convert object to primitive
  // value"; the op checks once did it on the version and the type, and the project closed
  const poison = '{"toString":1,"valueOf":1}'
  const env = (id: string): string => `"id":"${id}","ts":${Date.now()}`
  const badVersion = `{"v":${poison},${env('a1'.repeat(16))},"type":"post/add","text":"x","replyTo":null}`
  const badType = `{"v":1,${env('a2'.repeat(16))},"type":${poison}}`
  const good = pb.makeOp({ type: 'post/add', text: 'next to the poison', replyTo: null })
  await pb.appendRaw(Buffer.from(badVersion))
  await pb.appendRaw(Buffer.from(badType))
  await pb.appendRaw(
    Buffer.from(
      `{"v":1,"batch":[${badType.replace('a2'.repeat(16), 'a3'.repeat(16))},${JSON.stringify(good)}]}`
    )
  )
  await b.app.content.post(key, 'after the poison')
  await converged([a, b], key)
  const expected = [
    'unsupported op version [object]',
    ...Array(2).fill('unknown op type "[object]"')
  ]
  for (const n of [a, b]) {
    const p = await n.node.projects.resolve(key)
    t.absent(p.base.closed, 'the project is open')
    t.is(p.failure, null, 'and has not failed')
    t.alike(
      (await p.view.skipped()).map((s) => s.reason),
      expected,
      'the same skips everywhere'
    )
    t.alike(
      (await n.app.content.feed(key)).map((x) => x.text),
      ['next to the poison', 'after the poison'],
      'the poison ops neighbours and later ops apply'
    )
    const status = await n.app.status()
    t.is(status.projects[0]?.error, null, 'flux status answers, the project works')
  }
  // a restart applies the same blocks again (the view is rebuilt from the logs on a new peer
  // and continued on the old one): still open, still writable
  const home = b.home
  await b.node.close()
  const b2 = await m.create({ home })
  const pb2 = await b2.node.projects.resolve(key)
  await b2.app.content.post(key, 'after the restart')
  await converged([a, b2], key)
  t.absent(pb2.base.closed, 'open after a restart')
  t.is((await a.app.content.feed(key)).length, 3, 'the restarted member still writes')
})

test('invalid ops - a project whose base stopped shows an error in the status; the others still answer', async (t) => {
  const m = await mesh(t)
  const a = await m.create()
  const broken = await a.app.projects.create({ name: 'broken' })
  const fine = await a.app.projects.create({ name: 'fine' })
  const p = await a.node.projects.resolve(broken.key)
  // what Autobase does to a base whose apply or storage fails: it closes it
  await p.base.close()
  const status = await a.app.status()
  const byKey = new Map(status.projects.map((s) => [s.key, s]))
  t.ok(
    /the project stopped/.test(byKey.get(broken.key)?.error ?? ''),
    String(byKey.get(broken.key)?.error)
  )
  t.is(byKey.get(fine.key)?.error, null, 'the other project works')
  t.is(byKey.get(fine.key)?.name, 'fine')
  t.is((await a.app.projects.summaries()).length, 2, 'flux project list answers too')
})
