import createTestnet from 'hyperdht/testnet.js'
import type { Test } from 'brittle'
import { FluxNode, type FluxNodeOptions } from '../../src/node.js'
import { FluxApp } from '../../src/app/index.js'
import { FluxError } from '../../src/errors.js'
import { systemClock, type Clock } from '../../src/util/clock.js'
import type { DeviceKeys } from '../../src/identity/profile-keys.js'

/** A deep copy of device keys (a closing node zeroes its own). */
export function copyKeys(k: DeviceKeys): DeviceKeys {
  const b = (x: Buffer): Buffer => Buffer.from(x)
  return {
    profileId: b(k.profileId),
    device: { publicKey: b(k.device.publicKey), secretKey: b(k.device.secretKey) },
    deviceProof: b(k.deviceProof),
    ...(k.delegated ? { delegated: true } : {}),
    secrets: k.secrets
      ? {
          discoveryKeyPair: {
            publicKey: b(k.secrets.discoveryKeyPair.publicKey),
            secretKey: k.secrets.discoveryKeyPair.secretKey
              ? b(k.secrets.discoveryKeyPair.secretKey)
              : null
          },
          encryptionKey: b(k.secrets.encryptionKey)
        }
      : null
  }
}

export interface TestNode {
  node: FluxNode
  /** The use-cases, as the control socket calls them. */
  app: FluxApp
  home: string
  /** The name the test gave the node ('' when none). */
  name: string
  /** The recovery phrase of the node's profile ('' for a node created without one). */
  phrase: string
}

export interface CreateOptions extends Partial<FluxNodeOptions> {
  /** The profile name; a node gets a fresh in-memory profile unless `noProfile`. */
  name?: string
  noProfile?: boolean
}

export interface Mesh {
  bootstrap: string[]
  create(opts?: CreateOptions): Promise<TestNode>
}

/** A loopback HyperDHT testnet and a factory for nodes on it, all torn down with the test. */
export async function mesh(t: Test): Promise<Mesh> {
  const testnet = await createTestnet(3, { host: '127.0.0.1', teardown: t.teardown } as never)
  const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`)
  t.teardown(() => testnet.destroy(), { order: Infinity })
  let count = 0
  const profiles = new Map<string, DeviceKeys>()
  return {
    bootstrap,
    async create(opts = {}) {
      const { name, noProfile, ...rest } = opts
      const home = rest.home ?? (await t.tmp())
      // a node restarted on the same home runs as the same profile (its keys were in memory)
      const known = profiles.get(home)
      if (known && rest.profile === undefined) rest.profile = { keys: copyKeys(known) }
      const node = new FluxNode({ home, bootstrap, host: '127.0.0.1', pairingPoll: 500, ...rest })
      await node.ready()
      t.teardown(() => node.close())
      const app = new FluxApp(node)
      let phrase = ''
      if (!noProfile && rest.profile === undefined) {
        phrase = (await app.profile.init({ name: name ?? `node-${++count}` })).phrase
        profiles.set(home, copyKeys(node.profile.keys as DeviceKeys))
      }
      return { node, app, home, name: name ?? '', phrase }
    }
  }
}

/** Wait until `fn` returns a truthy value, re-checking on every project update; fail after `timeout` ms. */
export async function until<T>(
  node: FluxNode,
  fn: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeout = 20_000,
  what: string | (() => string) = 'condition'
): Promise<T> {
  const first = await fn()
  if (first) return first
  return new Promise<T>((resolve, reject) => {
    let done = false
    const check = async (): Promise<void> => {
      if (done) return
      try {
        const v = await fn()
        if (v && !done) {
          done = true
          cleanup()
          resolve(v)
        }
      } catch (err) {
        done = true
        cleanup()
        reject(err)
      }
    }
    const onUpdate = (): void => void check()
    const timer = setTimeout(() => {
      if (done) return
      done = true
      cleanup()
      const said = typeof what === 'function' ? what() : what
      reject(new Error(`timed out after ${timeout} ms waiting for ${said}`))
    }, timeout)
    // the network also delivers data without a view update (e.g. key-only hosts)
    const poll = setInterval(onUpdate, 250)
    const cleanup = (): void => {
      clearTimeout(timer)
      clearInterval(poll)
      node.off('project-update', onUpdate)
    }
    node.on('project-update', onUpdate)
  })
}

/** Wait until every node holds the same state hash for the project. */
export async function converged(
  nodes: TestNode[],
  projectKey: string,
  timeout = 30_000
): Promise<string> {
  const first = nodes[0] as TestNode
  let last: string[] = []
  await until(
    first.node,
    async () => {
      const hashes = await Promise.all(
        nodes.map(async (n) => {
          const p = await n.node.projects.resolve(projectKey)
          await p.update()
          return p.view.stateHash()
        })
      )
      last = hashes
      return hashes.every((h) => h === hashes[0])
    },
    timeout,
    () => {
      return `views to converge (last hashes ${last.map((h) => h.slice(0, 8)).join(',')})`
    }
  )
  return last[0] as string
}

/** 'OK' if the promise resolves, else the FluxError code it rejects with. */
/**
 * A stopped home, as `flux up` finds it the second time: Ada's profile, a project Kiln (with one
 * post when `post` is given), and her device keys, copied before the node's close zeroed them.
 */
export async function stoppedHome(
  m: Mesh,
  post?: string
): Promise<{ home: string; keys: DeviceKeys; key: string }> {
  const ada = await m.create({ name: 'Ada' })
  const keys = copyKeys(ada.node.profile.keys as DeviceKeys)
  const { key } = await ada.app.projects.create({ name: 'Kiln' })
  if (post !== undefined) await ada.app.content.post(key, post)
  await ada.node.close()
  return { home: ada.home, keys, key }
}

export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'OK'
  } catch (err) {
    return err instanceof FluxError ? err.code : `not a FluxError: ${String(err)}`
  }
}

/** A machine clock running `offset()` ms ahead (or behind) of the real one: a skewed node. */
export function skewed(offset: () => number): Clock {
  return { ...systemClock, now: () => Date.now() + offset() }
}
