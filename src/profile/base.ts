/**
 * A profile's own Autobase: every device of the profile writes to its own core, Autobase
 * linearizes, and apply folds the ops into a Hyperbee view (devices, projects and the sealed
 * project keys). The whole base is encrypted with the profile encryption key, so a host can
 * store and serve it without reading it.
 */
import type Autobase from 'autobase'
import type Hyperbee from 'hyperbee'
import ReadyResource from 'ready-resource'
import crypto from 'hypercore-crypto'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import type Corestore from 'corestore'
import { FluxError } from '../errors.js'
import { withTimeout } from '../util/timeout.js'
import type { KeyPair } from '../identity/profile-keys.js'
import { createProfileApply } from './apply.js'
import { openViewBase } from '../autobase/view-base.js'
import {
  MAX_PROFILE_OP_BYTES,
  PROFILE_OP_VERSION,
  encodeProfileOp,
  validateProfileOp,
  type ProfileOp,
  type ProfileOpBody,
  recoveryStatement,
  toB64
} from './ops.js'
import { ProfileView } from './view.js'

export interface ProfileBaseOptions {
  /** The profile base key, or null to create the base (this device becomes its bootstrap). */
  key: Buffer | null
  /** The profile encryption key (`ProfileSecrets.encryptionKey`): the base is encrypted with it. */
  encryptionKey: Buffer
  /** The identity public key every device proof and grant must chain to. */
  profileId: Buffer
  /** Clock used for op timestamps (tests inject skewed clocks). */
  now?: () => number
  /** The node's shared Autobase wakeup protocol (see Network.wakeup). */
  wakeup?: unknown
}

export class ProfileBase extends ReadyResource {
  readonly store: Corestore
  readonly view: ProfileView
  private readonly autobase: Autobase<Hyperbee>
  private readonly now: () => number

  /** `store` should be a namespace of its own: Autobase takes the store's 'local' core. */
  constructor(store: Corestore, opts: ProfileBaseOptions) {
    super()
    if (!(opts.profileId instanceof Uint8Array) || opts.profileId.byteLength !== 32) {
      throw new FluxError('INVALID_INPUT', 'the profile id must be 32 bytes')
    }
    if (!(opts.encryptionKey instanceof Uint8Array) || opts.encryptionKey.byteLength !== 32) {
      throw new FluxError('INVALID_INPUT', 'the profile encryption key must be 32 bytes')
    }
    this.store = store
    this.now = opts.now ?? Date.now
    const profileId = b4a.toString(opts.profileId, 'hex')
    this.autobase = openViewBase(
      store,
      opts.key,
      {
        encryptionKey: opts.encryptionKey,
        wakeup: opts.wakeup,
        // a recovered device adds itself with an optimistic block (device/recover)
        optimistic: true,
        apply: (ids) =>
          createProfileApply({
            get bootstrap() {
              return ids.bootstrap
            },
            profileId
          })
      },
      this
    )
    this.view = new ProfileView(this.autobase.view)
  }

  protected override async _open(): Promise<void> {
    await this.autobase.ready()
  }

  protected override async _close(): Promise<void> {
    await this.autobase.close()
  }

  /** The Autobase itself (for replication and hosting). */
  get base(): Autobase<Hyperbee> {
    return this.autobase
  }

  get key(): Buffer {
    return this.autobase.key
  }

  get discoveryKey(): Buffer {
    return this.autobase.discoveryKey
  }

  get writable(): boolean {
    return this.autobase.writable
  }

  /** This device's writer core key: what `device/add` names as `writer`. */
  get writerKey(): Buffer {
    return this.autobase.local.key as Buffer
  }

  /** Build a full op from a body: a fresh id and this device's clock. */
  makeOp(body: ProfileOpBody): ProfileOp {
    return {
      v: PROFILE_OP_VERSION,
      id: crypto.randomBytes(16).toString('hex'),
      ts: this.now(),
      ...body
    }
  }

  /**
   * Append one op (one block). Throws INVALID_INPUT for a malformed body, NOT_WRITABLE when
   * this device is not (yet) a writer. Rights are judged by apply: an op this device may not
   * make is appended and then skipped by every peer.
   */
  async append(body: ProfileOpBody): Promise<ProfileOp> {
    const checked = validateProfileOp(this.makeOp(body))
    if (!checked.ok) throw new FluxError('INVALID_INPUT', checked.reason)
    const block = encodeProfileOp(checked.op)
    if (block.byteLength > MAX_PROFILE_OP_BYTES) {
      throw new FluxError(
        'INVALID_INPUT',
        `the op is too large (${block.byteLength} bytes, at most ${MAX_PROFILE_OP_BYTES})`
      )
    }
    await this.appendRaw(block)
    return checked.op
  }

  /**
   * On a device attested by the identity itself (recovered from the phrase) that is not a
   * writer: add itself, in an optimistic block that apply accepts on every peer only with a
   * valid proof and signature (see `device/recover` in apply.ts). Resolves once writable.
   */
  async recover(device: KeyPair, proof: Buffer, timeoutMs: number): Promise<void> {
    if (this.autobase.writable) return
    const sig = b4a.alloc(sodium.crypto_sign_BYTES) as Buffer
    sodium.crypto_sign_detached(sig, recoveryStatement(this.key, this.writerKey), device.secretKey)
    const checked = validateProfileOp(
      this.makeOp({
        type: 'device/recover',
        device: b4a.toString(device.publicKey, 'hex'),
        proof: toB64(proof),
        sig: toB64(sig)
      })
    )
    if (!checked.ok) throw new FluxError('INVALID_INPUT', checked.reason)
    await this.autobase.append(encodeProfileOp(checked.op), { optimistic: true })
    await this.waitWritable(timeoutMs)
  }

  /** Append an already encoded block as is (no validation: peers validate in apply). */
  async appendRaw(block: Buffer): Promise<void> {
    if (this.closing) throw new FluxError('NODE_CLOSED', 'the profile base is closing')
    if (!this.autobase.writable) {
      throw new FluxError('NOT_WRITABLE', 'this device is not a writer of the profile')
    }
    await this.autobase.append(block)
  }

  async update(): Promise<void> {
    await this.autobase.update()
  }

  /** Wait until this device is a writer, or fail with TIMEOUT after `timeoutMs`. */
  async waitWritable(timeoutMs: number): Promise<void> {
    if (this.autobase.writable) return
    await withTimeout(
      this.autobase.waitForWritable(),
      timeoutMs,
      'not yet a writer of the profile: no linked device added us'
    )
  }
}
