/**
 * The lifecycle every stateful part of Flux shares (ReadyResource: `_open`, `_close`, one
 * `ready()` and one `close()`), with its events typed by a map bound to the emitter: a
 * listener gets exactly the arguments its event carries, and emitting a wrong shape does not
 * compile.
 */
import ReadyResource from 'ready-resource'

/** Event name → the arguments its listeners get. */
export type EventMap<E> = { [K in keyof E]: unknown[] }

type Listener<A> = A extends unknown[] ? (...args: A) => void : never

export abstract class Service<E extends EventMap<E>> extends ReadyResource {
  override on<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    return super.on(event, listener)
  }

  override once<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    return super.once(event, listener)
  }

  override off<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    return super.off(event, listener)
  }

  // ReadyResource emits 'ready' and 'close' itself; every other event is one of the map's
  override emit(event: 'ready' | 'close'): boolean
  override emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean
  override emit(event: string, ...args: unknown[]): boolean {
    return super.emit(event, ...args)
  }
}
