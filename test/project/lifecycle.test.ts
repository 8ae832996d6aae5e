import test from 'brittle'
import fs from 'fs/promises'
import path from 'path'
import crypto from 'hypercore-crypto'
import { mesh, converged, until, errorCode as code } from '../helpers/index.js'
import { toHex } from '../../src/identity/keys.js'

test('lifecycle - restart: projects and data are all there', async (t) => {
  const m = await mesh(t)
  const aHome = await t.tmp()
  let a = await m.create({ home: aHome })
  const b = await m.create()
  const { key } = await a.app.projects.create({ name: 'durable' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  await a.app.content.post(key, 'before restart')
  await a.app.content.kvSet(key, 'kiln.temp', 740)
  const before = await converged([a, b], key)
  await a.node.close()
  a = await m.create({ home: aHome })
  const list = await a.app.projects.summaries()
  t.is(list.length, 1, 'project still held')
  t.is(list[0]?.name, 'durable')
  t.is(list[0]?.writable, true, 'still a writer')
  t.is(
    (await a.app.projects.describe(await a.node.projects.resolve(key))).stateHash,
    before,
    'same state after restart'
  )
  t.is((await a.app.content.kvGet(key, 'kiln.temp')).value, 740)
  await a.app.content.post(key, 'after restart')
  await converged([a, b], key)
  t.is((await b.app.content.feed(key)).length, 2)
})

test('lifecycle - archive makes a project read-only for everyone; history stays readable', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create(), await m.create()]
  const { key } = await a.app.projects.create({ name: 'done soon' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  await b.app.content.post(key, 'last words')
  t.is(await code(b.app.content.archive(key)), 'NOT_ALLOWED', 'a member cannot archive')
  await until(a.node, async () => (await a.app.content.feed(key)).length === 1)
  await a.app.content.archive(key)
  await until(
    b.node,
    async () => (await (await b.node.projects.resolve(key)).view.project())?.archived.value
  )
  t.is(await code(b.app.content.post(key, 'too late')), 'PROJECT_ARCHIVED')
  t.is(await code(a.app.content.addTask(key, 'too late')), 'PROJECT_ARCHIVED')
  t.alike(
    (await b.app.content.feed(key)).map((p) => p.text),
    ['last words'],
    'history readable'
  )
  await a.app.content.archive(key, false)
  await until(
    b.node,
    async () =>
      (await (await b.node.projects.resolve(key)).view.project())?.archived.value === false
  )
  t.is(await code(b.app.content.post(key, 'back')), 'OK', 'unarchived by an admin')
})

test('lifecycle - leave: the member is removed everywhere and the node deletes the project', async (t) => {
  const m = await mesh(t)
  const [a, b] = [await m.create(), await m.create()]
  const { key } = await a.app.projects.create({ name: 'p' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  await a.app.content.post(key, 'data b holds')
  await converged([a, b], key)
  const bProject = await b.node.projects.resolve(key)
  const bProfile = bProject.memberId
  const bWriter = bProject.writerId
  // every core b stores for the project: the writers, its own, the view and system cores
  const cores = [
    bProject.key,
    bProject.writerKey,
    bProject.base.view.core.key as Buffer,
    bProject.base.core.key as Buffer
  ]
  const stored = async (): Promise<boolean[]> =>
    Promise.all(cores.map((k) => b.node.store.storage.hasCore(crypto.discoveryKey(k))))
  t.alike(await stored(), [true, true, true, true], 'b stores the project cores')
  await b.app.projects.leave(key)
  t.is(b.node.projects.list().length, 0, 'forgotten locally')
  t.is(await code(b.node.projects.resolve(key)), 'PROJECT_NOT_FOUND')
  t.alike(await stored(), [false, false, false, false], "the project's cores are gone from disk")
  const state = JSON.parse(await fs.readFile(path.join(b.home, 'node.json'), 'utf-8'))
  t.absent(state.projects[toHex(bProject.key)], 'and from node.json')
  const removed = await until(a.node, async () => {
    const member = await (await a.node.projects.resolve(key)).view.member(bProfile)
    return member?.removed ? member : null
  })
  t.is((await a.app.projects.show(key)).members, 1, 'the other peer counts one member left')
  t.is(removed.role, 'member', 'the member record is kept, marked removed')
  t.ok((await (await a.node.projects.resolve(key)).view.writer(bWriter))?.removed, 'its writer too')
})
