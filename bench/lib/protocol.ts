/** The messages between the bench orchestrator and its worker processes (Node IPC, JSON). */

export interface Request {
  kind: 'req'
  id: number
  cmd: string
  args: Record<string, unknown>
}

export type Reply =
  | { kind: 'res'; id: number; ok: true; value: unknown }
  | { kind: 'res'; id: number; ok: false; error: string }

/** Sent by a worker on its own (hash changes while converging, for instance). */
export interface WorkerEvent {
  kind: 'event'
  topic: string
  data: unknown
}

export type FromWorker = Reply | WorkerEvent

/** A view's state as a watcher saw it: `at` is when the snapshot it hashed was taken. */
export interface HashSeen {
  watch: string
  /** The view core's length and tree hash ("9020:8cacd1b661be"). */
  hash: string
  applied: number
  at: number
  /** How long hashing this snapshot took (ms): watch overhead, for diagnosis. */
  hashMs: number
  /** When the watcher first saw `target` ops applied. */
  reachedAt: number
  /** With content watching: the full content hash of the same snapshot, and when it was done. */
  content?: string
  doneAt?: number
}
