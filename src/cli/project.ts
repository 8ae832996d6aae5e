/** `flux project ...`: create, invite, join, list, show, leave, archive, set, role. */
import type { ParamsOf } from '../control/methods.js'
import { arg as argument, command, flag, summary } from 'paparam'
import {
  arg,
  boolFlag,
  callNode,
  choice,
  durationFlag,
  intFlag,
  stringFlag,
  usageError,
  verb
} from './command.js'
import { formatDuration } from '../util/duration.js'
import { MAX_REPLICAS } from '../project/ops.js'
import { MAX_DECAY } from '../project/credits.js'
import { inviteList, projectDetail, projectList, projectName, short } from './output.js'
import { join } from './join.js'

const ROLES = ['member', 'admin'] as const

const create = verb(
  'create',
  [
    summary('Create a project; prints its key'),
    argument('<name>', 'the project name'),
    flag('--description <text>', 'what the project is about'),
    flag('--public', 'readable by anyone who has the key (default: private, encrypted)')
  ],
  async (inv, out) => {
    const params: ParamsOf<'project.create'> = {
      name: arg(inv, 'name'),
      public: boolFlag(inv, 'public')
    }
    const text = stringFlag(inv, 'description')
    if (text !== undefined) params.description = text
    const project = await callNode(inv, 'project.create', params)
    out.result(project, (p) => p.key)
  }
)

const invite = verb(
  'invite',
  [
    summary('Issue an invite code; prints the code'),
    argument('<project>', 'project key, key prefix or name'),
    flag('--role <role>', 'role given to who joins: member or admin (default: member)'),
    flag('--expires <duration>', 'lifetime, e.g. 30m, 1h, 2d (default: 24h)'),
    flag('--uses <n>', 'how many people may join with it (default: 1)')
  ],
  async (inv, out) => {
    const params: ParamsOf<'project.invite'> = { project: arg(inv, 'project') }
    const role = stringFlag(inv, 'role')
    if (role !== undefined) params.role = choice(role, '--role', ROLES)
    const expires = durationFlag(inv, 'expires')
    if (expires !== undefined) params.expires = expires
    const uses = intFlag(inv, 'uses', { min: 1, max: 1000 })
    if (uses !== undefined) params.uses = uses
    const created = await callNode(inv, 'project.invite', params)
    if (!out.json) {
      const left = formatDuration(created.expires - Date.now())
      out.note(`invite as ${created.role}, ${created.uses} use(s), expires in ${left}`)
    }
    out.result(created, (c) => c.code)
  }
)

const list = verb('list', [summary('List the projects this node holds')], async (inv, out) => {
  out.result(await callNode(inv, 'project.list', {}), projectList)
})

const show = verb(
  'show',
  [
    summary('Show a project: details, members, state hash'),
    argument('<project>', 'project key, key prefix or name')
  ],
  async (inv, out) => {
    const project = await callNode(inv, 'project.show', {
      project: arg(inv, 'project')
    })
    out.result(project, projectDetail)
  }
)

const leave = verb(
  'leave',
  [
    summary('Stop holding a project (a member also removes itself)'),
    argument('<project>', 'project key, key prefix or name'),
    flag('--force', 'leave even if no member is online to take over signing')
  ],
  async (inv, out) => {
    const left = await callNode(inv, 'project.leave', {
      project: arg(inv, 'project'),
      ...(boolFlag(inv, 'force') ? { force: true } : {})
    })
    out.result(left, (l) => `left ${l.key}`)
  }
)

const archive = verb(
  'archive',
  [
    summary('Archive a project (read-only for everyone); admins only'),
    argument('<project>', 'project key, key prefix or name'),
    flag('--undo', 'unarchive it')
  ],
  async (inv, out) => {
    const archived = !boolFlag(inv, 'undo')
    const project = await callNode(inv, 'project.archive', {
      project: arg(inv, 'project'),
      archived
    })
    out.result(
      project,
      (p) => `${archived ? 'archived' : 'unarchived'} ${projectName(p)} (${p.key})`
    )
  }
)

const set = verb(
  'set',
  [
    summary("Change a project's name, description, replica target or credit decay; admins only"),
    argument('<project>', 'project key, key prefix or name'),
    flag('--name <name>', 'new name'),
    flag('--description <text>', 'new description'),
    flag('--replicas <n>', `full live copies its group keeps (1 to ${MAX_REPLICAS}, default 3)`),
    flag('--decay <percent>', `credits taken off per idle epoch (0 to ${MAX_DECAY}, default 0)`)
  ],
  async (inv, out) => {
    const params: ParamsOf<'project.set'> = { project: arg(inv, 'project') }
    const name = stringFlag(inv, 'name')
    const text = stringFlag(inv, 'description')
    const replicas = intFlag(inv, 'replicas', { min: 1, max: MAX_REPLICAS })
    const decay = intFlag(inv, 'decay', { min: 0, max: MAX_DECAY })
    if (name === undefined && text === undefined && replicas === undefined && decay === undefined)
      throw usageError('nothing to change: give --name, --description, --replicas or --decay')
    if (decay !== undefined) params.decay = decay
    if (name !== undefined) params.name = name
    if (text !== undefined) params.description = text
    if (replicas !== undefined) params.replicas = replicas
    out.result(await callNode(inv, 'project.set', params), projectDetail)
  }
)

const role = verb(
  'role',
  [
    summary("Change a member's role; admins only"),
    argument('<project>', 'project key, key prefix or name'),
    argument('<member>', 'member id, id prefix, name, or "me"'),
    argument('<role>', 'admin or member')
  ],
  async (inv, out) => {
    const params = {
      project: arg(inv, 'project'),
      member: arg(inv, 'member'),
      role: choice(arg(inv, 'role'), 'role', ROLES)
    }
    const project = await callNode(inv, 'project.role', params)
    out.result(project, projectDetail)
  }
)

const invites = verb(
  'invites',
  [
    summary('List the invites recorded in a project (open ones first)'),
    argument('<project>', 'project key, key prefix or name')
  ],
  async (inv, out) => {
    out.result(await callNode(inv, 'project.invites', { project: arg(inv, 'project') }), inviteList)
  }
)

const uninvite = verb(
  'uninvite',
  [
    summary('Revoke an invite: nobody joins with it any more (admins, or its maker)'),
    argument('<project>', 'project key, key prefix or name'),
    argument('<invite>', 'the invite id, or a unique prefix of it (see `flux project invites`)')
  ],
  async (inv, out) => {
    const params = { project: arg(inv, 'project'), invite: arg(inv, 'invite') }
    const revoked = await callNode(inv, 'project.uninvite', params)
    out.result(revoked, (i) => `revoked invite ${short(i.id)} (${i.used}/${i.uses} used)`)
  }
)

export const project = command(
  'project',
  summary('Create, join and manage projects'),
  create,
  invite,
  invites,
  uninvite,
  join,
  list,
  show,
  leave,
  archive,
  set,
  role
)
