/**
 * The cores a copy of an Autobase starts from before it knows any indexer: one per view
 * ('_system', '_encryption' and Flux's 'view'), with a key derived from the base key and the
 * view's name only (Autobase 7.28.1, lib/store.js, `_createManifest` with no indexer: a
 * prologue `hash([baseKey, name])` of length 0 and no signer). No namespace enters the key, so
 * every copy of one project in one store, in any namespace, opens the same three cores.
 *
 * A copy applies into these cores' 'batch' sessions until the view moves to the indexers'
 * cores. Left on disk after a leave, that batch is the old copy's state: a new copy (joining
 * again, by invite or by key) reads it as its own, finds a system that names view cores it
 * does not have, and Autobase closes the base (`Cannot read properties of null (reading
 * 'download')` in ApplyState.update; by key, Hyperbee fails on the old encrypted blocks:
 * DECODING_ERROR "Groups are not supported").
 */
import crypto from 'hypercore-crypto'
import Hypercore from 'hypercore'

/** The views every Flux base has: Autobase's two, then the one `open` makes. */
const VIEW_NAMES = ['_system', '_encryption', 'view']

/** The keys of the first (indexer-less) cores of the base of `key`. */
export function firstViewCores(key: Buffer): Buffer[] {
  return VIEW_NAMES.map((name) =>
    Hypercore.key({
      version: 1,
      hash: 'blake2b',
      prologue: { hash: crypto.hash([key, Buffer.from(name)]), length: 0 },
      allowPatch: true,
      quorum: 0,
      signers: [],
      userData: null,
      linked: null
    })
  )
}

/**
 * Whether the copy of a base that writes with `local` has never applied anything: its writer
 * core holds no boot record. Autobase writes that record before it flushes the views
 * (lib/apply-state.js, `_flush`) and starts a copy without one from nothing, so whatever the
 * first view cores hold then is not this copy's to keep.
 */
export async function neverApplied(local: Hypercore): Promise<boolean> {
  return (await local.getUserData('autobase/boot')) == null
}
