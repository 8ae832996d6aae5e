/** Control methods inside a project: names, posts, tasks, records. */
import { FluxError } from '../../errors.js'
import type { JsonValue } from '../../autobase/shapes.js'
import { defined, optBool, optNum, optStr, str } from '../params.js'
import type { Table } from './table.js'

type ContentMethod =
  | 'member.name'
  | 'post.add'
  | 'post.feed'
  | 'task.add'
  | 'task.set'
  | 'task.list'
  | 'kv.set'
  | 'kv.get'
  | 'kv.del'
  | 'kv.list'

const project = (p: Record<string, unknown>): { project: string } => ({
  project: str(p, 'project')
})

export const contentMethods: Table<ContentMethod> = {
  'member.name': {
    parse: (p) => ({ ...project(p), name: str(p, 'name') }),
    run: (p, { app }) => app.content.setName(p.project, p.name)
  },
  'post.add': {
    parse: (p) => ({
      ...project(p),
      text: str(p, 'text'),
      ...defined({ replyTo: optStr(p, 'replyTo') })
    }),
    run: (p, { app }) => app.content.post(p.project, p.text, p.replyTo)
  },
  'post.feed': {
    parse: (p) => ({ ...project(p), ...defined({ limit: optNum(p, 'limit') }) }),
    run: ({ project, ...opts }, { app }) => app.content.feed(project, opts)
  },
  'task.add': {
    parse: (p) => ({
      ...project(p),
      title: str(p, 'title'),
      ...defined({ assignee: optStr(p, 'assignee') })
    }),
    run: (p, { app }) => app.content.addTask(p.project, p.title, p.assignee)
  },
  'task.set': {
    parse: (p) => ({
      ...project(p),
      id: str(p, 'id'),
      ...defined({ title: optStr(p, 'title'), done: optBool(p, 'done') }),
      ...(p.assignee === null ? { assignee: null } : defined({ assignee: optStr(p, 'assignee') }))
    }),
    run: ({ project, id, ...change }, { app }) => app.content.setTask(project, id, change)
  },
  'task.list': {
    parse: project,
    run: (p, { app }) => app.content.tasks(p.project)
  },
  'kv.set': {
    parse: (p) => {
      if (!('value' in p)) throw new FluxError('INVALID_INPUT', 'missing value')
      return { ...project(p), key: str(p, 'key'), value: p.value as JsonValue }
    },
    run: (p, { app }) => app.content.kvSet(p.project, p.key, p.value)
  },
  'kv.get': {
    parse: (p) => ({ ...project(p), key: str(p, 'key') }),
    run: (p, { app }) => app.content.kvGet(p.project, p.key)
  },
  'kv.del': {
    parse: (p) => ({ ...project(p), key: str(p, 'key') }),
    run: (p, { app }) => app.content.kvDel(p.project, p.key)
  },
  'kv.list': {
    parse: project,
    run: (p, { app }) => app.content.kvList(p.project)
  }
}
