/** A figure of the suite: a median against its baseline's median, measured side by side. */
import { median } from './util.js'

export type Better = 'lower' | 'higher'

export interface Target {
  /** What the target constrains: the figure's value, or its ratio to the baseline. */
  on: 'value' | 'ratio'
  op: '<' | '<=' | '>='
  limit: number
  /** As people read it: "< 5 s", ">= 2x faster than autopass". */
  text: string
}

export interface Figure {
  name: string
  label: string
  unit: string
  better: Better
  value: number | null
  baseline: string
  baselineValue: number | null
  /** value / baselineValue. */
  ratio: number | null
  target: Target | null
  met: boolean | null
  samples: number[]
  baselineSamples: number[]
  /** A run hit its time bound: the value (or baseline) is at least this, not exactly this. */
  valueLowerBound?: boolean
  baselineLowerBound?: boolean
  note?: string
  error?: string
}

export interface FigureSpec {
  name: string
  label: string
  unit: string
  better: Better
  baseline: string
  target?: Target
  note?: string
}

/** Build a figure from samples: medians, ratio, and whether the target is met. */
export function figure(
  spec: FigureSpec,
  samples: number[],
  baselineSamples: number[],
  opts: {
    value?: number
    baselineValue?: number
    error?: string
    note?: string
    valueLowerBound?: boolean
    baselineLowerBound?: boolean
  } = {}
): Figure {
  const value = opts.value ?? (samples.length ? median(samples) : NaN)
  const baselineValue =
    opts.baselineValue ?? (baselineSamples.length ? median(baselineSamples) : NaN)
  const v = Number.isFinite(value) ? value : null
  const b = Number.isFinite(baselineValue) ? baselineValue : null
  const ratio = v !== null && b !== null && b !== 0 ? v / b : null
  const t = spec.target ?? null
  let met: boolean | null = null
  if (t !== null) {
    const x = t.on === 'value' ? v : ratio
    met =
      x === null ? false : t.op === '<' ? x < t.limit : t.op === '<=' ? x <= t.limit : x >= t.limit
  }
  const note = [spec.note, opts.note].filter((s): s is string => !!s).join('; ')
  return {
    name: spec.name,
    label: spec.label,
    unit: spec.unit,
    better: spec.better,
    value: v,
    baseline: spec.baseline,
    baselineValue: b,
    ratio,
    target: t,
    met,
    samples,
    baselineSamples,
    ...(opts.valueLowerBound ? { valueLowerBound: true } : {}),
    ...(opts.baselineLowerBound ? { baselineLowerBound: true } : {}),
    ...(note ? { note } : {}),
    ...(opts.error ? { error: opts.error } : {})
  }
}

/** A figure that could not be measured: reported, never silently dropped. */
export function failed(
  spec: FigureSpec,
  error: string,
  samples: number[] = [],
  baselineSamples: number[] = []
): Figure {
  return figure(spec, samples, baselineSamples, { error })
}

/** A figure left out on purpose (time budget): listed, with why, but not an error. */
export function skipped(spec: FigureSpec, why: string): Figure {
  return figure(spec, [], [], { note: why })
}
