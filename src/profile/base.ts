/**
 * A profile's own Autobase: every device of the profile writes to its own core, Autobase
 * linearizes, and apply folds the ops into a Hyperbee view (devices, projects and the sealed
 * project keys). The whole base is encrypted with the profile encryption key, so a host can
 * store and serve it without reading it.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import type Corestore from 'corestore'
import { FluxError } from '../errors.js'
import { FluxBase } from '../autobase/base.js'
import type { Clock } from '../util/clock.js'
import type { KeyPair } from '../identity/profile-keys.js'
import { createProfileApply } from './apply.js'
import { encodeOp } from '../autobase/envelope.js'
import { profileCodec, recoveryStatement, toB64, type ProfileOp } from './ops.js'
import { ProfileView } from '../views/profile.js'

export interface ProfileBaseOptions {
  /** The profile base key, or null to create the base (this device becomes its bootstrap). */
  key: Buffer | null
  /** The profile encryption key (`ProfileSecrets.encryptionKey`): the base is encrypted with it. */
  encryptionKey: Buffer
  /** The identity public key every device proof and grant must chain to. */
  profileId: Buffer
  /** Clock for op timestamps (tests inject skewed clocks). */
  clock?: Clock
  /** The node's shared Autobase wakeup protocol (see Network.wakeup). */
  wakeup?: unknown
}

export class ProfileBase extends FluxBase<ProfileOp> {
  readonly view: ProfileView

  /** `store` should be a namespace of its own: Autobase takes the store's 'local' core. */
  constructor(store: Corestore, opts: ProfileBaseOptions) {
    if (!(opts.profileId instanceof Uint8Array) || opts.profileId.byteLength !== 32) {
      throw new FluxError('INVALID_INPUT', 'the profile id must be 32 bytes')
    }
    if (!(opts.encryptionKey instanceof Uint8Array) || opts.encryptionKey.byteLength !== 32) {
      throw new FluxError('INVALID_INPUT', 'the profile encryption key must be 32 bytes')
    }
    const profileId = b4a.toString(opts.profileId, 'hex')
    super(store, {
      key: opts.key,
      encryptionKey: opts.encryptionKey,
      codec: profileCodec,
      // a recovered device adds itself with an optimistic block (device/recover)
      optimistic: true,
      apply: (ids) =>
        createProfileApply({
          get bootstrap() {
            return ids.bootstrap
          },
          profileId,
          onUnexpected: ids.onUnexpected
        }),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.wakeup ? { wakeup: opts.wakeup } : {}),
      messages: {
        notWritable: 'this device is not a writer of the profile',
        waitWritable: 'not yet a writer of the profile: no linked device added us',
        closing: 'the profile base is closing'
      }
    })
    this.view = new ProfileView(this.bee)
  }

  /**
   * On a device attested by the identity itself (recovered from the phrase) that is not a
   * writer: add itself, in an optimistic block that apply accepts on every peer only with a
   * valid proof and signature (see `device/recover` in apply.ts). Resolves once writable.
   */
  async recover(device: KeyPair, proof: Buffer, timeoutMs: number): Promise<void> {
    if (this.base.writable) return
    const sig = b4a.alloc(sodium.crypto_sign_BYTES) as Buffer
    sodium.crypto_sign_detached(sig, recoveryStatement(this.key, this.writerKey), device.secretKey)
    const checked = this.validate(
      this.makeOp({
        type: 'device/recover',
        device: b4a.toString(device.publicKey, 'hex'),
        proof: toB64(proof),
        sig: toB64(sig)
      })
    )
    if (!checked.ok) throw new FluxError('INVALID_INPUT', checked.reason)
    await this.base.append(encodeOp(checked.op), { optimistic: true })
    await this.waitWritable(timeoutMs)
  }
}
