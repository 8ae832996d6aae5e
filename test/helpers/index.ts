import createTestnet from 'hyperdht/testnet.js'
import type { Test } from 'brittle'
import { FluxNode, type FluxNodeOptions } from '../../src/node.js'
import { Actions } from '../../src/actions.js'
import { FluxError } from '../../src/errors.js'

export interface TestNode {
  node: FluxNode
  actions: Actions
  home: string
}

export interface Mesh {
  bootstrap: string[]
  create(opts?: Partial<FluxNodeOptions>): Promise<TestNode>
}

/** A loopback HyperDHT testnet and a factory for nodes on it, all torn down with the test. */
export async function mesh(t: Test): Promise<Mesh> {
  const testnet = await createTestnet(3, { host: '127.0.0.1', teardown: t.teardown } as never)
  const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`)
  t.teardown(() => testnet.destroy(), { order: Infinity })
  return {
    bootstrap,
    async create(opts = {}) {
      const home = opts.home ?? (await t.tmp())
      const node = new FluxNode({ home, bootstrap, host: '127.0.0.1', pairingPoll: 500, ...opts })
      await node.ready()
      t.teardown(() => node.close())
      return { node, actions: new Actions(node), home }
    }
  }
}

/** Wait until `fn` returns a truthy value, re-checking on every project update; fail after `timeout` ms. */
export async function until<T>(
  node: FluxNode,
  fn: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeout = 20_000,
  what = 'condition'
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
      reject(new Error(`timed out after ${timeout} ms waiting for ${what}`))
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
          const p = await n.node.resolve(projectKey)
          await p.update()
          return p.view.stateHash()
        })
      )
      last = hashes
      return hashes.every((h) => h === hashes[0])
    },
    timeout,
    `views to converge (last hashes ${last.map((h) => h.slice(0, 8)).join(',')})`
  )
  return last[0] as string
}

/** 'OK' if the promise resolves, else the FluxError code it rejects with. */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'OK'
  } catch (err) {
    return err instanceof FluxError ? err.code : `not a FluxError: ${String(err)}`
  }
}
