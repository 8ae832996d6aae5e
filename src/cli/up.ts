/** `flux up`: run a node in the foreground, with its control socket and a live status. */
import { flag, summary, description } from 'paparam'
import { FluxError } from '../errors.js'
import { ControlClient } from '../control/client.js'
import { boolFlag, homeOf, stringFlag, usageError, verb, type Invocation } from './command.js'
import { LiveStatus } from './live-status.js'
import { decodeKey } from '../identity/keys.js'
import { formatSize } from '../util/size.js'
import { onShutdown, within } from './signals.js'
import { existingPassphrase, kdfChoice, kdfParams } from './passphrase.js'
import type { DeviceKeys } from '../identity/profile-keys.js'

/** How long a clean stop may take before `flux up` gives up and exits non-zero. */
const STOP_TIMEOUT = 20_000

export const up = verb(
  'up',
  [
    summary('Run a node in the foreground'),
    description(
      'Starts the node for --home and serves the other `flux` verbs over a local socket.\n' +
        'Without --bootstrap it joins the public HyperDHT. Stops cleanly on SIGINT or\n' +
        'SIGTERM, or on `flux stop`. With --json it prints JSON lines events.\n' +
        'With a profile (HOME/profile.key) it first unlocks the device keys: the passphrase\n' +
        'comes from FLUX_PASSPHRASE, else it is asked in the terminal. Without one the node\n' +
        'only hosts projects: run `flux init` (or `flux device join`, `flux recover`).\n' +
        'Behind a home router give no network flag: HyperDHT finds out which NAT it is\n' +
        'behind and holepunches. Two nodes behind NATs that change ports per peer cannot\n' +
        'holepunch: they connect through a relay, a reachable node run with --serve-relay\n' +
        '(it forwards the encrypted stream and cannot read it): one a member of a shared\n' +
        'project runs is used on its own, any other is given with --relay RELAY-ID.\n' +
        'Environment: FLUX_BOOTSTRAP, FLUX_HOST and FLUX_RELAY do what the flags do; FLUX_KDF\n' +
        '(interactive, moderate, sensitive) sets the cost of key files this node writes.'
    ),
    flag('--bootstrap <list>', 'DHT bootstrap nodes, HOST:PORT[,HOST:PORT...]'),
    flag('--host <addr>', 'address to bind, e.g. 127.0.0.1 for a loopback mesh'),
    flag(
      '--reachable',
      'peers can reach this address unasked (a public server with its UDP port open, a LAN without NAT)'
    ),
    flag('--relay <ids>', 'relay ids this node may relay through when holepunching fails'),
    flag(
      '--serve-relay',
      'relay for peers that cannot holepunch (anyone given its relay id, blocked peers never)'
    )
  ],
  async (inv, out) => {
    const home = homeOf(inv)
    const bootstrap = bootstrapOf(inv)
    const host = stringFlag(inv, 'host') ?? (process.env.FLUX_HOST || undefined)
    const relays = relaysOf(inv)
    const serveRelay = boolFlag(inv, 'serveRelay')
    const firewalled = boolFlag(inv, 'reachable') ? false : undefined
    const kdf = await kdfParams(kdfChoice())
    await refuseIfRunning(home)
    // the key derivation (seconds, off the main thread) runs while the node starts: its
    // socket answers meanwhile, and what needs the profile waits (see DESIGN.md "Startup")
    const keys = (await unlock(home))?.keys ?? null
    // a home that never ran a node gets nothing (not even a store) before the passphrase is
    // known to be right
    if (keys !== null && !(await ranBefore(home))) await keys
    const shutdown = onShutdown()
    let idle: { stop(): void } | null = null
    try {
      // loaded here, not at the top: the other verbs should not pay for the node's modules
      const { startDaemon } = await import('../control/daemon.js')
      const daemon = await startDaemon({
        home,
        bootstrap,
        host,
        firewalled,
        relays,
        serveRelay,
        kdf,
        profile: keys ? { keys } : null
      }).catch(async (err: unknown) => {
        const { clearDeviceKeys } = await import('../identity/profile-keys.js')
        keys?.then(clearDeviceKeys, () => {})
        throw err
      })
      const { node, server, app } = daemon
      // a full collection once the node goes quiet after a burst (src/util/idle-gc.ts)
      const { IdleGc } = await import('../util/idle-gc.js')
      const { systemClock } = await import('../util/clock.js')
      idle = new IdleGc({ clock: systemClock })
      const stopRequest = daemon.stopped.then(() => 'a stop request' as const)
      const early = await Promise.race([
        node.profile.unlocked().then(() => null),
        shutdown.signal,
        stopRequest
      ]).catch(async (err: unknown) => {
        // a wrong passphrase: the node stops again, its home as it was
        await within(daemon.stop(), STOP_TIMEOUT, 'stopping the node')
        throw err
      })
      if (early !== null) {
        // asked to stop while the profile was unlocking
        if (out.json) out.event('stopping', { reason: early })
        else out.line(`flux: ${early}: stopping`)
        await within(daemon.stop(), STOP_TIMEOUT, 'stopping the node')
        return
      }
      const network = bootstrap ? bootstrap.join(',') : 'public HyperDHT'
      const who = await node.profile.whoami()
      const nat = node.network.nat.status()
      if (out.json) {
        out.event('up', {
          peerId: node.peerId,
          home: node.home,
          socket: server.path,
          pid: process.pid,
          bootstrap: bootstrap ?? null,
          host: host ?? null,
          profile: who ? { id: who.profile, name: who.name, device: who.device } : null,
          nat
        })
      } else {
        out.line(`flux node ${node.peerId} up, control socket ${server.path}`)
        out.line(`  home ${node.home}, network ${network}${host ? `, bound to ${host}` : ''}`)
        if (who) out.line(`  profile ${who.name} (${who.profile}), device ${who.device}`)
        else if (node.profile.entry !== null) {
          out.line(
            `  no profile key file: ${node.profile.entry.name}'s keys are not on this device`
          )
        } else out.line('  no profile: run flux init (until then this node only hosts projects)')
        if (nat.relaying) {
          out.line(`  relaying for admitted peers as ${nat.relaying.id} (give it to --relay)`)
        }
        if (nat.relays.length > 0) out.line(`  may relay through ${nat.relays.join(', ')}`)
      }
      const tty = process.stdout.isTTY === true
      let live = new LiveStatus(app, out, { tty })
      live.start()
      // a full disk: the daemon waits for space, then reopens the node behind the same socket
      daemon.on('disk-full', ({ home, free, need }) => {
        if (out.json) out.event('disk-full', { home, free, need })
        else {
          out.line(
            `flux: disk full: ${formatSize(free)} free on the disk of ${home}; waiting for ` +
              `${formatSize(need)} free, then the node reopens by itself`
          )
        }
      })
      daemon.on('reopening', ({ free }) => {
        if (out.json) out.event('space-back', { free })
        else out.line(`flux: space is back (${formatSize(free)} free): reopening the node`)
      })
      daemon.on('reopened', ({ app: next, took }) => {
        live.stop()
        live = new LiveStatus(next, out, { tty })
        live.start()
        if (out.json) out.event('reopened', { took })
        else out.line(`flux: space is back: node reopened (${(took / 1000).toFixed(1)} s)`)
      })
      daemon.on('reopen-failed', (err) => {
        if (out.json) out.event('reopen-failed', { error: err.toJSON() })
        else out.line(`flux: ${err.message}`)
      })
      const reason = await Promise.race([shutdown.signal, stopRequest])
      live.stop()
      if (out.json) out.event('stopping', { reason })
      else out.line(`flux: ${reason}: stopping`)
      await within(daemon.stop(), STOP_TIMEOUT, 'stopping the node')
      if (out.json) out.event('stopped')
      else out.line('flux: stopped')
    } finally {
      idle?.stop()
      shutdown.dispose()
    }
  }
)

/** Say NODE_RUNNING before asking for a passphrase (the node's store lock would say it after). */
async function refuseIfRunning(home: string): Promise<void> {
  try {
    const client = await ControlClient.connect(home)
    client.close()
  } catch {
    return
  }
  throw new FluxError('NODE_RUNNING', `another Flux node is already running for ${home}`)
}

/**
 * The device keys sealed in the home's key file, being unlocked (the promise settles when the
 * key derivation is done); null when the home has none. The passphrase is asked first.
 */
async function unlock(home: string): Promise<{ keys: Promise<DeviceKeys> } | null> {
  const { keyFilePath } = await import('../store/home.js')
  const { loadKeyFile, readKeyFileInfo } = await import('../identity/keyfile.js')
  const file = keyFilePath(home)
  let name: string
  try {
    name = (await readKeyFileInfo(file)).name
  } catch (err) {
    if (err instanceof FluxError && err.code === 'NO_PROFILE') return null
    throw err
  }
  const passphrase = await existingPassphrase(`Passphrase for profile ${JSON.stringify(name)}: `)
  const keys = loadKeyFile(file, passphrase).then((profile) => profile.keys)
  keys.catch(() => {}) // heard through the node (profile.unlocked), not as an unhandled rejection
  return { keys } // in an object: an async function would wait for a promise it returns
}

/** Whether a node ran on this home before (it has a store). */
async function ranBefore(home: string): Promise<boolean> {
  const { homePaths } = await import('../store/home.js')
  const fs = await import('fs/promises')
  return fs.stat(homePaths(home).store).then(
    () => true,
    () => false
  )
}

/** --relay, else $FLUX_RELAY: relay ids (z-base-32 or hex), comma-separated. */
function relaysOf(inv: Invocation): Buffer[] {
  const text = stringFlag(inv, 'relay') ?? process.env.FLUX_RELAY ?? ''
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  return list.map((id) => {
    try {
      return decodeKey(id, 'relay id')
    } catch (err) {
      throw usageError(
        `--relay: ${FluxError.from(err).detail} (the id \`flux status\` shows on a node run with --serve-relay)`
      )
    }
  })
}

/** --bootstrap, else $FLUX_BOOTSTRAP, else undefined (the public HyperDHT). */
function bootstrapOf(inv: Invocation): string[] | undefined {
  const text = stringFlag(inv, 'bootstrap') ?? process.env.FLUX_BOOTSTRAP
  if (text === undefined || text.trim() === '') return undefined
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  for (const entry of list) {
    const m = /^([^\s:]+):(\d{1,5})$/.exec(entry)
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw usageError(`bootstrap "${entry}" is not HOST:PORT (e.g. 127.0.0.1:49737)`)
    }
  }
  return list
}
