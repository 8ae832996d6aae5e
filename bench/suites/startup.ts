/**
 * Startup: a real `flux up` (bin/flux.js) on a home with a profile whose key file has the
 * default key derivation cost (Argon2id, MODERATE), until its control socket answers `status`,
 * and until it runs as the profile; against `flux up` on a home without a profile, started
 * in the same runs. Both homes ran a node once before (not measured): a first start on a home
 * without a store unlocks the key file before anything starts.
 */
import type { BenchContext, Pool, Suite } from '../lib/context.js'
import { failed, figure, type Figure, type FigureSpec } from '../lib/figure.js'
import { errorText, pollUntil } from '../lib/util.js'

const POLL = 20

const sizes = (ctx: BenchContext) => ({ runs: ctx.pick(5, 3) })

function specs(ctx: BenchContext): FigureSpec[] {
  const s = sizes(ctx)
  const baseline = 'flux up without a profile, same runs'
  return [
    {
      name: 'startup.up.answers',
      label: 'flux up with a profile: socket answers',
      unit: 's',
      better: 'lower',
      baseline,
      target: { on: 'value', op: '<', limit: 1.5, text: '< 1.5 s' },
      note:
        `from the spawn of bin/flux.js up until \`status\` is answered on its control socket (tried every ${POLL} ms), ` +
        `key file sealed with FLUX_KDF=moderate, the home started once before; median of ${s.runs}`
    },
    {
      name: 'startup.up.unlocked',
      label: 'flux up with a profile: runs as it',
      unit: 's',
      better: 'lower',
      baseline,
      note: 'from the spawn until `status` says profile "active" (the key derivation done, the profile base open)'
    }
  ]
}

export const startup: Suite = {
  name: 'startup',
  specs,
  budget: (ctx) => ctx.pick(120_000, 60_000),
  async run(ctx: BenchContext, pool: Pool): Promise<Figure[]> {
    const s = sizes(ctx)
    const [answersSpec, unlockedSpec] = specs(ctx) as [FigureSpec, FigureSpec]
    const withProfile = ctx.dir('startup-profile')
    const without = ctx.dir('startup-none')
    // the first start of each home is not measured (it creates the store)
    await (await pool.fluxUp(withProfile, ctx.bootstrap, { kdf: 'moderate' })).stop()
    await (await pool.fluxUp(without, ctx.bootstrap, { profile: false })).stop()
    const answered: number[] = []
    const unlocked: number[] = []
    const baseline: number[] = []
    const errors: string[] = []
    for (let r = 0; r < s.runs; r++) {
      try {
        const up = await pool.fluxUp(withProfile, ctx.bootstrap, { kdf: 'moderate', poll: POLL })
        try {
          answered.push(up.answeredIn / 1000)
          await pollUntil(
            'the profile to be active',
            async () => (await up.call('status', {})).profile === 'active',
            30_000,
            POLL
          )
          unlocked.push((performance.now() - up.spawnedAt) / 1000)
        } finally {
          await up.stop()
        }
      } catch (err) {
        errors.push(`with a profile: ${errorText(err)}`)
      }
      try {
        const up = await pool.fluxUp(without, ctx.bootstrap, { profile: false, poll: POLL })
        baseline.push(up.answeredIn / 1000)
        await up.stop()
      } catch (err) {
        errors.push(`without: ${errorText(err)}`)
      }
      ctx.progress(
        `startup run ${r + 1}/${s.runs}: answers ${answered.at(-1)?.toFixed(2)} s, runs as the profile ${unlocked.at(-1)?.toFixed(2)} s; without a profile ${baseline.at(-1)?.toFixed(2)} s`
      )
    }
    const error = errors.length ? { error: errors.join('; ') } : {}
    return [
      answered.length
        ? figure(answersSpec, answered, baseline, error)
        : failed(answersSpec, errors.join('; ')),
      unlocked.length
        ? figure(unlockedSpec, unlocked, baseline, error)
        : failed(unlockedSpec, errors.join('; '))
    ]
  }
}
