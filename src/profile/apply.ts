/**
 * apply for the profile Autobase: the profile's rules for the base kit's runner, one handler
 * per op type. Pure and deterministic: no clock, no randomness, no network. Never throws on
 * peer input: a bad op is recorded as skipped, identically on every peer.
 *
 * Rights: only the bootstrap writer may `profile/init` (once). Every other op must come from a
 * writer core mapped to a full device (not a delegate) that is active: not revoked, and no key
 * of its proof chain revoked.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { wins, type Register } from '../autobase/merge.js'
import {
  Skip,
  createApply,
  dispatch,
  type ApplyContext,
  type ApplyFunction,
  type BaseRules,
  type Handlers,
  type UnexpectedListener
} from '../autobase/runner.js'
import type { ViewTx } from '../autobase/tx.js'
import { verifyDelegation, verifyDevice } from '../identity/devices.js'
import {
  ProfileKeys,
  chainRevoked,
  deviceActive,
  emptyProfileSystem,
  type DeviceRecord,
  type OpRecord,
  type ProfileRecord,
  type ProfileSystemRecord,
  type ProjectEntry
} from '../views/profile.js'
import {
  fromB64,
  profileCodec,
  recoveryStatement,
  type HexKey,
  type ProfileOp,
  type SealedKeys
} from './ops.js'

interface Ctx extends ApplyContext<ProfileSystemRecord> {
  bootstrap: HexKey
  profileId: HexKey
}

/** The context of an op from an active full device of an initialised profile. */
interface DeviceCtx extends Ctx {
  profile: ProfileRecord
  /** The author's device. */
  me: DeviceRecord
}

type OpOf<T extends ProfileOp['type']> = Extract<ProfileOp, { type: T }>

export interface ProfileApplyOptions {
  /** The base's bootstrap key (hex): the first device's writer core, the only one that may init. */
  readonly bootstrap: HexKey
  /** The profile id (hex) every device proof and grant must chain to. */
  readonly profileId: HexKey
  /** Told of an op skipped as an unexpected error (a local warning). */
  readonly onUnexpected?: UnexpectedListener
}

export function createProfileApply(opts: ProfileApplyOptions): ApplyFunction {
  const rules: BaseRules<ProfileOp, ProfileSystemRecord, Ctx> = {
    codec: profileCodec,
    systemKey: ProfileKeys.system,
    emptySystem: emptyProfileSystem,
    skipKey: ProfileKeys.skip,
    seen: (b, op) => b.has(ProfileKeys.op(op.id)),
    context: (base) => ({ ...base, bootstrap: opts.bootstrap, profileId: opts.profileId }),
    apply: applyOp,
    async applied(ctx, op) {
      await ctx.b.put(ProfileKeys.op(op.id), {
        writer: ctx.author,
        skipped: false
      } satisfies OpRecord)
    },
    async skipped(b, _sys, author, op) {
      await b.put(ProfileKeys.op(op.id), { writer: author, skipped: true } satisfies OpRecord)
    }
  }
  return createApply(rules, opts.onUnexpected)
}

const handlers: Handlers<
  Exclude<ProfileOp, { type: 'profile/init' | 'device/recover' }>,
  DeviceCtx
> = {
  'profile/name': setName,
  'device/add': addDevice,
  'device/revoke': revokeDevice,
  'project/add': addProject,
  'project/keys': addKeys,
  'project/remove': removeProject
}

async function applyOp(ctx: Ctx, op: ProfileOp): Promise<void> {
  if (op.type === 'profile/init') return init(ctx, op)
  const profile = await ctx.b.get<ProfileRecord>(ProfileKeys.profile)
  if (profile === null) throw new Skip('profile not initialised')
  if (op.type === 'device/recover') return recoverDevice(ctx, op)
  const me = await authorDevice(ctx)
  return dispatch(handlers, { ...ctx, profile, me }, op)
}

/** The bootstrap writer creates the profile, once, as the device the identity attested. */
async function init(ctx: Ctx, op: OpOf<'profile/init'>): Promise<void> {
  const { b } = ctx
  if (ctx.author !== ctx.bootstrap) {
    throw new Skip('only the bootstrap writer may initialise the profile')
  }
  if ((await b.get<ProfileRecord>(ProfileKeys.profile)) !== null) {
    throw new Skip('profile already initialised')
  }
  if (op.profile !== ctx.profileId) throw new Skip('init names another profile')
  const verified = verifyDevice(fromB64(op.proof), {
    profileId: b4a.from(ctx.profileId, 'hex'),
    devicePublicKey: b4a.from(op.device, 'hex')
  })
  if (verified === null) throw new Skip('the device proof does not chain to the profile')
  const device = identityDevice(ctx, op.device, op.deviceName, op.proof, verified.chain)
  const record: ProfileRecord = {
    profile: op.profile,
    discovery: op.discovery,
    recovery: op.recovery,
    name: reg(ctx, op, op.name),
    createdAt: ctx.ts,
    bootstrapDevice: op.device
  }
  await putDevice(b, device)
  await b.put(ProfileKeys.writer(ctx.author), op.device)
  await b.put(ProfileKeys.profile, record)
}

async function setName(ctx: DeviceCtx, op: OpOf<'profile/name'>): Promise<void> {
  const { profile } = ctx
  if (wins(profile.name, { id: op.id, ts: ctx.mergeTs, over: ctx.over, prev: op.prev })) {
    profile.name = reg(ctx, op, op.name)
    await ctx.b.put(ProfileKeys.profile, profile)
  }
}

async function addDevice(ctx: DeviceCtx, op: OpOf<'device/add'>): Promise<void> {
  const { b } = ctx
  const existing = await getDevice(b, op.device)
  if (existing !== null && existing.revoked !== null) {
    throw new Skip('a revoked device cannot be added again')
  }
  if (await deviceActive(existing, lookup(b))) throw new Skip('already an active device')
  const expect = {
    profileId: b4a.from(ctx.profileId, 'hex'),
    devicePublicKey: b4a.from(op.device, 'hex')
  }
  let chain: HexKey[]
  let expiresAt: number | null = null
  if (op.proof !== null) {
    const verified = verifyDevice(fromB64(op.proof), expect)
    if (verified === null) throw new Skip('the device proof does not chain to the profile')
    chain = verified.chain.map(hex)
  } else {
    const grant = verifyDelegation(fromB64(op.grant ?? ''), expect)
    if (grant === null) throw new Skip('the delegation grant does not chain to the profile')
    chain = grant.chain.map(hex)
    expiresAt = grant.expiresAt
  }
  if (await chainRevoked(chain, lookup(b))) {
    throw new Skip('the proof chain holds a revoked device')
  }
  if (op.writer !== null) {
    const holder = await b.get<HexKey>(ProfileKeys.writer(op.writer))
    if (holder !== null && holder !== op.device) {
      throw new Skip('the writer key belongs to another device')
    }
  }
  const record: DeviceRecord = {
    device: op.device,
    writer: op.writer ?? existing?.writer ?? null,
    name: op.name,
    proof: op.proof,
    grant: op.grant,
    delegated: op.grant !== null,
    expiresAt,
    chain,
    addedBy: ctx.me.device,
    addedAt: ctx.ts,
    revoked: null
  }
  await putDevice(b, record)
  if (op.writer !== null) {
    await b.put(ProfileKeys.writer(op.writer), op.device)
    await ctx.host.addWriter(b4a.from(op.writer, 'hex') as Buffer, { indexer: false })
  }
}

async function revokeDevice(ctx: DeviceCtx, op: OpOf<'device/revoke'>): Promise<void> {
  const target = await getDevice(ctx.b, op.device)
  if (target === null) throw new Skip('unknown device')
  if (target.revoked !== null) throw new Skip('device already revoked')
  if (op.device !== ctx.me.device && ctx.me.chain.includes(op.device)) {
    throw new Skip('a device cannot revoke one that attested it')
  }
  target.revoked = { by: ctx.me.device, at: ctx.ts }
  await ctx.b.put(ProfileKeys.device(op.device), target)
}

async function addProject(ctx: DeviceCtx, op: OpOf<'project/add'>): Promise<void> {
  const { b } = ctx
  const existing = await b.get<ProjectEntry>(ProfileKeys.project(op.key))
  const record: ProjectEntry = {
    key: op.key,
    name: op.name,
    public: op.public,
    keys: mergeKeys(existing?.keys ?? {}, op.keys),
    recovery: op.recovery ?? existing?.recovery ?? null,
    addedAt: existing?.addedAt ?? ctx.ts,
    removed: false
  }
  await b.put(ProfileKeys.project(op.key), record)
  if (existing === null) await addToIndex(b, ProfileKeys.projectIndex, op.key)
}

async function addKeys(ctx: DeviceCtx, op: OpOf<'project/keys'>): Promise<void> {
  const existing = await ctx.b.get<ProjectEntry>(ProfileKeys.project(op.key))
  if (existing === null) throw new Skip('unknown project')
  existing.keys = mergeKeys(existing.keys, op.keys)
  await ctx.b.put(ProfileKeys.project(op.key), existing)
}

async function removeProject(ctx: DeviceCtx, op: OpOf<'project/remove'>): Promise<void> {
  const existing = await ctx.b.get<ProjectEntry>(ProfileKeys.project(op.key))
  if (existing === null) throw new Skip('unknown project')
  if (existing.removed) throw new Skip('project already removed')
  existing.removed = true
  await ctx.b.put(ProfileKeys.project(op.key), existing)
}

/**
 * A device that holds the phrase adds itself (recovery, when no other device is left to add
 * it): the op comes from a writer core that is not in the base yet, appended optimistically,
 * and is accepted only if the device was attested by the identity itself (a chain of one link:
 * only the phrase makes such a proof) and signed this base and this writer core. Otherwise it
 * is skipped, and Autobase drops the optimistic block on every peer.
 */
async function recoverDevice(ctx: Ctx, op: OpOf<'device/recover'>): Promise<void> {
  const { b } = ctx
  if ((await b.get<HexKey>(ProfileKeys.writer(ctx.author))) !== null) {
    throw new Skip('this writer is already a device')
  }
  const device = b4a.from(op.device, 'hex')
  const verified = verifyDevice(fromB64(op.proof), {
    profileId: b4a.from(ctx.profileId, 'hex'),
    devicePublicKey: device
  })
  if (verified === null) throw new Skip('the device proof does not chain to the profile')
  if (verified.chain.length !== 1) {
    throw new Skip('only a device attested by the identity itself (the phrase) can recover')
  }
  const statement = recoveryStatement(b4a.from(ctx.bootstrap, 'hex'), b4a.from(ctx.author, 'hex'))
  if (!sodium.crypto_sign_verify_detached(fromB64(op.sig), statement, device)) {
    throw new Skip('the recovery is not signed by that device')
  }
  const existing = await getDevice(b, op.device)
  if (existing !== null) throw new Skip('that device is already known')
  await putDevice(b, identityDevice(ctx, op.device, 'recovered device', op.proof, verified.chain))
  await b.put(ProfileKeys.writer(ctx.author), op.device)
  await ctx.host.addWriter(b4a.from(ctx.author, 'hex') as Buffer, { indexer: false })
}

/** A device the identity attested itself (the first one, or a recovered one), writing as the author. */
function identityDevice(
  ctx: Ctx,
  device: HexKey,
  name: string,
  proof: string,
  chain: Uint8Array[]
): DeviceRecord {
  return {
    device,
    writer: ctx.author,
    name,
    proof,
    grant: null,
    delegated: false,
    expiresAt: null,
    chain: chain.map(hex),
    addedBy: null,
    addedAt: ctx.ts,
    revoked: null
  }
}

/** The author's device, if it may write: a full device, active, nothing in its chain revoked. */
async function authorDevice(ctx: Ctx): Promise<DeviceRecord> {
  const device = await ctx.b.get<HexKey>(ProfileKeys.writer(ctx.author))
  const record = device === null ? null : await getDevice(ctx.b, device)
  if (record === null) throw new Skip('writer is not a device of the profile')
  if (record.revoked !== null) throw new Skip('the device was revoked')
  if (record.delegated) throw new Skip('a delegated device cannot write to the profile')
  if (await chainRevoked(record.chain, lookup(ctx.b))) {
    throw new Skip('a device in its proof chain was revoked')
  }
  return record
}

function getDevice(b: ViewTx, device: HexKey): Promise<DeviceRecord | null> {
  return b.get<DeviceRecord>(ProfileKeys.device(device))
}

function lookup(b: ViewTx): (device: HexKey) => Promise<DeviceRecord | null> {
  return (device) => getDevice(b, device)
}

async function putDevice(b: ViewTx, record: DeviceRecord): Promise<void> {
  await b.put(ProfileKeys.device(record.device), record)
  await addToIndex(b, ProfileKeys.deviceIndex, record.device)
}

/** Append to an index record once (a batch cannot range-scan; devices and projects are few). */
async function addToIndex(b: ViewTx, key: string, item: HexKey): Promise<void> {
  const index = (await b.get<HexKey[]>(key)) ?? []
  if (index.includes(item)) return
  index.push(item)
  await b.put(key, index)
}

/** New recipients are added; a device's existing sealed copy is kept. */
function mergeKeys(current: SealedKeys, incoming: SealedKeys): SealedKeys {
  const out: SealedKeys = { ...current }
  for (const [device, sealed] of Object.entries(incoming)) {
    if (!Object.hasOwn(out, device)) out[device] = sealed
  }
  return out
}

function reg<T>(ctx: Ctx, op: ProfileOp, value: T): Register<T> {
  const r: Register<T> = { value, id: op.id, ts: ctx.mergeTs, by: ctx.author }
  if (ctx.over > 0) r.over = ctx.over
  return r
}

function hex(key: Uint8Array): HexKey {
  return b4a.toString(key, 'hex')
}
