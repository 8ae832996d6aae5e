/** `flux device ...`: link, delegate, join, list, revoke, proof. */
import type { ParamsOf } from '../control/methods.js'
import { arg as argument, command, description, flag, summary } from 'paparam'
import { FluxError } from '../errors.js'
import { ControlClient } from '../control/client.js'
import { formatDuration } from '../util/duration.js'
import {
  arg,
  callNode,
  durationFlag,
  homeOf,
  stringFlag,
  usageError,
  verb,
  type Invocation
} from './command.js'
import { newPassphrase } from './passphrase.js'
import { requireNoProfile } from './profile.js'
import type { Output } from './output.js'
import { deviceList, whoami } from './format-profile.js'
import type { CreatedLink, WhoAmI } from '../api.js'

const link = verb(
  'link',
  [
    summary('Make a one-use code that links a new device to your profile'),
    description(
      'Prints the code; on the new device run `flux device join CODE` (its node must be\n' +
        'running). The devices need no direct connection, only both on the mesh.'
    ),
    flag('--expires <duration>', 'how long the code stays usable, e.g. 10m, 1h (default: 10m)')
  ],
  async (inv, out) => {
    printLink(out, await callNode(inv, 'device.link', linkParams(inv)))
  }
)

const delegate = verb(
  'delegate',
  [
    summary('Make a link code for a time-limited device (a borrowed machine)'),
    description(
      'Like `device link`, but the device it links acts for the profile only for --for:\n' +
        'after that, peers refuse its ops. It cannot link, revoke or sign.'
    ),
    flag('--for <duration>', 'how long the linked device may act, e.g. 2h, 1d (required)'),
    flag('--expires <duration>', 'how long the code stays usable (default: 10m)')
  ],
  async (inv, out) => {
    const delegateFor = durationFlag(inv, 'for')
    if (delegateFor === undefined) throw usageError('give --for, e.g. --for 2h')
    const params = { ...linkParams(inv), delegateFor }
    printLink(out, await callNode(inv, 'device.link', params))
  }
)

function linkParams(inv: Invocation): ParamsOf<'device.link'> {
  const expires = durationFlag(inv, 'expires')
  return expires !== undefined ? { expires } : {}
}

function printLink(out: Output, created: CreatedLink): void {
  if (!out.json) {
    const left = formatDuration(created.expires - Date.now())
    const role =
      created.delegateFor === null
        ? 'a device'
        : `a delegate for ${formatDuration(created.delegateFor)}`
    out.note(
      `links ${role} to profile ${created.profile}; one use, expires in ${left}` +
        ` (${new Date(created.expires).toISOString()})`
    )
    out.note('on the new device: `flux device join CODE`')
  }
  out.result(created, (c) => c.code)
}

const join = verb(
  'join',
  [
    summary('Make this home a device of a profile, with a link code'),
    description(
      'Needs a running node (`flux up`) on a home without a profile. A new passphrase seals\n' +
        'this device (FLUX_PASSPHRASE, else asked twice). The node pairs with a device of the\n' +
        'profile, receives its proof and keys, and syncs the profile and its projects;\n' +
        'progress is shown on stderr.'
    ),
    argument('<link-code>', 'the code from `flux device link` or `flux device delegate`'),
    flag('--name <name>', "this device's name in the profile (default: the host name)"),
    flag('--timeout <duration>', 'give up after this long (default: 2m)')
  ],
  async (inv, out) => {
    const code = arg(inv, 'linkCode')
    await checkLinkCode(code)
    const params: Omit<ParamsOf<'device.join'>, 'passphrase'> = { code }
    const name = stringFlag(inv, 'name')
    if (name !== undefined) {
      if (name.trim() === '' || name.length > 100) {
        throw usageError('--name must be 1 to 100 characters')
      }
      params.name = name.trim()
    }
    const timeout = durationFlag(inv, 'timeout')
    if (timeout !== undefined) params.timeout = timeout
    const client = await ControlClient.connect(homeOf(inv))
    let who: WhoAmI
    try {
      await requireNoProfile(client)
      const passphrase = await newPassphrase()
      who = await client.call('device.join', { ...params, passphrase }, (p) => out.progress(p))
    } finally {
      client.close()
    }
    if (!out.json) {
      out.note(`linked: this home is now a device of ${who.name} (${who.profile})`)
    }
    out.result(who, whoami)
  }
)

/**
 * The checks that need no node, made before a passphrase is asked: the code's form and its
 * expiry (the node makes them again).
 */
async function checkLinkCode(code: string): Promise<void> {
  const { decodeLinkCode, expiredMessage } = await import('../swarm/codes.js')
  const decoded = decodeLinkCode(code)
  if (decoded.expires !== 0 && decoded.expires <= Date.now()) {
    throw new FluxError(
      'LINK_EXPIRED',
      expiredMessage('link code', decoded.expires, Date.now(), 'make a new one')
    )
  }
}

const list = verb('list', [summary("List your profile's devices")], async (inv, out) => {
  out.result(await callNode(inv, 'device.list', {}), deviceList)
})

const revoke = verb(
  'revoke',
  [
    summary('Revoke a device: it gets no new keys, and peers refuse its later ops'),
    description(
      "Members' nodes then refuse the device's node: it receives nothing written after they\n" +
        'learn of the revocation. What it already downloaded stays readable on it (with the\n' +
        'keys it holds); a modified node that hides which device it is can still fetch a\n' +
        'project from peers that admit strangers (`flux toggle isolate on` refuses them).'
    ),
    argument('<device>', 'device key, key prefix or name (see `flux device list`)')
  ],
  async (inv, out) => {
    const revoked = await callNode(inv, 'device.revoke', {
      device: arg(inv, 'device')
    })
    out.result(revoked, (r) => {
      const name = r.device.name ? `${r.device.name} (${r.device.id})` : r.device.id
      return (
        `revoked ${name}; recorded in ${r.projects} project(s). Members' nodes now refuse it; ` +
        'what it already downloaded stays readable on it'
      )
    })
  }
)

const proof = verb(
  'proof',
  [
    summary("Print this device's proof, for `flux verify <profile-id> <proof>`"),
    description('Anyone can check with it that this device belongs to the profile.')
  ],
  async (inv, out) => {
    const info = await callNode(inv, 'device.proof', {})
    if (!out.json) {
      const what = info.delegated ? 'delegate' : 'device'
      out.note(`proof that ${what} ${info.device} belongs to profile ${info.profile}`)
    }
    out.result(info, (i) => i.proof)
  }
)

export const device = command(
  'device',
  summary('Link, list and revoke the devices of your profile'),
  link,
  delegate,
  join,
  list,
  revoke,
  proof
)
