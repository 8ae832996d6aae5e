/** Control methods for the profile and its devices. */
import { FluxError } from '../../errors.js'
import { decodeMaterial } from '../../identity/handover.js'
import { defined, optNum, optStr, str } from '../params.js'
import { none, type Table } from './table.js'

type ProfileMethod =
  | 'whoami'
  | 'profile.init'
  | 'profile.recover'
  | 'profile.sign'
  | 'profile.revocation'
  | 'device.link'
  | 'device.join'
  | 'device.list'
  | 'device.revoke'
  | 'device.proof'

export const profileMethods: Table<ProfileMethod> = {
  whoami: none(({ app }) => app.profile.whoami()),
  'profile.init': {
    parse: (p) => ({
      name: str(p, 'name'),
      passphrase: str(p, 'passphrase'),
      material: str(p, 'material')
    }),
    run: ({ material, ...p }, { app }) =>
      app.profile.init({ ...p, material: decodeMaterial(material) })
  },
  'profile.recover': {
    parse: (p) => ({
      material: str(p, 'material'),
      passphrase: str(p, 'passphrase'),
      ...defined({ timeout: optNum(p, 'timeout'), from: optStr(p, 'from') })
    }),
    run: ({ material, ...opts }, { app, progress }) =>
      app.profile.recover(decodeMaterial(material), { ...opts, onProgress: progress })
  },
  'profile.sign': {
    parse: (p) => {
      if (typeof p.message !== 'string') throw new FluxError('INVALID_INPUT', 'missing message')
      return { message: p.message }
    },
    run: (p, { app }) => app.profile.sign(p.message)
  },
  'profile.revocation': {
    parse: (p) => ({ profile: str(p, 'profile'), device: str(p, 'device') }),
    run: (p, { app }) => app.profile.revocation(p.profile, p.device)
  },
  'device.link': {
    parse: (p) => defined({ expires: optNum(p, 'expires'), delegateFor: optNum(p, 'delegateFor') }),
    run: (p, { app }) => app.profile.link(p)
  },
  'device.join': {
    parse: (p) => ({
      code: str(p, 'code'),
      passphrase: str(p, 'passphrase'),
      ...defined({ name: optStr(p, 'name'), timeout: optNum(p, 'timeout') })
    }),
    run: ({ code, ...opts }, { app, progress }) =>
      app.profile.joinDevice(code, { ...opts, onProgress: progress })
  },
  'device.list': none(({ app }) => app.profile.devices()),
  'device.revoke': {
    parse: (p) => ({ device: str(p, 'device') }),
    run: (p, { app }) => app.profile.revoke(p.device)
  },
  'device.proof': none(({ app }) => app.profile.proof())
}
