/**
 * Use-cases for the profile this node runs as: create it, see it, sign as it, link and revoke
 * devices, recover it from the mesh.
 */
import z32 from 'z32'
import { FluxError } from '../errors.js'
import { requireOnline } from './guards.js'
import type { FluxNode } from '../node.js'
import type { LinkService } from '../services/links.js'
import type { RecoveryService } from '../services/recovery.js'
import type {
  CreatedLink,
  DeviceInfo,
  DeviceProofInfo,
  InitResult,
  RecoveryReport,
  SignResult,
  WhoAmI
} from '../api.js'

export class ProfileActions {
  constructor(private readonly node: FluxNode) {}

  /** Create a profile: the phrase is returned once, to be shown, and stored nowhere. */
  async init(opts: { name: string; passphrase?: string | null }): Promise<InitResult> {
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

  link(opts: { expires?: number; delegateFor?: number } = {}): Promise<CreatedLink> {
    return this.node.links.create(opts)
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
    phrase: string,
    opts: Parameters<RecoveryService['recover']>[1]
  ): Promise<RecoveryReport> {
    requireOnline(this.node, 'recovery')
    return this.node.recovery.recover(phrase, opts)
  }
}
