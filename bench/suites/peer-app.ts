/**
 * A peer app on the same stack: autopass pairing a second device and syncing N entries to
 * it, against Flux inviting a member and syncing N posts to it. Two processes each, fresh for
 * every run, on the same testnet. Writes are a burst through each app's own API; the time
 * runs from the first write until the peer has applied them all.
 *
 * The join figure (invite claimed until writable) is Flux's join() against autopass's pair().
 */
import type { BenchContext, Pool, Suite } from '../lib/context.js'
import { failed, figure, type Figure, type FigureSpec } from '../lib/figure.js'
import { closeGroup, fluxGroup, type Group } from '../lib/groups.js'
import { errorText, median } from '../lib/util.js'
import { AUTOPASS_LOOPBACK_NOTE } from '../worker/autopass-actor.js'
import type { WriteResult } from '../worker/replica.js'

const sizes = (ctx: BenchContext) => ({ entries: 1000, runs: ctx.pick(3, 1) })

function specs(ctx: BenchContext): FigureSpec[] {
  const { entries } = sizes(ctx)
  return [
    {
      name: `sync.${entries}`,
      label: `${entries} posts synced to a new peer`,
      unit: 's',
      better: 'lower',
      baseline: `autopass, ${entries} entries`,
      target: { on: 'ratio', op: '<=', limit: 0.5, text: '>= 2x faster than autopass' },
      note: `burst of ${entries} writes through each app's API, from the first write until the peer has them all; ${AUTOPASS_LOOPBACK_NOTE}`
    },
    {
      name: 'join',
      label: 'join: invite claimed -> writable',
      unit: 's',
      better: 'lower',
      baseline: 'autopass pair() -> writable',
      note: 'Flux join() with the default pairing poll (2 s), project with a few ops'
    }
  ]
}

export const peerApp: Suite = {
  name: 'peer-app',
  specs,
  budget: (ctx) => ctx.pick(180_000, 60_000),
  async run(ctx: BenchContext, pool: Pool): Promise<Figure[]> {
    const { entries, runs } = sizes(ctx)
    const [syncSpec, joinSpec] = specs(ctx) as [FigureSpec, FigureSpec]
    const fluxSync: number[] = []
    const apSync: number[] = []
    const fluxJoin: number[] = []
    const apJoin: number[] = []
    const errors: string[] = []

    for (let r = 0; r < runs; r++) {
      // autopass
      try {
        const a = pool.spawn(`autopass-a${r}`)
        const b = pool.spawn(`autopass-b${r}`)
        await a.call('ap.create', { id: 'a', dir: ctx.dir(`ap-a${r}`), bootstrap: ctx.bootstrap })
        const { code } = await a.call<{ code: string }>('ap.invite', { id: 'a' })
        const { times } = await b.call<{ times: Record<string, number> }>(
          'ap.pair',
          { id: 'b', dir: ctx.dir(`ap-b${r}`), bootstrap: ctx.bootstrap, invite: code },
          60_000
        )
        apJoin.push(((times.writable as number) - (times.started as number)) / 1000)
        const seen = b.call<number>(
          'ap.waitEntries',
          { id: 'b', n: entries, timeout: 60_000 },
          65_000
        )
        const w = await a.call<WriteResult>(
          'ap.write',
          { id: 'a', n: entries, mode: 'burst' },
          60_000
        )
        apSync.push(((await seen) - w.started) / 1000)
        ctx.progress(
          `run ${r + 1}/${runs}: autopass paired in ${apJoin.at(-1)!.toFixed(2)} s, ${entries} entries synced in ` +
            `${apSync.at(-1)!.toFixed(2)} s (written locally in ${((w.acked - w.started) / 1000).toFixed(2)} s)`
        )
        await Promise.all([pool.stop(a), pool.stop(b)])
      } catch (err) {
        errors.push(`autopass: ${errorText(err)}`)
        ctx.progress(`run ${r + 1}/${runs}: autopass FAILED ${errorText(err)}`)
      }

      // Flux
      let group: Group | null = null
      try {
        const a = pool.spawn(`flux-a${r}`)
        const b = pool.spawn(`flux-b${r}`)
        const made = await fluxGroup(ctx, [a, b], { pairingPoll: 2000 })
        group = made
        const t = made.joins[0] as Record<string, number>
        fluxJoin.push(((t.joined as number) - (t.started as number)) / 1000)
        const [wa, wb] = group.members as [Group['members'][0], Group['members'][0]]
        const before = await wb.w.call<number>('applied', { id: wb.id })
        const seen = wb.w.call<number>(
          'waitApplied',
          { id: wb.id, count: before + entries, timeout: 60_000 },
          65_000
        )
        const w = await wa.w.call<WriteResult>(
          'write',
          { id: wa.id, n: entries, mode: 'burst' },
          60_000
        )
        fluxSync.push(((await seen) - w.started) / 1000)
        ctx.progress(
          `run ${r + 1}/${runs}: Flux joined in ${fluxJoin.at(-1)!.toFixed(2)} s, ${entries} posts synced in ` +
            `${fluxSync.at(-1)!.toFixed(2)} s (written locally in ${((w.acked - w.started) / 1000).toFixed(2)} s)`
        )
        await closeGroup(group)
        group = null
        await Promise.all([pool.stop(a), pool.stop(b)])
      } catch (err) {
        errors.push(`flux: ${errorText(err)}`)
        ctx.progress(`run ${r + 1}/${runs}: Flux FAILED ${errorText(err)}`)
      } finally {
        if (group) await closeGroup(group)
      }
    }
    const opt = errors.length ? { error: errors.join('; ') } : {}
    const out: Figure[] = []
    out.push(
      fluxSync.length
        ? figure(syncSpec, fluxSync, apSync, opt)
        : failed(syncSpec, errors.join('; '))
    )
    out.push(
      fluxJoin.length
        ? figure(joinSpec, fluxJoin, apJoin, {
            ...opt,
            note: `autopass pairing median ${median(apJoin).toFixed(2)} s`
          })
        : failed(joinSpec, errors.join('; '))
    )
    return out
  }
}
