/**
 * A copy of a home, as a backup (`cp -a` of a stopped home, or what `flux backup` writes): read
 * without ever writing to it. Corestore refuses to open a copied store for writing (two copies
 * writing one core would fork it), so a copy is opened read-only and its blocks are moved into
 * the running node's store as replicas, the way a peer would serve them. The node that restores
 * from it is a new device of the profile, with writer cores of its own: the copy's cores are
 * never written again, by anyone.
 */
import fs from 'fs/promises'
import path from 'path'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { FluxError } from '../errors.js'
import { homePaths } from './home.js'
import { parseState, type StateFile } from './state-shape.js'

/** The marker a backup folder holds (`flux backup`): what it is, and when it was last made. */
const MARKER = 'BACKUP.json'

export interface HomeCopy {
  /** The copy's folder (absolute). */
  dir: string
  /** Its node.json, as parsed. */
  state: StateFile
  /** Its store, read-only. */
  store: Corestore
  close(): Promise<void>
}

/** A folder's real path (links resolved), or its absolute path when it does not exist yet. */
async function real(p: string): Promise<string> {
  return fs.realpath(p).catch(() => path.resolve(p))
}

function unreadable(dir: string, why: string): FluxError {
  return new FluxError('BACKUP_UNREADABLE', `cannot read the copy of a home at ${dir}: ${why}`)
}

/** Open a copy of a home read-only. `ownHome` is this node's home, which is not a copy. */
export async function openHomeCopy(dir: string, ownHome: string): Promise<HomeCopy> {
  const paths = homePaths(dir)
  if ((await real(paths.home)) === (await real(ownHome))) {
    throw new FluxError(
      'INVALID_INPUT',
      `${paths.home} is this node's own home: give the folder of a copy (a backup)`
    )
  }
  const stat = await fs.stat(paths.home).catch(() => null)
  if (stat === null || !stat.isDirectory()) throw unreadable(paths.home, 'no such folder')
  let text: string
  try {
    text = await fs.readFile(paths.state, 'utf-8')
  } catch {
    throw unreadable(paths.home, 'it has no node.json: is it the copy of a whole Flux home?')
  }
  const state = parseState(text, paths.state)
  if ((await fs.stat(paths.store).catch(() => null))?.isDirectory() !== true) {
    throw unreadable(paths.home, 'it has no store folder')
  }
  // A backup made by `flux backup` holds replicas only, and opens read-only. A copied home also
  // holds the cores its device wrote, and a read-only store fails when they are served (RocksDB:
  // "Not supported operation in read only mode"): those are served from a scratch copy of the
  // store inside our home, deleted afterwards. Nothing appends to either (the node restoring is
  // a new device with writer cores of its own), which is what Corestore's guard is about.
  const backup = await fs
    .stat(path.join(paths.home, MARKER))
    .then(() => true)
    .catch(() => false)
  let scratch: string | null = null
  let storeDir = paths.store
  if (!backup) {
    scratch = await fs.mkdtemp(path.join(homePaths(ownHome).home, 'restore-'))
    storeDir = path.join(scratch, 'store')
    await fs.cp(paths.store, storeDir, { recursive: true })
  }
  const removeScratch = async (): Promise<void> => {
    if (scratch !== null) await fs.rm(scratch, { recursive: true, force: true })
  }
  const store = new Corestore(storeDir, backup ? { readOnly: true } : { allowBackup: true })
  try {
    await store.ready()
  } catch (err) {
    await store.close().catch(() => {})
    await removeScratch()
    throw unreadable(
      paths.home,
      `its store does not open (${(err as Error)?.message ?? 'unknown error'}); a copy taken ` +
        'while its node ran may be incomplete: copy a stopped home, or use `flux backup`'
    )
  }
  return {
    dir: paths.home,
    state,
    store,
    close: async () => {
      await store.close()
      await removeScratch()
    }
  }
}

export interface CopiedCores {
  cores: number
  blocks: number
  /** The blocks now held of each core copied (hex key). */
  lengths: Record<string, number>
}

/**
 * Move every block of every core in `from` into `to` (as replicas, over an in-process
 * replication stream), reporting progress; resolves once each core holds what `from` held.
 */
export async function copyCores(
  from: Corestore,
  to: Corestore,
  onProgress: (done: { cores: number; of: number; blocks: number }) => void
): Promise<CopiedCores> {
  const keys: Buffer[] = []
  for await (const discoveryKey of from.list()) {
    const auth = await from.getAuth(discoveryKey)
    if (auth?.key) keys.push(auth.key as Buffer)
  }
  const a = from.replicate(true)
  const b = to.replicate(false)
  a.pipe(b).pipe(a)
  // a stream that dies ends the copy with its reason, instead of a download that never ends
  let died: (err: Error) => void = () => {}
  const broken = new Promise<never>((_resolve, reject) => (died = reject))
  broken.catch(() => {})
  const onError = (err: Error): void =>
    died(
      new FluxError(
        'BACKUP_UNREADABLE',
        `copying blocks failed: ${err?.message ?? 'stream closed'}`
      )
    )
  a.on('error', onError)
  b.on('error', onError)
  const opened: Hypercore[] = []
  const lengths: Record<string, number> = {}
  let blocks = 0
  let cores = 0
  try {
    for (const key of keys) {
      const source = from.get({ key })
      opened.push(source)
      await source.ready()
      const length = source.contiguousLength
      const target = to.get({ key })
      opened.push(target)
      await target.ready()
      if (length > 0 && target.contiguousLength < length) {
        await Promise.race([target.download({ start: 0, end: length }).done(), broken])
      }
      lengths[key.toString('hex')] = target.contiguousLength
      blocks += target.contiguousLength
      onProgress({ cores: ++cores, of: keys.length, blocks })
    }
  } finally {
    for (const core of opened) await core.close().catch(() => {})
    a.destroy()
    b.destroy()
  }
  return { cores, blocks, lengths }
}

export interface BackupReport {
  dir: string
  /** When the backup was made (ms since the epoch, this node's clock). */
  made: number
  cores: number
  blocks: number
  /** Whether the folder held an earlier backup (only new blocks were copied). */
  updated: boolean
}

/**
 * Back up a running node's home into `dir`: every block of every core, as replicas in a store
 * of the backup's own (its seed is not the node's, so the backup can never write the node's
 * cores), and node.json. The key file is not copied: a restore is a new device, made from the
 * recovery phrase (`flux recover --from`). Running it again on the same folder copies only
 * what is new.
 */
export async function makeBackup(opts: {
  store: Corestore
  home: string
  dir: string
  now: number
  onProgress: (done: { cores: number; of: number; blocks: number }) => void
}): Promise<BackupReport> {
  const dir = path.resolve(opts.dir)
  const home = homePaths(opts.home)
  const [realDir, realHome] = [await real(dir), await real(home.home)]
  if (realDir === realHome || realDir.startsWith(realHome + path.sep)) {
    throw new FluxError('INVALID_INPUT', `back up to a folder outside the home (${home.home})`)
  }
  if (realHome.startsWith(realDir + path.sep)) {
    throw new FluxError('INVALID_INPUT', `${dir} holds the home itself: choose another folder`)
  }
  const entries = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null
    if (err.code === 'ENOTDIR') {
      throw new FluxError('INVALID_INPUT', `${dir} is a file: give a folder for the backup`)
    }
    throw new FluxError('INVALID_INPUT', `cannot use ${dir} for a backup: ${err.message}`)
  })
  const updated = entries !== null && entries.includes(MARKER)
  if (entries !== null && entries.length > 0 && !updated) {
    throw new FluxError(
      'INVALID_INPUT',
      `${dir} is not empty and holds no Flux backup: give a new or empty folder`
    )
  }
  // node.json as it is now: every project it names has its cores in the store from now on
  const state = await fs.readFile(home.state).catch(() => null)
  await fs.mkdir(dir, { recursive: true, mode: 0o700 })
  const target = new Corestore(path.join(dir, 'store'))
  try {
    await target.ready()
  } catch (err) {
    await target.close().catch(() => {})
    const why = (err as Error)?.message ?? 'unknown error'
    throw new FluxError(
      'BACKUP_UNREADABLE',
      /invalid device file/i.test(why)
        ? `the backup at ${dir} was moved or copied since it was made: back up into a new folder`
        : `cannot open the backup's store at ${dir} (${why}): back up into a new folder`
    )
  }
  let copied: CopiedCores
  try {
    copied = await copyCores(opts.store, target, opts.onProgress)
  } finally {
    await target.close().catch(() => {})
  }
  const write = async (name: string, data: string | Buffer): Promise<void> => {
    const file = path.join(dir, name)
    await fs.writeFile(file + '.tmp', data, { mode: 0o600 })
    await fs.rename(file + '.tmp', file)
  }
  if (state !== null) await write('node.json', state)
  const report: BackupReport = {
    dir,
    made: opts.now,
    cores: copied.cores,
    blocks: copied.blocks,
    updated
  }
  await write(MARKER, JSON.stringify({ version: 1, ...report }, null, 2) + '\n')
  return report
}
