/** Control methods for projects as a whole. */
import { defined, optBool, optNum, optRole, optStr, str } from '../params.js'
import { none, type Table } from './table.js'

type ProjectMethod =
  | 'project.create'
  | 'project.invite'
  | 'project.join'
  | 'project.join.cancel'
  | 'project.list'
  | 'project.invites'
  | 'project.uninvite'
  | 'project.show'
  | 'project.leave'
  | 'project.archive'
  | 'project.set'
  | 'project.role'

export const projectMethods: Table<ProjectMethod> = {
  'project.create': {
    parse: (p) => ({
      name: str(p, 'name'),
      ...defined({ description: optStr(p, 'description') }),
      public: optBool(p, 'public') ?? false
    }),
    run: (p, { app }) => app.projects.create(p)
  },
  'project.invite': {
    parse: (p) => ({
      project: str(p, 'project'),
      ...defined({
        role: optRole(p, 'role'),
        expires: optNum(p, 'expires'),
        uses: optNum(p, 'uses')
      })
    }),
    run: ({ project, ...opts }, { app }) => app.projects.invite(project, opts)
  },
  'project.join': {
    parse: (p) => ({
      code: str(p, 'code'),
      ...defined({ project: optStr(p, 'project'), timeout: optNum(p, 'timeout') })
    }),
    run: ({ code, ...opts }, { app, progress }) =>
      app.projects.join(code, { ...opts, onProgress: progress })
  },
  'project.join.cancel': {
    parse: (p) => ({ code: str(p, 'code') }),
    run: async ({ code }, { app }) => app.projects.cancelJoin(code)
  },
  'project.list': none(({ app }) => app.projects.summaries()),
  'project.invites': {
    parse: (p) => ({ project: str(p, 'project') }),
    run: ({ project }, { app }) => app.projects.invites(project)
  },
  'project.uninvite': {
    parse: (p) => ({ project: str(p, 'project'), invite: str(p, 'invite') }),
    run: ({ project, invite }, { app }) => app.projects.uninvite(project, invite)
  },
  'project.show': {
    parse: (p) => ({ project: str(p, 'project') }),
    run: ({ project }, { app }) => app.projects.show(project)
  },
  'project.leave': {
    parse: (p) => ({ project: str(p, 'project'), ...defined({ force: optBool(p, 'force') }) }),
    run: ({ project, force }, { app }) => app.projects.leave(project, { force: force === true })
  },
  'project.archive': {
    parse: (p) => ({
      project: str(p, 'project'),
      ...defined({ archived: optBool(p, 'archived') })
    }),
    run: ({ project, archived }, { app }) => app.content.archive(project, archived ?? true)
  },
  'project.set': {
    parse: (p) => ({
      project: str(p, 'project'),
      ...defined({
        name: optStr(p, 'name'),
        description: optStr(p, 'description'),
        replicas: optNum(p, 'replicas'),
        decay: optNum(p, 'decay')
      })
    }),
    run: ({ project, ...change }, { app }) => app.content.setProject(project, change)
  },
  'project.role': {
    parse: (p) => ({
      project: str(p, 'project'),
      member: str(p, 'member'),
      ...defined({ role: optRole(p, 'role') })
    }),
    run: ({ project, member, role }, { app }) =>
      app.content.setRole(project, member, role ?? 'member')
  }
}
