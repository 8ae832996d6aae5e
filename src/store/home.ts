/**
 * The home folder: one process owns one home (`--home`, FLUX_HOME, default ~/.flux). Every
 * path the node keeps there is named here.
 */
import path from 'path'
import Corestore from 'corestore'
import { FluxError } from '../errors.js'
import { liveNode } from './pid-file.js'

export interface HomePaths {
  home: string
  /** The Corestore (RocksDB). Its lock is the guard against a second node on the same home. */
  store: string
  /** What the node remembers outside any base (see node-state.ts). */
  state: string
  /** The device's keys, sealed under the passphrase. */
  keyFile: string
}

export function homePaths(home: string): HomePaths {
  const abs = path.resolve(home)
  return {
    home: abs,
    store: path.join(abs, 'store'),
    state: path.join(abs, 'node.json'),
    keyFile: keyFilePath(abs)
  }
}

/** Where a home keeps its sealed key file. */
export function keyFilePath(home: string): string {
  return path.join(home, 'profile.key')
}

/** The home's Corestore; its lock is the guard against a second node on the same home. */
export async function openStore(dir: string, home: string): Promise<Corestore> {
  const store = new Corestore(dir)
  try {
    await store.ready()
  } catch (err) {
    await store.close().catch(() => {})
    if (/lock/i.test(String((err as Error)?.message))) {
      const live = await liveNode(home)
      const which = live === null ? '' : ` (process ${live.pid})`
      throw new FluxError(
        'NODE_RUNNING',
        `another Flux node is already running for ${home}${which}`
      )
    }
    const why = err instanceof Error ? err.message : 'unknown error'
    if (/invalid device file/i.test(why)) {
      // Corestore's guard against two copies of a store writing the same cores: kept as is
      throw new FluxError(
        'HOME_COPIED',
        `the store folder ${dir} was copied, or moved to another disk (${why}). Corestore ` +
          'refuses to open a copy, so that two copies never write the same cores and fork ' +
          'them. Start the original home instead, or restore from this copy on a fresh home: ' +
          `\`flux up\` there, then \`flux recover --from ${path.dirname(dir)}\` (your 24 words).`
      )
    }
    throw new FluxError(
      'STORE_CORRUPT',
      `cannot open the store folder ${dir} (${why}). The data of your projects is also on ` +
        `your peers: move the folder aside (mv ${dir} ${dir}.damaged) and start on a fresh ` +
        'home with `flux recover` (your 24 words), adding `--from FOLDER` to read a backup too.'
    )
  }
  return store
}
