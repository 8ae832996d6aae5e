/**
 * What the demo prints: timed steps for a person, or one JSON object per line with --json.
 *
 *   [  1.23s] ▶ 2. Node 1 creates a project
 *   [  1.40s]     key yxz3...
 *   [  1.40s] ✓ done in 170 ms
 */
import { performance } from 'perf_hooks'

export type Fields = Record<string, unknown>

export class Reporter {
  private readonly t0 = performance.now()
  private current: string | null = null

  constructor(
    readonly json: boolean,
    private readonly write: (line: string) => void = (line) => {
      process.stdout.write(line + '\n')
    }
  ) {}

  /** Seconds since the demo started. */
  elapsed(): number {
    return (performance.now() - this.t0) / 1000
  }

  private stamp(): string {
    return `[${this.elapsed().toFixed(2).padStart(6)}s]`
  }

  private emit(event: string, fields: Fields): void {
    const t = Math.round(this.elapsed() * 1000) / 1000
    this.write(JSON.stringify({ t, event, ...fields }))
  }

  /** A plain line for people (ignored with --json). */
  say(text: string): void {
    if (!this.json) this.write(text)
  }

  /** Run one step, printing its start, what it reports, and how long it took. */
  async step<T>(id: string, title: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now()
    this.current = id
    if (this.json) this.emit('step', { step: id, title, status: 'start' })
    else this.write(`${this.stamp()} ▶ ${title}`)
    try {
      const result = await fn()
      const ms = Math.round(performance.now() - started)
      if (this.json) this.emit('step', { step: id, title, status: 'done', ms })
      else this.write(`${this.stamp()} ✓ done in ${ms} ms`)
      return result
    } catch (err) {
      const ms = Math.round(performance.now() - started)
      if (this.json) this.emit('step', { step: id, title, status: 'failed', ms })
      else this.write(`${this.stamp()} ✗ failed after ${ms} ms`)
      throw err
    } finally {
      this.current = null
    }
  }

  /** Something that happened inside the current step; `fields` go to the JSON line only. */
  note(text: string, fields: Fields = {}): void {
    if (this.json) this.emit('note', { step: this.current, text, ...fields })
    else this.write(`${this.stamp()}     ${text}`)
  }

  /** A machine-readable event with no line for people (pids, folders). */
  data(event: string, fields: Fields): void {
    if (this.json) this.emit(event, fields)
  }

  /** Aligned rows for people (the final table); `right` aligns a column to the right. */
  table(header: string[], right: boolean[], rows: string[][]): void {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
    const line = (cells: string[]): string =>
      cells
        .map((c, i) => (right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd()
    if (this.json) return
    this.write(`${' '.repeat(14)}${line(header)}`)
    for (const r of rows) this.write(`${' '.repeat(14)}${line(r)}`)
  }

  /** The last line: the verdict. */
  summary(ok: boolean, text: string, fields: Fields): void {
    if (this.json) this.emit('summary', { ok, text, ...fields })
    else this.write(text)
  }

  /** An error for people on stderr, or a JSON line on stdout. */
  error(text: string, fields: Fields = {}): void {
    if (this.json) this.emit('error', { step: this.current, text, ...fields })
    else process.stderr.write(`demo: ${text}\n`)
  }
}
