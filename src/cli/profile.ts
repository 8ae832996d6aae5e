/** `flux init`, `flux whoami`, `flux recover`: the profile this home runs as. */
import type { ParamsOf } from '../control/methods.js'
import fs from 'fs/promises'
import os from 'os'
import path from 'path'
import { description, flag, summary } from 'paparam'
import { FluxError, isFluxError } from '../errors.js'
import { ControlClient } from '../control/client.js'
import { encodeKey, fromHex } from '../identity/keys.js'
import { durationFlag, homeOf, stringFlag, usageError, verb, type Invocation } from './command.js'
import { kdfChoice, kdfParams, newPassphrase, recoveryPhrase } from './passphrase.js'
import { phraseGrid, recovery, whoami as whoamiText } from './format-profile.js'
import type { InitResult, RecoveryReport, WhoAmI } from '../api.js'
import type { KdfParams } from '../identity/keyfile.js'

const MAX_NAME = 100

export const init = verb(
  'init',
  [
    summary('Create a profile; shows its 24-word recovery phrase once'),
    description(
      'Creates the identity this home acts as in projects. Its device keys are sealed in\n' +
        'HOME/profile.key under a passphrase (FLUX_PASSPHRASE, else asked twice); the\n' +
        'recovery phrase is shown once and stored nowhere: write it down. Works with or\n' +
        'without a running node. FLUX_KDF (interactive, moderate, sensitive) sets the cost\n' +
        'of the key derivation (default moderate; with a running node, the node decides).'
    ),
    flag('--name <name>', 'the name others see (default: your user name)')
  ],
  async (inv, out) => {
    const home = homeOf(inv)
    const name = profileName(inv)
    const kdf = kdfChoice()
    const client = await connectOrNull(home)
    let created: InitResult
    if (client !== null) {
      try {
        // refuse before asking for a passphrase
        await requireNoProfile(client)
        const passphrase = await newPassphrase()
        // the phrase is made here and shown here: the node gets only what it needs
        const { newProfileMaterial, encodeMaterial, clearMaterial } =
          await import('../identity/handover.js')
        const { phrase, material } = await newProfileMaterial()
        try {
          const made = await client.call('profile.init', {
            name,
            passphrase,
            material: encodeMaterial(material)
          })
          created = { ...made, phrase }
        } finally {
          clearMaterial(material)
        }
      } finally {
        client.close()
      }
    } else {
      created = await initOffline(home, name, await kdfParams(kdf))
    }
    if (!out.json) {
      out.note(
        `profile keys sealed in ${home}/profile.key; the phrase below is not stored anywhere`
      )
    }
    out.result(created, (c) =>
      [
        `created profile ${c.name}`,
        `  profile  ${c.profile}`,
        `  device   ${c.device}`,
        '',
        'Recovery phrase: write these 24 words down now and keep them offline. They are shown',
        'only this once; with them anyone can act as you, and without them a lost device',
        'cannot be recovered (`flux recover`).',
        '',
        phraseGrid(c.phrase),
        '',
        client === null ? 'next: `flux up` (asks for the passphrase)' : 'this node now runs as it'
      ].join('\n')
    )
  }
)

export const whoami = verb(
  'whoami',
  [
    summary('Show the profile: id, name, this device, linked devices'),
    description(
      'Asks the running node. With no node running, shows what the key file says (no\n' +
        'passphrase needed, not verified until `flux up` unlocks it).'
    )
  ],
  async (inv, out) => {
    const home = homeOf(inv)
    const client = await connectOrNull(home)
    if (client !== null) {
      try {
        const who = await client.call('whoami', {})
        out.result({ ...who, running: true }, whoamiText)
      } finally {
        client.close()
      }
      return
    }
    const { keyFilePath } = await import('../store/home.js')
    const { readKeyFileInfo } = await import('../identity/keyfile.js')
    const info = await readKeyFileInfo(keyFilePath(home))
    if (!out.json) out.note('the node is not running: this is what the key file says (`flux up`)')
    out.result(
      {
        profile: encodeKey(info.profileId),
        name: info.name,
        device: encodeKey(info.devicePublicKey),
        running: false
      },
      (w) => `profile  ${w.profile}\nname     ${w.name}\ndevice   ${w.device}`
    )
  }
)

export const recover = verb(
  'recover',
  [
    summary('Bring a profile back on a fresh home from its recovery phrase'),
    description(
      'Needs a running node (`flux up`) on a home without a profile. The phrase comes from\n' +
        'FLUX_PHRASE, else it is asked without echo (or read from a piped stdin); a new\n' +
        'passphrase seals this device (FLUX_PASSPHRASE, else asked twice). The node finds the\n' +
        'profile on the mesh, takes the longest validly signed copy, and rejoins its projects.\n' +
        'With --from, it also reads a copy of a home (a backup: `flux backup`, or a stopped\n' +
        'home copied with `cp -a`), offline if need be. The copy is never written to: this\n' +
        'node becomes a new device of the profile and serves every block of the copy to peers.'
    ),
    flag('--timeout <duration>', 'give up after this long (default: 2m)'),
    flag('--from <folder>', 'also read the profile and its projects from this copy of a home')
  ],
  async (inv, out) => {
    const timeout = durationFlag(inv, 'timeout')
    const client = await ControlClient.connect(homeOf(inv))
    let report: RecoveryReport
    try {
      await requireNoProfile(client)
      const { checkPhrase } = await import('../identity/profile-keys.js')
      const phrase = checkPhrase(await recoveryPhrase())
      const passphrase = await newPassphrase()
      // derived here: the phrase never crosses the control socket
      const { recoveryMaterial, encodeMaterial, clearMaterial } =
        await import('../identity/handover.js')
      const material = await recoveryMaterial(phrase)
      let encoded: string
      try {
        encoded = encodeMaterial(material)
      } finally {
        clearMaterial(material)
      }
      const params: ParamsOf<'profile.recover'> = { material: encoded, passphrase }
      if (timeout !== undefined) params.timeout = timeout
      const from = stringFlag(inv, 'from')
      if (from !== undefined) params.from = path.resolve(from)
      report = await client.call('profile.recover', params, (p) => out.progress(p))
    } finally {
      client.close()
    }
    const shown: RecoveryReport = {
      ...report,
      // the copies by their profile base key, as people see keys
      answered: report.answered.map((a) => ({
        peer: a.peer,
        base: encodeKey(fromHex(a.base)),
        length: a.length,
        valid: a.valid,
        chosen: a.chosen
      }))
    }
    out.result(shown, recovery)
  }
)

/** --name, else the OS user name; 1 to 100 characters. */
function profileName(inv: Invocation): string {
  const given = stringFlag(inv, 'name')
  let name = given
  if (name === undefined) {
    try {
      name = os.userInfo().username
    } catch {
      name = ''
    }
  }
  name = name.trim()
  if (name.length === 0 || name.length > MAX_NAME) {
    throw usageError(
      given === undefined
        ? 'no user name to use: give --name'
        : `--name must be 1 to ${MAX_NAME} characters`
    )
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) {
    throw usageError('--name may not contain control characters (escape sequences, newlines)')
  }
  return name
}

/** The running node's control connection, or null when no node runs for `home`. */
async function connectOrNull(home: string): Promise<ControlClient | null> {
  try {
    return await ControlClient.connect(home)
  } catch (err) {
    if (isFluxError(err, 'NO_NODE')) return null
    throw err
  }
}

/** PROFILE_EXISTS if the node already runs as a profile. */
export async function requireNoProfile(client: ControlClient): Promise<void> {
  let who: WhoAmI
  try {
    who = await client.call('whoami', {})
  } catch (err) {
    if (isFluxError(err, 'NO_PROFILE')) return
    throw err
  }
  throw new FluxError(
    'PROFILE_EXISTS',
    `this node already runs as profile ${who.name} (${who.profile}): use a fresh home (--home)`
  )
}

/**
 * `flux init` without a running node: seal the new device keys, then note the profile's
 * public facts in node.json; the next `flux up` unlocks and activates it.
 */
async function initOffline(home: string, name: string, kdf: KdfParams): Promise<InitResult> {
  const { newProfile } = await import('../services/profile.js')
  const { keyFilePath } = await import('../store/home.js')
  const { keyFileExists, saveKeyFile } = await import('../identity/keyfile.js')
  const { clearDeviceKeys } = await import('../identity/profile-keys.js')
  const { NodeState } = await import('../store/node-state.js')
  await fs.mkdir(home, { recursive: true, mode: 0o700 })
  const file = keyFilePath(home)
  const state = NodeState.at(home)
  await state.load()
  const existing = state.profile()
  if (existing !== null || (await keyFileExists(file))) {
    const which = existing ? ` ${existing.name} (${encodeKey(fromHex(existing.id))})` : ''
    throw new FluxError(
      'PROFILE_EXISTS',
      `this home already has a profile${which}: see \`flux whoami\``
    )
  }
  const passphrase = await newPassphrase()
  const { phrase, keys, entry } = await newProfile(name)
  try {
    // the key file first: it refuses (PROFILE_EXISTS) if another init got there meanwhile
    await saveKeyFile(file, { name, keys }, passphrase, { kdf })
    await state.putProfile(entry)
    return {
      profile: encodeKey(keys.profileId),
      name,
      device: encodeKey(keys.device.publicKey),
      phrase
    }
  } finally {
    clearDeviceKeys(keys)
  }
}
