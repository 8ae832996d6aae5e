/**
 * The Autobase every Flux base is: binary blocks, a Hyperbee view (utf-8 keys, JSON values),
 * encrypted or not, on the node's shared wakeup protocol. Projects and profiles differ only in
 * their apply, which gets the bootstrap key (hex): known up front when opening an existing
 * base, learnt from Autobase when creating one.
 */
import Autobase from 'autobase'
import Hyperbee from 'hyperbee'
import type Corestore from 'corestore'
import type { EventEmitter } from 'events'
import { toHex } from '../identity/keys.js'

export interface ViewBaseOptions {
  encryptionKey: Buffer | null
  /** The node's shared Autobase wakeup protocol (see Network.wakeup). */
  wakeup?: unknown
  /** Let non-writers append blocks that apply may accept (profile recovery). */
  optimistic?: boolean
  /** Build the apply function; `bootstrap()` gives the bootstrap key (hex) when it runs. */
  apply: (bootstrap: { readonly bootstrap: string }) => Autobase.AutobaseHandlers<Hyperbee>['apply']
}

/** Open the base; its update, writable and error events are re-emitted on `owner`. */
export function openViewBase(
  store: Corestore,
  key: Buffer | null,
  opts: ViewBaseOptions,
  owner: EventEmitter
): Autobase<Hyperbee> {
  let bootstrap = key === null ? '' : toHex(key)
  const apply = opts.apply({
    get bootstrap() {
      return bootstrap
    }
  })
  const base: Autobase<Hyperbee> = new Autobase<Hyperbee>(store, key, {
    encryptionKey: opts.encryptionKey,
    valueEncoding: 'binary',
    ackInterval: 1000,
    ...(opts.optimistic ? { optimistic: true } : {}),
    ...(opts.wakeup ? { wakeup: opts.wakeup } : {}),
    open: (viewStore) =>
      new Hyperbee(viewStore.get({ name: 'view' }), {
        keyEncoding: 'utf-8',
        valueEncoding: 'json',
        extension: false
      }),
    apply: (nodes, view, host) => {
      if (bootstrap === '') bootstrap = toHex(base.key)
      return apply(nodes, view, host)
    }
  })
  base.on('update', () => owner.emit('update'))
  base.on('writable', () => owner.emit('writable'))
  base.on('error', (err: unknown) => owner.emit('warning', err))
  return base
}
