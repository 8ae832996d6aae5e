/**
 * Use-cases for the wider mesh: connecting to a peer by its id (`flux connect`) and reading
 * the phonebook (`flux phonebook`).
 */
import { FluxError } from '../errors.js'
import { decodeKey, encodeKey, fromHex, toHex } from '../identity/keys.js'
import { saltedHash } from '../phonebook/ops.js'
import { makeSnapshot, verifySnapshot } from '../phonebook/snapshot.js'
import { PhonebookView } from '../views/phonebook.js'
import { viewDigest } from '../views/project-queries.js'
import type Hyperbee from 'hyperbee'
import type { FluxNode } from '../node.js'
import type {
  ConnectResult,
  ImportResult,
  MeshStatus,
  PhonebookInfo,
  PhonebookSnapshot
} from '../api.js'

/** How long `flux connect` waits for the peer by default (ms). */
export const CONNECT_TIMEOUT = 30_000

/**
 * The view as it was at `at`, or at the nearest version before it where an apply call had
 * finished: an apply writes its changes as one Hyperbee batch of several blocks, and a version
 * inside a batch is not a readable tree.
 */
async function settledVersion(
  bee: Hyperbee,
  at: number
): Promise<{ bee: Hyperbee; version: number }> {
  for (let v = at; v >= 1 && v > at - 1000; v--) {
    const checkout = bee.checkout(v)
    try {
      await checkout.get('sys')
      return { bee: checkout, version: v }
    } catch {
      continue
    }
  }
  throw new FluxError('NOT_FOUND', `no readable version of the phonebook at or before ${at}`)
}

export class MeshActions {
  constructor(private readonly node: FluxNode) {}

  /** Dial a peer by its id (z-base-32 or hex), then ask it to share a phonebook. */
  async connect(ref: string, timeout = CONNECT_TIMEOUT): Promise<ConnectResult> {
    const key = decodeKey(ref, 'peer id')
    const out = await this.node.mesh.connect(key, timeout)
    const session = this.node.network.sessions.get(toHex(key))
    const book = out.phonebook.key
    return {
      peer: out.peer,
      route: session?.route ?? 'unknown',
      phonebook: {
        key: book === null ? null : encodeKey(fromHex(book)),
        shared: out.phonebook.shared,
        reason: out.phonebook.reason
      }
    }
  }

  /** The phonebook in a few numbers, for `flux status` and the live status of `flux up`. */
  async status(): Promise<MeshStatus> {
    const { phonebook, mesh, network } = this.node
    const book = phonebook.book
    const mode = mesh.topicMode
    const auto = [...mesh.dialed].filter((p) => network.sessions.get(p)?.admitted === true)
    return {
      phonebook: book === null ? null : encodeKey(book.key),
      entries: book === null ? 0 : (await book.view.entries()).length,
      announced: mode.server,
      looking: mode.client,
      autoConnected: auto.length
    }
  }

  /** A snapshot of the phonebook (at `at`): every entry as its node signed it. */
  async exportSnapshot(at?: number): Promise<PhonebookSnapshot> {
    const book = this.node.phonebook.book
    if (book === null) throw new FluxError('NOT_FOUND', 'this node holds no phonebook')
    const info = await this.phonebook(at)
    const bee = at === undefined ? book.bee : (await settledVersion(book.bee, at)).bee
    const entries = await new PhonebookView(bee).entries({ all: true })
    return makeSnapshot(book.key, info.version, info.hash ?? '', entries)
  }

  /**
   * Check a snapshot (every entry's signature, for its phonebook) and use it: SNAPSHOT_INVALID
   * names the first entry that does not hold, and nothing of the file is used then.
   */
  async importSnapshot(value: unknown, timeout = CONNECT_TIMEOUT): Promise<ImportResult> {
    const snapshot = verifySnapshot(value)
    if (typeof snapshot === 'string') throw new FluxError('SNAPSHOT_INVALID', snapshot)
    const out = await this.node.mesh.bootstrap(snapshot, timeout)
    return { key: encodeKey(fromHex(snapshot.key)), entries: snapshot.entries.length, ...out }
  }

  /** The phonebook this node holds (at an earlier view version with `at`). */
  async phonebook(at?: number): Promise<PhonebookInfo> {
    const { phonebook, network, projects, mesh } = this.node
    const book = phonebook.book
    const meshInfo = { ...mesh.topicMode, autoDialed: mesh.dialed.size }
    if (book === null) {
      if (at !== undefined) throw new FluxError('NOT_FOUND', 'this node holds no phonebook')
      const none = { key: null, hash: null, version: 0, writable: false, writers: 0 }
      return { ...none, entries: [], skipped: 0, strikes: {}, mesh: meshInfo }
    }
    await book.update()
    const version = book.bee.version
    if (at !== undefined && (at < 1 || at > version)) {
      throw new FluxError('INVALID_INPUT', `--at must be a version from 1 to ${version}`)
    }
    const found = at === undefined ? null : await settledVersion(book.bee, at)
    const bee = found === null ? book.bee : found.bee
    const view = found === null ? book.view : new PhonebookView(bee)
    const sys = await view.system()
    const me = toHex(network.publicKey)
    const ours = new Set(projects.list().map((p) => saltedHash(p.key, book.key)))
    const entries = (await view.entries({ all: true })).map((e) => ({
      peer: encodeKey(fromHex(e.peer)),
      profile: e.profile,
      hints: e.hints,
      projects: e.projects.length,
      shared: e.projects.filter((p) => ours.has(p)).length,
      seen: e.seen,
      at: e.at,
      removed: e.removed,
      self: e.peer === me,
      connected: network.sessions.get(e.peer)?.admitted === true
    }))
    return {
      key: encodeKey(book.key),
      hash: await viewDigest(bee),
      version: found?.version ?? version,
      writable: book.writable,
      writers: sys.writers + 1,
      entries,
      skipped: sys.skipped,
      strikes: await view.strikes(),
      mesh: meshInfo
    }
  }
}
