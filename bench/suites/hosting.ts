/**
 * Hosting for offline peers: a member that was offline while N ops were written comes back
 * when only a host (not a member, no encryption key) is online, and syncs from it; against the
 * same member syncing from the writer itself. Also what hosting costs: the host's disk for the
 * project against the writer's own, and its RSS before and after taking the project.
 */
import type { BenchContext, Pool, Suite } from '../lib/context.js'
import { failed, figure, type Figure, type FigureSpec } from '../lib/figure.js'
import { now } from '../lib/util.js'
import type { WriteResult } from '../worker/replica.js'

const BURST = 100

const sizes = (ctx: BenchContext) => ({ ops: ctx.pick(10_000, 2_000) })

function specs(ctx: BenchContext): FigureSpec[] {
  const { ops } = sizes(ctx)
  return [
    {
      name: `hosting.sync.${ops}`,
      label: `member back after ${ops} ops, from a host alone`,
      unit: 's',
      better: 'lower',
      baseline: 'the same member syncing from the writer itself',
      note: 'from the node started (its project opens at once) until every op is applied'
    },
    {
      name: `hosting.copy.${ops}`,
      label: `host takes a full copy of ${ops} ops`,
      unit: 's',
      better: 'lower',
      baseline: 'a member syncing the same project from the writer',
      note: 'from `flux host add` until the host holds every core the writer told of'
    },
    {
      name: `credits.fold.${ops}`,
      label: `fold the credits of ${ops} ops`,
      unit: 'ms',
      better: 'lower',
      baseline: 'the project summary (what flux status reads)',
      note: 'app.credits.credits(P) on the writer: every member’s totals, decay and hash'
    },
    {
      name: 'hosting.disk',
      label: 'disk of a hosted project',
      unit: 'MiB',
      better: 'lower',
      baseline: "the writer's own home holding the project"
    },
    {
      name: 'hosting.memory',
      label: 'RSS of a node hosting the project',
      unit: 'MiB',
      better: 'lower',
      baseline: 'the same node before hosting it'
    }
  ]
}

export const hosting: Suite = {
  name: 'hosting',
  specs,
  budget: (ctx) => ctx.pick(240_000, 90_000),
  async run(ctx: BenchContext, pool: Pool): Promise<Figure[]> {
    const { ops } = sizes(ctx)
    const [syncSpec, copySpec, foldSpec, diskSpec, memSpec] = specs(ctx) as [
      FigureSpec,
      FigureSpec,
      FigureSpec,
      FigureSpec,
      FigureSpec
    ]
    const bootstrap = ctx.bootstrap
    const cw = pool.spawn('writer')
    const writerHome = ctx.dir('writer')
    await cw.call('flux.start', { id: 'c', home: writerHome, bootstrap })
    const { key } = await cw.call<{ key: string }>('flux.create', { id: 'c', name: 'bench' })

    // two members join, then go offline before anything is written
    const homes = [ctx.dir('member1'), ctx.dir('member2')]
    for (const [i, home] of homes.entries()) {
      const w = pool.spawn(`member${i + 1}`)
      await w.call('flux.start', { id: 'm', home, bootstrap, pairingPoll: 500 })
      const { code } = await cw.call<{ code: string }>('flux.invite', { id: 'c' })
      await w.call('flux.join', { id: 'm', code, timeout: 60_000 }, 65_000)
      await pool.stop(w)
    }
    ctx.progress(`writing ${ops} posts while both members are offline`)
    await cw.call<WriteResult>('write', { id: 'c', n: ops, mode: 'batch', batch: BURST }, 180_000)
    const target = (await cw.call<{ applied: number }>('hash', { id: 'c' }, 60_000)).applied
    const folds: number[] = []
    const summaries: number[] = []
    for (let i = 0; i < 3; i++) {
      const f = await cw.call<{ foldMs: number; summaryMs: number; view: number }>(
        'credits.fold',
        { id: 'c' },
        60_000
      )
      folds.push(f.foldMs)
      summaries.push(f.summaryMs)
    }

    const comeBack = async (home: string, name: string): Promise<number> => {
      const w = pool.spawn(name)
      const t0 = now()
      await w.call('flux.start', { id: 'm', home, bootstrap })
      await w.call('flux.use', { id: 'm', key })
      const at = await w.call<number>(
        'waitApplied',
        { id: 'm', count: target, timeout: 120_000 },
        125_000
      )
      await pool.stop(w)
      return (at - t0) / 1000
    }

    // baseline: member 1 comes back while the writer is online (no host yet)
    const fromWriter = await comeBack(homes[0] as string, 'member1-back')
    ctx.progress(`member 1 synced ${target} ops from the writer in ${fromWriter.toFixed(2)} s`)

    // a host takes the project, then the writer goes offline for good
    const hw = pool.spawn('host')
    const hostHome = ctx.dir('host')
    await hw.call('flux.start', { id: 'h', home: hostHome, bootstrap })
    const idle = await hw.call<{ rss: number }>('memory', { settle: 900 })
    const t0 = now()
    await hw.call('host.add', { id: 'h', key })
    const copied = await hw.call<{ at: number; info: { bytes: number; cores: number } }>(
      'host.wait',
      { id: 'h', key, timeout: 120_000 },
      125_000
    )
    const copy = (copied.at - t0) / 1000
    const hostingRss = await hw.call<{ rss: number }>('memory', { settle: 900 })
    ctx.progress(
      `host holds ${copied.info.cores} cores, ${(copied.info.bytes / 1e6).toFixed(1)} MB, after ${copy.toFixed(2)} s`
    )
    await pool.stop(cw) // the writer is gone: only the host is online
    const writerDisk = (await hw.call<{ bytes: number }>('du', { dir: writerHome })).bytes
    const hostDisk = (await hw.call<{ bytes: number }>('du', { dir: hostHome })).bytes

    let fromHost: number
    try {
      fromHost = await comeBack(homes[1] as string, 'member2-back')
    } catch (err) {
      return [
        failed(syncSpec, String(err)),
        figure(copySpec, [copy], [fromWriter]),
        figure(foldSpec, folds, summaries)
      ]
    }
    ctx.progress(`member 2 synced ${target} ops from the host alone in ${fromHost.toFixed(2)} s`)
    const mib = (b: number): number => b / 1024 / 1024
    return [
      figure(syncSpec, [fromHost], [fromWriter], { note: `${target} ops applied` }),
      figure(copySpec, [copy], [fromWriter]),
      figure(foldSpec, folds, summaries),
      figure(diskSpec, [mib(hostDisk)], [mib(writerDisk)], {
        note: 'bytes of the files under each home (the host: the project and its own small profile)'
      }),
      figure(memSpec, [mib(hostingRss.rss)], [mib(idle.rss)], {
        note: 'RSS after GC, in the host worker process'
      })
    ]
  }
}
