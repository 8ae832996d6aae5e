/**
 * Use-cases for the profile this node runs as: create it, see it, sign as it, link and revoke
 * devices, recover it from the mesh.
 */
import z32 from 'z32'
import { FluxError } from '../errors.js'
import { requireOnline } from './guards.js'
import { decodeKey, encodeKey, fromHex, toHex } from '../identity/keys.js'
import type { FluxNode } from '../node.js'
import type { LinkService } from '../services/links.js'
import type { ProfileMaterial } from '../identity/handover.js'
import type { RecoveryService } from '../services/recovery.js'
import type {
  CreatedLink,
  DeviceInfo,
  DeviceProofInfo,
  InitResult,
  RecoveryReport,
  RevocationInfo,
  SignResult,
  WhoAmI
} from '../api.js'

export class ProfileActions {
  constructor(private readonly node: FluxNode) {}

  /** Create a profile: the phrase is returned once, to be shown, and stored nowhere. */
  async init(opts: {
    name: string
    passphrase?: string | null
    material?: ProfileMaterial
  }): Promise<InitResult> {
    const { phrase } = await this.node.profile.init(opts)
    const who = await this.whoami()
    return { profile: who.profile, name: who.name, device: who.device, phrase }
  }

  /** The profile this node runs as; NO_PROFILE when it runs without one (hosting only). */
  async whoami(): Promise<WhoAmI> {
    this.node.profile.requireKeys()
    const who = await this.node.profile.whoami()
    if (who === null) throw new FluxError('NO_PROFILE', 'this node has no profile yet')
    return who
  }

  rename(name: string): Promise<WhoAmI> {
    return this.node.profile.setName(name)
  }

  async sign(message: string): Promise<SignResult> {
    await this.node.devices.requireNotRevoked('sign as the profile')
    const signature = this.node.profile.sign(message)
    const who = await this.whoami()
    return { profile: who.profile, device: who.device, signature }
  }

  /** This device's proof (z-base-32), for `flux verify <profile> <proof>`. */
  async proof(): Promise<DeviceProofInfo> {
    const who = await this.whoami()
    const keys = this.node.profile.requireKeys()
    return {
      profile: who.profile,
      device: who.device,
      delegated: who.delegated,
      proof: z32.encode(keys.deviceProof)
    }
  }

  async link(opts: { expires?: number; delegateFor?: number } = {}): Promise<CreatedLink> {
    await this.node.devices.requireNotRevoked('link new devices')
    return this.node.links.create(opts)
  }

  /** Whether this node knows `device` of `profile` (z-base-32 ids) to be revoked. */
  async revocation(profile: string, device: string): Promise<RevocationInfo> {
    const r = await this.node.devices.revocation(
      toHex(decodeKey(profile, 'profile id')),
      toHex(decodeKey(device, 'device key'))
    )
    return {
      known: r.known,
      revoked:
        r.revoked === null
          ? null
          : {
              device: encodeKey(fromHex(r.revoked.device)),
              by: encodeKey(fromHex(r.revoked.by)),
              at: r.revoked.at
            }
    }
  }

  joinDevice(code: string, opts: Parameters<LinkService['join']>[1]): Promise<WhoAmI> {
    requireOnline(this.node, 'linking a device')
    return this.node.links.join(code, opts)
  }

  async devices(): Promise<DeviceInfo[]> {
    return (await this.whoami()).devices
  }

  revoke(ref: string): Promise<{ device: DeviceInfo; projects: number }> {
    return this.node.devices.revoke(ref)
  }

  recover(
    phrase: string | ProfileMaterial,
    opts: Parameters<RecoveryService['recover']>[1]
  ): Promise<RecoveryReport> {
    // from a copy of a home, recovery works offline (peers are asked too, when online)
    if (opts.from === undefined) requireOnline(this.node, 'recovery')
    return this.node.recovery.recover(phrase, opts)
  }
}
