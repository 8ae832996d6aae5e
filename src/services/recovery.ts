/**
 * Recovery from the mesh: on a fresh node, the phrase rebuilds the identity, the profile is
 * found on its discovery topic by asking every peer there ('flux/recovery/v1'), the longest
 * validly signed copy is read, and the profile's projects are held again. This node also
 * answers such questions, for its own profile and for the profiles it hosts.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { recoveryMaterial, type ProfileMaterial } from '../identity/handover.js'
import { Service } from '../util/service.js'
import type { Clock } from '../util/clock.js'
import { FluxError } from '../errors.js'
import { isHexKey, isObj } from '../autobase/shapes.js'
import { encodeKey, fromHex, toHex } from '../identity/keys.js'
import { verifySignature } from '../identity/sign.js'
import { openRecovery } from '../identity/seal.js'
import {
  MAX_COPY_CORES,
  baseStatement,
  chooseCopy,
  copyLength,
  copyOf,
  coreLengths,
  heldOfCopy,
  profileCores
} from '../profile/copies.js'
import { FeatureChannel, type ChannelPeer } from '../swarm/channels.js'
import { profileTopic } from '../swarm/topics.js'
import { copyCores, openHomeCopy, type HomeCopy } from '../store/home-copy.js'
import type { Network } from '../swarm/network.js'
import type { ProfileService } from './profile.js'
import type { ProfileHostingService } from './profile-hosting.js'
import type { ProjectRegistry } from './projects.js'
import type { WriterService } from './writers.js'
import type { Progress, RecoveryAnswer, RecoveryReport } from '../api.js'

interface Copy {
  discovery: string
  base: string
  sig: string
  length: number
  /** The blocks held of each core (hex); absent from nodes older than this field. */
  cores?: Record<string, number>
}

/** A copy's per-core lengths as a peer sent them (bounded), or undefined when absent. */
function parseCores(v: unknown): Record<string, number> | undefined | null {
  if (v === undefined) return undefined
  if (!isObj(v)) return null
  const entries = Object.entries(v)
  if (entries.length > MAX_COPY_CORES) return null
  const cores: Record<string, number> = {}
  for (const [key, n] of entries) {
    if (!isHexKey(key) || !Number.isSafeInteger(n) || (n as number) < 0) return null
    cores[key] = n as number
  }
  return cores
}

/** An answer heard (from a peer, or read from a copy of a home). */
type Heard = RecoveryAnswer & Pick<Copy, 'sig' | 'cores'>

type RecoveryRequests = { 'profile-query': [{ discovery: string }, Copy] }

export const recoveryChannelSpec = {
  protocol: 'flux/recovery/v1',
  events: {},
  requests: {
    'profile-query': {
      request: {
        maxBytes: 256,
        parse: (v: unknown) =>
          isObj(v) && isHexKey(v.discovery) ? { discovery: v.discovery } : null
      },
      response: {
        maxBytes: 16 * 1024,
        parse: (v: unknown): Copy | null => {
          if (
            !isObj(v) ||
            !isHexKey(v.discovery) ||
            !isHexKey(v.base) ||
            typeof v.sig !== 'string' ||
            v.sig.length > 1000 ||
            !Number.isSafeInteger(v.length) ||
            (v.length as number) < 0
          ) {
            return null
          }
          const cores = parseCores(v.cores)
          if (cores === null) return null
          const copy: Copy = {
            discovery: v.discovery,
            base: v.base,
            sig: v.sig,
            length: v.length as number
          }
          if (cores !== undefined) copy.cores = cores
          return copy
        }
      }
    }
  }
}

export interface RecoveryEvents {
  /** A peer answered a question about a profile being recovered here. */
  'recovery-answer': [answer: RecoveryAnswer]
  warning: [err: unknown]
}

export interface RecoveryDeps {
  /** This node's home (a copy to recover from must be another folder). */
  home: string
  store: Corestore
  network: Network
  clock: Clock
  profile: ProfileService
  projects: ProjectRegistry
  writers: WriterService
  hosting: ProfileHostingService
}

const DEFAULT_TIMEOUT = 120_000
/**
 * Recovering from a copy of a home: how long to wait for a member to add this device to each
 * project before going on (it is added later, when a member is online).
 */
const COPY_WRITER_WAIT = 10_000
/** How long recovery keeps listening for more holders once one answered. */
const ANSWER_GRACE = 1500
/** How long one peer has to answer one question (ms); it is asked again every second. */
const ASK_TIMEOUT = 5000
const TOPIC_OWNER = 'recovery'

export class RecoveryService extends Service<RecoveryEvents> {
  readonly channel = new FeatureChannel<Record<never, never>, RecoveryRequests>(recoveryChannelSpec)

  constructor(private readonly deps: RecoveryDeps) {
    super()
    this.channel.handle('profile-query', (m) => this.answer(m.discovery))
    deps.network.addChannel(this.channel)
  }

  /** Our copy of a profile (ours, or one we host), as a recovering node asks for it. */
  private async answer(discovery: string): Promise<Copy | null> {
    const { profile } = this.deps
    const entry = profile.entry
    if (entry !== null && entry.discovery === discovery && entry.base && entry.baseSig) {
      const copy = profile.base
        ? await copyOf(this.deps.store, profile.base)
        : { length: 0, cores: {} }
      return { discovery, base: entry.base, sig: entry.baseSig, ...copy }
    }
    const hosted = this.deps.hosting.answer(discovery)
    return hosted === null ? null : { discovery, ...hosted }
  }

  /**
   * On a fresh node: rebuild the identity from the phrase, find the profile on the mesh by
   * its discovery topic, take the longest validly signed copy, and hold its projects again.
   */
  async recover(
    source: string | ProfileMaterial,
    opts: {
      passphrase: string | null
      timeout?: number
      onProgress?: (p: Progress) => void
      /** A copy of a home (a backup) to read the profile and its projects from, besides peers. */
      from?: string
    }
  ): Promise<RecoveryReport> {
    const { profile, projects, network } = this.deps
    if (profile.keys !== null) {
      throw new FluxError(
        'PROFILE_EXISTS',
        'this node already has a profile: recover into a fresh home (FLUX_HOME)'
      )
    }
    const progress = opts.onProgress ?? (() => {})
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT
    // from the phrase here (in-process callers), or derived by the client (the control socket
    // never carries the phrase: identity/handover.ts)
    const { keys, box: given } =
      typeof source === 'string' ? await recoveryMaterial(source) : source
    if (given.secretKey === null) {
      throw new FluxError('INVALID_INPUT', 'recovering needs the recovery box secret key')
    }
    const box = { publicKey: given.publicKey, secretKey: given.secretKey }
    let copy: HomeCopy | null = null
    try {
      const secrets = keys.secrets
      if (secrets === null) throw new FluxError('INTERNAL', 'no profile secrets')
      const discovery = secrets.discoveryKeyPair.publicKey
      let fromCopy: { answer: Heard; report: NonNullable<RecoveryReport['fromCopy']> } | null = null
      if (opts.from !== undefined) {
        copy = await openHomeCopy(opts.from, this.deps.home)
        fromCopy = await this.readCopy(copy, keys.profileId, discovery, progress)
      }
      progress({ phase: 'searching', message: 'looking for the profile on the mesh' })
      const answers = await this.ask(keys.profileId, discovery, timeout, fromCopy?.answer ?? null)
      const valid = answers.filter((a) => a.valid)
      if (valid.length === 0) {
        await network.topics.leave(profileTopic(discovery), TOPIC_OWNER)
        const which =
          answers.length === 0
            ? 'no peer holding this profile answered'
            : `${answers.length} peer(s) answered, none with a validly signed copy`
        throw new FluxError(
          'RECOVERY_NO_PEERS',
          `${which} within ${Math.round(timeout / 1000)}s: bring a device or a host of the profile online and try again (nothing was changed)`
        )
      }
      const chosen = chooseCopy(valid)
      const downloads = new CoreDownloads(this.deps.store)
      for (const a of answers) a.chosen = a === chosen
      progress({
        phase: 'found',
        message: `${valid.length} peer(s) hold the profile; reading the longest copy (${chosen.length} blocks)`
      })
      const base = fromHex(chosen.base)
      const { profile: record } = await profile
        .readProfile(
          { key: base, encryptionKey: secrets.encryptionKey, profileId: keys.profileId },
          async (probe) => {
            if (chosen.cores === undefined) {
              // a holder older than per-core lengths: its total is all there is to compare
              const have = await copyLength(this.deps.store, probe)
              progress({ phase: 'profile', message: `profile: ${have}/${chosen.length} blocks` })
              return have >= chosen.length ? true : null
            }
            // counted over the cores our own view lists (see heldOfCopy), each fetched whole
            const listed = await profileCores(probe)
            downloads.fetch(listed, chosen.cores)
            const held = heldOfCopy(await coreLengths(this.deps.store, listed), chosen.cores)
            progress({ phase: 'profile', message: `profile: ${held.have}/${held.want} blocks` })
            return held.done ? true : null
          },
          timeout,
          'the profile did not finish syncing'
        )
        .finally(() => downloads.close())
      await profile.keep(keys, opts.passphrase, {
        name: record.name,
        discovery,
        recovery: record.recovery,
        base
      })
      await profile.activate(keys)
      // the projects: their keys come from the recovery box, which only the phrase opens
      for (const p of await profile.requireBase().view.projects()) {
        const key = p.public
          ? null
          : p.recovery
            ? openRecovery(box, b4a.from(p.recovery, 'base64') as Buffer)
            : null
        if (!p.public && key === null) continue
        await projects.adopt(p.key, key, 'profile')
      }
      // no other device may be left to add us: add ourselves (identity-attested, optimistic)
      progress({ phase: 'profile', message: 'adding this device to the profile' })
      await profile.requireBase().recover(keys.device, keys.deviceProof, timeout)
      // projects the copy held outside the profile (by key, public ones): held again
      for (const entry of copy === null ? [] : Object.values(copy.state.projects)) {
        if (projects.get(entry.key) !== null) continue
        const key = entry.encryptionKey === null ? null : fromHex(entry.encryptionKey)
        await projects.adopt(entry.key, key, 'key')
      }
      const writerWait = copy === null ? timeout : Math.min(timeout, COPY_WRITER_WAIT)
      await this.deps.writers.waitAll(writerWait, progress, async (project) => {
        const listed = await profile.base?.view.project(toHex(project.key))
        return (await project.view.project())?.name.value || listed?.name || ''
      })
      const restored: RecoveryReport['projects'] = []
      for (const project of projects.list()) {
        const info = await project.view.project()
        const sys = await project.view.system()
        restored.push({
          key: encodeKey(project.key),
          name: info?.name.value ?? '',
          writable: project.writable,
          posts: sys.posts
        })
      }
      const who = await profile.whoami()
      if (who === null) throw new FluxError('INTERNAL', 'the profile did not activate')
      return {
        whoami: who,
        answered: answers.map(({ sig: _, cores: _cores, ...a }) => a),
        projects: restored,
        ...(fromCopy === null
          ? {}
          : { fromCopy: { ...fromCopy.report, projects: restored.length } })
      }
    } finally {
      sodium.sodium_memzero(box.secretKey)
      await copy?.close().catch(() => {})
    }
  }

  /**
   * Read a copy of a home: check it is of this profile, move every block it holds into our
   * store (read-only on its side: its cores are never written again), and answer for it as a
   * peer would, so that the longest copy still wins when peers hold more.
   */
  private async readCopy(
    copy: HomeCopy,
    profileId: Buffer,
    discovery: Buffer,
    progress: (p: Progress) => void
  ): Promise<{ answer: Heard; report: NonNullable<RecoveryReport['fromCopy']> }> {
    const entry = copy.state.profile
    if (entry === null || entry.id !== toHex(profileId)) {
      throw new FluxError(
        'INVALID_INPUT',
        entry === null
          ? `the copy at ${copy.dir} has no profile: nothing of this phrase's profile is in it`
          : `the copy at ${copy.dir} is of another profile (${entry.name}): not the one of this phrase`
      )
    }
    if (entry.base === null || entry.baseSig === null) {
      throw new FluxError(
        'INVALID_INPUT',
        `the copy at ${copy.dir} never held its profile's base: recover from peers instead`
      )
    }
    progress({ phase: 'copy', message: `reading the copy at ${copy.dir}` })
    const copied = await copyCores(copy.store, this.deps.store, (p) =>
      progress({
        phase: 'copy',
        message: `from the copy: ${p.cores}/${p.of} cores, ${p.blocks} blocks`
      })
    )
    const answer: Heard = {
      ...judge(profileId, discovery, {
        discovery: toHex(discovery),
        base: entry.base,
        sig: entry.baseSig,
        length: copied.blocks,
        cores: copied.lengths
      }),
      peer: `copy ${copy.dir}`
    }
    if (!answer.valid) {
      throw new FluxError(
        'BACKUP_UNREADABLE',
        `the copy at ${copy.dir} names a profile base its profile did not sign: it was altered`
      )
    }
    return {
      answer,
      report: { dir: copy.dir, cores: copied.cores, blocks: copied.blocks, projects: 0 }
    }
  }

  /** Ask every peer on the profile topic for the profile; collect answers (bounded). */
  private async ask(
    profileId: Buffer,
    discovery: Buffer,
    timeout: number,
    known: Heard | null
  ): Promise<Heard[]> {
    const { clock, network } = this.deps
    const discoveryHex = toHex(discovery)
    const answers: Heard[] = known === null ? [] : [known]
    const answered = new Set<string>()
    const asking = new Set<string>()
    return new Promise((resolve) => {
      let grace: { clear(): void } | null = null
      let done = false
      const finish = (): void => {
        if (done) return
        done = true
        overall.clear()
        grace?.clear()
        retry.clear()
        this.channel.off('open', askPeer)
        resolve(answers)
      }
      const askPeer = (peer: ChannelPeer): void => {
        if (done || answered.has(peer.id) || asking.has(peer.id)) return
        asking.add(peer.id)
        void this.channel
          .request(peer, 'profile-query', { discovery: discoveryHex }, ASK_TIMEOUT)
          .then((copy) => {
            asking.delete(peer.id)
            if (done || copy === null || copy.discovery !== discoveryHex) return
            if (answered.has(peer.id)) return
            answered.add(peer.id)
            const peerId = encodeKey(fromHex(peer.id))
            const answer = { ...judge(profileId, discovery, copy), peer: peerId }
            answers.push(answer)
            const { sig: _sig, cores: _cores, ...heard } = answer
            this.emit('recovery-answer', heard)
            if (answer.valid && grace === null) grace = clock.setTimeout(finish, ANSWER_GRACE)
          })
      }
      const askAll = (): void => {
        for (const peer of this.channel.peers()) askPeer(peer)
      }
      const overall = clock.setTimeout(finish, timeout)
      // a copy already in hand: peers have the grace period to answer with a longer one
      if (known !== null) grace = clock.setTimeout(finish, ANSWER_GRACE)
      // peers that had nothing to say yet are asked again now and then (bounded)
      const retry = clock.setInterval(askAll, 1000)
      this.channel.on('open', askPeer)
      network.topics
        .join(profileTopic(discovery), TOPIC_OWNER)
        .then(askAll)
        .catch(() => {})
    })
  }
}

/** Whether a copy is validly signed by the profile. */
function judge(
  profileId: Buffer,
  discovery: Buffer,
  copy: Copy
): Omit<RecoveryAnswer, 'peer'> & Pick<Copy, 'sig' | 'cores'> {
  let valid = false
  try {
    valid = verifySignature(profileId, copy.sig, baseStatement(fromHex(copy.base), discovery)).valid
  } catch {
    valid = false
  }
  return {
    base: copy.base,
    length: copy.length,
    valid,
    chosen: false,
    sig: copy.sig,
    ...(copy.cores ? { cores: copy.cores } : {})
  }
}

/**
 * The cores of a copy being recovered, each fetched whole up to the chosen copy's length:
 * Autobase alone may not fetch every block a holder counted (a removed writer's later blocks).
 */
class CoreDownloads {
  private readonly open = new Map<string, Hypercore>()

  constructor(private readonly store: Corestore) {}

  fetch(keys: string[], target: Record<string, number>): void {
    for (const key of keys) {
      const end = target[key] ?? 0
      if (end === 0 || this.open.has(key)) continue
      const core = this.store.get({ key: fromHex(key) })
      this.open.set(key, core)
      core
        .ready()
        .then(() => core.download({ start: 0, end }))
        .catch(() => {})
    }
  }

  async close(): Promise<void> {
    for (const core of this.open.values()) await core.close().catch(() => {})
    this.open.clear()
  }
}
