/** Control methods for credits and achievements. */
import { defined, optStr, str } from '../params.js'
import type { Table } from './table.js'

type CreditsMethod = 'credits.show' | 'credits.explain' | 'achievements.list'

export const creditsMethods: Table<CreditsMethod> = {
  'credits.show': {
    parse: (p) => defined({ project: optStr(p, 'project') }),
    run: (p, { app }) => app.credits.credits(p.project)
  },
  'credits.explain': {
    parse: (p) => ({ project: str(p, 'project'), member: str(p, 'member') }),
    run: (p, { app }) => app.credits.explain(p.project, p.member)
  },
  'achievements.list': {
    parse: (p) => defined({ project: optStr(p, 'project'), member: optStr(p, 'member') }),
    run: (p, { app }) => app.credits.achievements(p.project, p.member)
  }
}
