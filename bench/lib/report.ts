/** The readable table and the JSON lines. */
import type { Figure } from './figure.js'

function fmt(x: number | null, unit: string, lowerBound = false): string {
  if (x === null) return '-'
  const digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2
  return `${lowerBound ? '> ' : ''}${x.toFixed(digits)} ${unit}`
}

/** "4.2x faster" / "1.3x slower" (or less/more memory), from the ratio and which way is better. */
export function comparison(f: Figure): string {
  if (f.ratio === null || f.ratio <= 0) return '-'
  const good = f.better === 'lower' ? f.ratio < 1 : f.ratio > 1
  const k = f.ratio >= 1 ? f.ratio : 1 / f.ratio
  const mem = f.unit.includes('MiB')
  const word = mem ? (f.ratio < 1 ? 'less' : 'more') : good ? 'better' : 'worse'
  // with a side cut off at its time bound, the comparison is a bound too
  const lowerIsBetter = f.better === 'lower'
  let qualifier = ''
  if (f.baselineLowerBound !== f.valueLowerBound) {
    const ratioIsUpper = !!f.baselineLowerBound
    const worseningUp = lowerIsBetter
    const kIsUpper = good ? ratioIsUpper !== worseningUp : ratioIsUpper === worseningUp
    qualifier = kIsUpper ? 'at most ' : 'at least '
  }
  return `${qualifier}${k.toFixed(k >= 10 ? 0 : 1)}x ${word}`
}

/** A ratio with a censored side is itself only a bound. */
function bound(f: Figure): string {
  if (f.valueLowerBound && !f.baselineLowerBound) return '>='
  if (f.baselineLowerBound && !f.valueLowerBound) return '<='
  if (f.valueLowerBound && f.baselineLowerBound) return '~'
  return ''
}

function metText(f: Figure): string {
  if (f.error && f.value === null) return 'ERROR'
  if (f.met === null) return ''
  return f.met ? 'met' : 'NOT MET'
}

export function table(figures: Figure[]): string {
  const head = ['figure', 'Flux', 'baseline', 'baseline value', 'ratio', 'target', '']
  const rows = figures.map((f) => [
    f.label,
    f.error && f.value === null ? 'error' : fmt(f.value, f.unit, f.valueLowerBound),
    f.baseline,
    fmt(f.baselineValue, f.unit, f.baselineLowerBound),
    f.ratio === null ? '-' : `${bound(f)}${f.ratio.toFixed(2)} (${comparison(f)})`,
    f.target?.text ?? '',
    metText(f)
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd()
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  ')]
  for (const r of rows) out.push(line(r))
  const notes = figures.filter((f) => f.note || f.error)
  if (notes.length) {
    out.push('', 'Notes:')
    for (const f of notes) {
      if (f.note) out.push(`  - ${f.label}: ${f.note}`)
      if (f.error) out.push(`  - ${f.label}: ERROR ${f.error}`)
    }
  }
  return out.join('\n')
}

function round(x: number | null): number | null {
  return x === null ? null : Math.round(x * 1000) / 1000
}

export function jsonLine(f: Figure): string {
  return JSON.stringify({
    name: f.name,
    value: round(f.value),
    unit: f.unit,
    baseline: f.baseline,
    baselineValue: round(f.baselineValue),
    ratio: round(f.ratio),
    target: f.target?.text ?? null,
    met: f.met,
    better: f.better,
    samples: f.samples.map(round),
    baselineSamples: f.baselineSamples.map(round),
    ...(f.valueLowerBound ? { valueLowerBound: true } : {}),
    ...(f.baselineLowerBound ? { baselineLowerBound: true } : {}),
    ...(f.note ? { note: f.note } : {}),
    ...(f.error ? { error: f.error } : {})
  })
}
