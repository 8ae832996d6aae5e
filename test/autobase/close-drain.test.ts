import test, { type Test } from 'brittle'
import Corestore from 'corestore'
import type { Duplex } from 'stream'
import { FluxBase } from '../../src/autobase/base.js'
import {
  createApply,
  dispatch,
  type ApplyContext,
  type ApplyFunction,
  type BaseSystem,
  type Handlers
} from '../../src/autobase/runner.js'
import type { Codec } from '../../src/autobase/envelope.js'
import { isHexKey, isText, type Obj } from '../../src/autobase/shapes.js'
import { waitFor } from '../../src/util/until.js'

// Regression for Autobase 7.28.1 closing while it applies ops it just received: its _close
// does not wait for the update in flight, so the views are saved but not the record of the
// ops they hold; on restart the sole indexer applies them again, signs a view its peers cannot
// rebuild, and the replicas never converge. FluxBase.close() drains first (its appends, then
// base.update(), then base.close()); the control arm closes the Autobase underneath directly
// and shows that the shape below does catch the bug (DESIGN.md "Restarts: closing drains first").

type Op =
  | { v: number; id: string; ts: number; type: 'add'; value: string }
  | { v: number; id: string; ts: number; type: 'writer'; key: string }
type Ctx = ApplyContext<BaseSystem>
const codec: Codec<Op> = {
  version: 1,
  maxOpBytes: 1024,
  maxBlockBytes: 64 * 1024,
  maxBatchOps: 0,
  maxDepth: 4,
  body: (o: Obj) => {
    if (o.type === 'add')
      return isText(o.value, 100) ? { type: 'add', value: o.value } : 'bad value'
    if (o.type === 'writer') return isHexKey(o.key) ? { type: 'writer', key: o.key } : 'bad key'
    return 'unknown op type'
  }
}
const handlers: Handlers<Op, Ctx> = {
  async add(ctx, op) {
    await ctx.b.put(`add/${op.id}`, op.value)
  },
  async writer(ctx, op) {
    await ctx.host.addWriter(Buffer.from(op.key, 'hex'), { indexer: false })
    await ctx.b.put(`writer/${op.key}`, true)
  }
}

/** Lets a round see, on one peer, the end of each apply call and the ops it carried. */
interface Probe {
  onApplied: ((ops: Op[]) => void) | null
}

function applyWith(probe: Probe): ApplyFunction {
  let ops: Op[] = []
  const inner = createApply<Op, BaseSystem, Ctx>({
    codec,
    systemKey: 'sys',
    emptySystem: () => ({ applied: 0, skipped: 0, clocks: {} }),
    skipKey: (seq) => `skip/${seq}`,
    seen: (b, op) => b.has(`op/${op.id}`),
    context: (base) => base,
    apply: (ctx, op) => {
      ops.push(op)
      return dispatch(handlers, ctx, op)
    },
    applied: async (ctx, op) => ctx.b.put(`op/${op.id}`, true),
    skipped: async (b, _sys, _author, op) => b.put(`op/${op.id}`, true)
  })
  return async (nodes, view, host) => {
    ops = []
    await inner(nodes, view, host)
    probe.onApplied?.(ops)
  }
}

interface Peer {
  dir: string
  store: Corestore
  base: FluxBase<Op>
  probe: Probe
}

async function openPeer(dir: string, key: Buffer | null): Promise<Peer> {
  const store = new Corestore(dir)
  const probe: Probe = { onApplied: null }
  const base = new FluxBase<Op>(store, {
    key,
    encryptionKey: null,
    codec,
    apply: () => applyWith(probe)
  })
  await base.ready()
  return { dir, store, base, probe }
}

function connect(a: Peer, b: Peer): Duplex[] {
  const s1 = a.store.replicate(true)
  const s2 = b.store.replicate(false)
  s1.on('error', () => {})
  s2.on('error', () => {})
  s1.pipe(s2).pipe(s1)
  return [s1, s2]
}

function disconnect(streams: Duplex[]): void {
  for (const s of streams) s.destroy()
}

/** Resolve once `check` holds, re-checking on the peer's updates (and every second). */
function until(p: Peer, check: () => Promise<boolean>, what: string): Promise<true> {
  return waitFor(
    async () => {
      await p.base.update()
      return (await check()) ? true : null
    },
    { emitter: p.base, event: 'update' },
    10_000,
    what
  )
}

async function applied(p: Peer): Promise<number> {
  return ((await p.base.bee.get('sys'))?.value as BaseSystem | undefined)?.applied ?? 0
}

/** Everything that must match: the entries, the view's length and tree, the system. */
async function state(
  p: Peer
): Promise<{ entries: string; len: number; tree: string; system: string }> {
  const entries: string[] = []
  for await (const e of p.base.bee.createReadStream()) {
    entries.push(`${e.key}=${JSON.stringify(e.value)}`)
  }
  const len = p.base.bee.core.length
  return {
    entries: entries.join('\n'),
    len,
    tree: (await p.base.bee.core.treeHash(len)).toString('hex'),
    system: (await p.base.base.hash()).toString('hex')
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Resolve after `turns` turns of the event loop. */
function turns(n: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const step = (): void => {
      if (n-- > 0) setImmediate(step)
      else resolve()
    }
    step()
  })
}

/** A's writer op and a1; B's b0, b0u, b0v, b1, b2. */
const OPS = 7

interface Round {
  converged: boolean
  ms: number
  detail: string
}

/**
 * One round, the shape of raw.cjs closeduring: A (bootstrap, sole indexer) and B (a writer A
 * added) converged; B appends two ops and A is closed while it applies them; B appends two more
 * while A is away; A reopens on the same storage, appends at once, and reconnects. Converged:
 * all ops applied, and the same entries, view length, view tree and system on both.
 */
async function round(t: Test, i: number, drain: boolean, timeout: number): Promise<Round> {
  let a = await openPeer(await t.tmp(), null)
  const key = a.base.key
  const b = await openPeer(await t.tmp(), key)
  let link = connect(a, b)
  try {
    await a.base.append({ type: 'writer', key: b.base.writerKey.toString('hex') })
    await until(b, async () => b.base.writable, 'B to become a writer')
    await b.base.append({ type: 'add', value: 'b0' })
    await until(a, async () => (await applied(a)) === 2, 'A to apply b0')
    await until(b, async () => (await applied(b)) === 2, 'B to see A apply b0')

    // B's two ops reach A; A is closed a few event-loop turns after the apply call that
    // carries the second one returns: its views are written, the record of the ops may not be
    const inApply = new Promise<void>((resolve) => {
      const giveUp = setTimeout(resolve, 3000)
      a.probe.onApplied = (ops) => {
        if (!ops.some((op) => op.type === 'add' && op.value === 'b0v')) return
        a.probe.onApplied = null
        clearTimeout(giveUp)
        turns(1 + (i % 3)).then(resolve, resolve)
      }
    })
    await b.base.append({ type: 'add', value: 'b0u' })
    await b.base.append({ type: 'add', value: 'b0v' })
    await inApply
    disconnect(link)
    if (drain) {
      await a.base.close() // FluxBase: its appends, then base.update(), then base.close()
    } else {
      await a.base.base.close() // the bare Autobase close: no drain
      await a.base.close()
    }
    await a.store.close()

    // while A is away, B writes
    await b.base.append({ type: 'add', value: 'b1' })
    await b.base.append({ type: 'add', value: 'b2' })

    // A comes back on the same storage, appends at once, then reconnects
    a = await openPeer(a.dir, key)
    await a.base.append({ type: 'add', value: 'a1' })
    link = connect(a, b)
    const started = Date.now()
    let detail = ''
    while (Date.now() - started < timeout) {
      await a.base.update()
      await b.base.update()
      const [na, nb] = [await applied(a), await applied(b)]
      const [sa, sb] = [await state(a), await state(b)]
      const same = (k: keyof typeof sa) => sa[k] === sb[k]
      if (
        na === OPS &&
        nb === OPS &&
        same('entries') &&
        same('len') &&
        same('tree') &&
        same('system')
      ) {
        return { converged: true, ms: Date.now() - started, detail: '' }
      }
      detail =
        `ops applied A=${na} B=${nb}, view length A=${sa.len} B=${sb.len}, ` +
        `entries ${same('entries') ? 'same' : 'differ'}, view tree ${same('tree') ? 'same' : 'differs'}, ` +
        `system ${same('system') ? 'same' : 'differs'}`
      await sleep(20)
    }
    return { converged: false, ms: Date.now() - started, detail }
  } finally {
    disconnect(link)
    a.probe.onApplied = null
    for (const p of [a, b]) {
      await p.base.close()
      await p.store.close()
    }
  }
}

/** Rounds of the regression arm: each of the three close points eight times. */
const ROUNDS = 24
/** Rounds of the control arm: each close point three times (a diverged round costs its bound). */
const CONTROL_ROUNDS = 9

test('close-drain - a base closed while applying remote ops converges after restart', async (t) => {
  t.timeout(45_000)
  let slowest = { round: -1, ms: -1 }
  let converged = 0
  for (let i = 0; i < ROUNDS; i++) {
    const r = await round(t, i, true, 10_000)
    if (!r.converged) {
      t.fail(`round ${i} (closed ${1 + (i % 3)} turns after the apply) diverged: ${r.detail}`)
      break
    }
    converged++
    if (r.ms > slowest.ms) slowest = { round: i, ms: r.ms }
  }
  t.comment(
    `slowest round to converge: round ${slowest.round}, ${slowest.ms} ms after reconnecting`
  )
  t.is(converged, ROUNDS, `all ${ROUNDS} rounds converged`)
})

test('close-drain - control: closing the Autobase underneath, without the drain', async (t) => {
  t.timeout(45_000)
  // Not asserted: the race is probabilistic. A round not converged 2 s after reconnecting
  // counts as diverged (rounds that converge take a few hundred ms, 1.3 s at worst seen on a
  // heavily loaded machine). No new round starts after 25 s, so a slow machine cannot time out.
  const started = Date.now()
  let ran = 0
  let diverged = 0
  while (ran < CONTROL_ROUNDS && Date.now() - started < 25_000) {
    const i = ran++
    const r = await round(t, i, false, 2_000)
    if (r.converged) continue
    diverged++
    t.comment(`round ${i} (closed ${1 + (i % 3)} turns after the apply) diverged: ${r.detail}`)
  }
  t.comment(`control: ${diverged} of ${ran} rounds diverged without the drain`)
  t.pass('the control arm ran')
})
