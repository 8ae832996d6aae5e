/**
 * Every method of the control protocol, with its parameters checked: a bad request from a
 * client gets INVALID_INPUT and changes nothing.
 */
import { FluxError } from '../errors.js'
import type { FluxNode } from '../node.js'
import type { Actions } from '../actions.js'
import type { JsonValue, Role } from '../autobase/ops.js'
import type { DeviceProofInfo, InitResult, Progress, SignResult, WhoAmI } from '../api.js'

type Params = Record<string, unknown>

function str(p: Params, name: string): string {
  const v = p[name]
  if (typeof v !== 'string' || v.length === 0)
    throw new FluxError('INVALID_INPUT', `missing ${name}`)
  return v
}

function optStr(p: Params, name: string): string | undefined {
  const v = p[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw new FluxError('INVALID_INPUT', `${name} must be text`)
  return v
}

function optNum(p: Params, name: string): number | undefined {
  const v = p[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new FluxError('INVALID_INPUT', `${name} must be a number`)
  return v
}

function optBool(p: Params, name: string): boolean | undefined {
  const v = p[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') throw new FluxError('INVALID_INPUT', `${name} must be true or false`)
  return v
}

function role(p: Params, name: string): Role | undefined {
  const v = optStr(p, name)
  if (v === undefined) return undefined
  if (v !== 'admin' && v !== 'member')
    throw new FluxError('INVALID_INPUT', `role must be admin or member, not "${v}"`)
  return v
}

export const METHODS = [
  'status',
  'peers',
  'project.create',
  'project.invite',
  'project.join',
  'project.list',
  'project.show',
  'project.leave',
  'project.archive',
  'project.set',
  'project.role',
  'member.name',
  'post.add',
  'post.feed',
  'task.add',
  'task.set',
  'task.list',
  'kv.set',
  'kv.get',
  'kv.del',
  'kv.list',
  'whoami',
  'profile.init',
  'profile.recover',
  'profile.sign',
  'device.link',
  'device.join',
  'device.list',
  'device.revoke',
  'device.proof',
  'node.stop'
] as const

export async function dispatch(
  node: FluxNode,
  actions: Actions,
  method: string,
  p: Params,
  progress: (p: Progress) => void
): Promise<unknown> {
  switch (method) {
    case 'status':
      return node.status()
    case 'peers':
      return node.peers()
    case 'project.create': {
      const opts: { name: string; description?: string; public?: boolean } = {
        name: str(p, 'name')
      }
      const description = optStr(p, 'description')
      if (description !== undefined) opts.description = description
      opts.public = optBool(p, 'public') ?? false
      return node.createProject(opts)
    }
    case 'project.invite': {
      const opts: { role?: Role; expires?: number; uses?: number } = {}
      const r = role(p, 'role')
      if (r) opts.role = r
      const expires = optNum(p, 'expires')
      if (expires !== undefined) opts.expires = expires
      const uses = optNum(p, 'uses')
      if (uses !== undefined) opts.uses = uses
      return node.invite(str(p, 'project'), opts)
    }
    case 'project.join': {
      const timeout = optNum(p, 'timeout')
      return node.join(str(p, 'code'), {
        project: optStr(p, 'project'),
        ...(timeout !== undefined ? { timeout } : {}),
        onProgress: progress
      })
    }
    case 'project.list':
      return node.summaries()
    case 'project.show':
      return node.describe(await node.resolve(str(p, 'project')))
    case 'project.leave':
      return node.leave(str(p, 'project'))
    case 'project.archive':
      return actions.archive(str(p, 'project'), optBool(p, 'archived') ?? true)
    case 'project.set': {
      const change: { name?: string; description?: string } = {}
      const name = optStr(p, 'name')
      const description = optStr(p, 'description')
      if (name !== undefined) change.name = name
      if (description !== undefined) change.description = description
      return actions.setProject(str(p, 'project'), change)
    }
    case 'project.role':
      return actions.setRole(str(p, 'project'), str(p, 'member'), role(p, 'role') ?? 'member')
    case 'member.name':
      return actions.setName(str(p, 'project'), str(p, 'name'))
    case 'post.add':
      return actions.post(str(p, 'project'), str(p, 'text'), optStr(p, 'replyTo'))
    case 'post.feed': {
      const limit = optNum(p, 'limit')
      return actions.feed(str(p, 'project'), limit !== undefined ? { limit } : {})
    }
    case 'task.add':
      return actions.addTask(str(p, 'project'), str(p, 'title'), optStr(p, 'assignee'))
    case 'task.set': {
      const change: { title?: string; assignee?: string | null; done?: boolean } = {}
      const title = optStr(p, 'title')
      if (title !== undefined) change.title = title
      if (p.assignee === null) change.assignee = null
      else {
        const a = optStr(p, 'assignee')
        if (a !== undefined) change.assignee = a
      }
      const done = optBool(p, 'done')
      if (done !== undefined) change.done = done
      return actions.setTask(str(p, 'project'), str(p, 'id'), change)
    }
    case 'task.list':
      return actions.tasks(str(p, 'project'))
    case 'kv.set':
      if (!('value' in p)) throw new FluxError('INVALID_INPUT', 'missing value')
      return actions.kvSet(str(p, 'project'), str(p, 'key'), p.value as JsonValue)
    case 'kv.get':
      return actions.kvGet(str(p, 'project'), str(p, 'key'))
    case 'kv.del':
      return actions.kvDel(str(p, 'project'), str(p, 'key'))
    case 'kv.list':
      return actions.kvList(str(p, 'project'))
    case 'whoami':
      return whoami(node)
    case 'profile.init': {
      const { phrase, whoami: who } = await node.initProfile({
        name: str(p, 'name'),
        passphrase: str(p, 'passphrase')
      })
      const result: InitResult = {
        profile: who.profile,
        name: who.name,
        device: who.device,
        phrase
      }
      return result
    }
    case 'profile.recover': {
      const timeout = optNum(p, 'timeout')
      return node.profile.recover(str(p, 'phrase'), {
        passphrase: str(p, 'passphrase'),
        kdf: node.opts.kdf,
        ...(timeout !== undefined ? { timeout } : {}),
        onProgress: progress
      })
    }
    case 'profile.sign': {
      const message = p.message
      if (typeof message !== 'string') throw new FluxError('INVALID_INPUT', 'missing message')
      const signature = node.profile.sign(message)
      const who = await whoami(node)
      const result: SignResult = { profile: who.profile, device: who.device, signature }
      return result
    }
    case 'device.link': {
      const opts: { expires?: number; delegateFor?: number } = {}
      const expires = optNum(p, 'expires')
      if (expires !== undefined) opts.expires = expires
      const delegateFor = optNum(p, 'delegateFor')
      if (delegateFor !== undefined) opts.delegateFor = delegateFor
      return node.profile.createLink(opts)
    }
    case 'device.join': {
      const timeout = optNum(p, 'timeout')
      const name = optStr(p, 'name')
      return node.profile.joinDevice(str(p, 'code'), {
        passphrase: str(p, 'passphrase'),
        kdf: node.opts.kdf,
        ...(name !== undefined ? { name } : {}),
        ...(timeout !== undefined ? { timeout } : {}),
        onProgress: progress
      })
    }
    case 'device.list':
      return (await whoami(node)).devices
    case 'device.revoke':
      return node.profile.revokeDevice(str(p, 'device'))
    case 'device.proof': {
      const who = await whoami(node)
      const result: DeviceProofInfo = {
        profile: who.profile,
        device: who.device,
        delegated: who.delegated,
        proof: node.profile.deviceProof()
      }
      return result
    }
    default:
      throw new FluxError('CONTROL_PROTOCOL', `unknown method "${method}"`)
  }
}

/** The profile this node runs as; NO_PROFILE when it runs without one (hosting only). */
async function whoami(node: FluxNode): Promise<WhoAmI> {
  node.profile.requireKeys()
  const who = await node.whoami()
  if (who === null) throw new FluxError('NO_PROFILE', 'this node has no profile yet')
  return who
}
