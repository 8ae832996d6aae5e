/**
 * Waiting for a condition that changes with events: `check` runs at once, on every `event` of
 * `emitter`, and every second (some changes arrive without an event), until it gives a value,
 * or the wait fails with TIMEOUT after `timeout` ms. Checks never overlap.
 */
import type { EventEmitter } from 'events'
import { FluxError } from '../errors.js'
import { systemClock, type Clock } from './clock.js'

export function waitFor<T>(
  check: () => Promise<T | null>,
  on: { emitter: Pick<EventEmitter, 'on' | 'off'>; event: string },
  timeout: number,
  message: string,
  clock: Clock = systemClock
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false
    let running = false
    const finish = (err: unknown, value?: T): void => {
      if (done) return
      done = true
      timer.clear()
      poll.clear()
      on.emitter.off(on.event, run)
      if (err) reject(err)
      else resolve(value as T)
    }
    const run = (): void => {
      if (running || done) return
      running = true
      check()
        .then((v) => {
          running = false
          if (v !== null) finish(null, v)
        })
        .catch((err: unknown) => {
          running = false
          finish(err)
        })
    }
    const timer = clock.setTimeout(
      () => finish(new FluxError('TIMEOUT', `${message} (after ${Math.round(timeout / 1000)}s)`)),
      timeout
    )
    const poll = clock.setInterval(run, 1000)
    on.emitter.on(on.event, run)
    run()
  })
}
