import test, { type Test } from 'brittle'
import { spawn } from 'child_process'
import fs from 'fs'
import path from 'path'
import { fileURLToPath } from 'url'

// dist/test/demo/demo.test.js -> dist/src/demo/local-mesh.js
const DEMO = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'src',
  'demo',
  'local-mesh.js'
)
const BOUND = 100_000

type Line = Record<string, unknown> & { event?: string }

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  lines: Line[]
  stderr: string
}

/** Run the compiled demo with --json; `onLine` may signal it (to test Ctrl-C). */
function runDemo(onLine: (line: Line, kill: (s: NodeJS.Signals) => void) => void = () => {}) {
  const child = spawn(process.execPath, [DEMO, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const kill = (s: NodeJS.Signals): void => void child.kill(s)
  return new Promise<Run>((resolve) => {
    const lines: Line[] = []
    let out = ''
    let stderr = ''
    child.stdout.setEncoding('utf-8')
    child.stderr.setEncoding('utf-8')
    child.stdout.on('data', (chunk: string) => {
      out += chunk
      let nl: number
      while ((nl = out.indexOf('\n')) !== -1) {
        const text = out.slice(0, nl)
        out = out.slice(nl + 1)
        try {
          const line = JSON.parse(text) as Line
          lines.push(line)
          onLine(line, kill)
        } catch {
          lines.push({ event: 'text', text })
        }
      }
    })
    child.stderr.on('data', (chunk: string) => (stderr += chunk))
    const guard = setTimeout(() => child.kill('SIGKILL'), BOUND)
    child.on('close', (code, signal) => {
      clearTimeout(guard)
      resolve({ code, signal, lines, stderr })
    })
  })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Every pid the demo said it started, and its temporary folder. */
function started(run: Run): { pids: number[]; root: string | null } {
  const pids = new Set<number>()
  let root: string | null = null
  for (const l of run.lines) {
    if (l.event === 'spawn' && typeof l.pid === 'number') pids.add(l.pid)
    if ((l.event === 'start' || l.event === 'cleanup') && typeof l.root === 'string') root = l.root
    if (l.event === 'cleanup' && Array.isArray(l.pids)) {
      for (const p of l.pids) if (typeof p === 'number') pids.add(p)
    }
  }
  return { pids: [...pids], root }
}

/** If the demo failed to clean up, do it here so a failing test leaves nothing behind. */
/**
 * Assert the demo left nothing behind: at least `minPids` children started, none alive, its
 * temporary folder named and gone. Then sweep up anyway, so a failure leaves nothing either.
 */
function cleanedUp(t: Test, run: Run, minPids: number, startedWhat: string): void {
  const { pids, root } = started(run)
  t.ok(pids.length >= minPids, startedWhat)
  t.alike(
    pids.filter((p) => alive(p)),
    [],
    'no child process survives'
  )
  t.ok(root, 'it said where its temporary folders were')
  t.absent(root && fs.existsSync(root), 'and removed them')
  sweep(pids, root)
}

function sweep(pids: number[], root: string | null): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
  if (root) fs.rmSync(root, { recursive: true, force: true })
}

test('demo - local mesh converges and cleans up', { timeout: BOUND + 10_000 }, async (t) => {
  const run = await runDemo()
  if (run.code !== 0) t.comment(run.stderr || JSON.stringify(run.lines.slice(-5)))
  t.is(run.code, 0, 'the demo exits 0')

  const summary = run.lines.find((l) => l.event === 'summary')
  t.ok(summary, 'it prints a summary')
  t.is(summary?.ok, true, 'the summary says OK')
  t.ok(/identical state [0-9a-f]{8}/.test(String(summary?.text)), 'with the identical state hash')

  const final = run.lines.find((l) => l.event === 'final')
  const rows = (final?.rows ?? []) as { stateHash: string; applied: number }[]
  t.is(rows.length, 4, 'the final check covers four nodes (three people, one linked phone)')
  t.is(new Set(rows.map((r) => r.stateHash)).size, 1, 'with one state hash')
  t.is(new Set(rows.map((r) => r.applied)).size, 1, 'and one applied count')

  const steps = run.lines.filter((l) => l.event === 'step' && l.status === 'done')
  t.is(steps.length, 9, 'every step is done')

  cleanedUp(t, run, 6, 'it started a bootstrap and four nodes, one of them twice')
})

test(
  'demo - Ctrl-C stops every child and removes the folders',
  { timeout: BOUND + 10_000 },
  async (t) => {
    let sent = false
    const run = await runDemo((line, kill) => {
      // interrupt mid-story: the nodes run and a project exists
      if (!sent && line.event === 'step' && line.step === 'create' && line.status === 'done') {
        sent = true
        kill('SIGINT')
      }
    })
    t.ok(sent, 'the demo was interrupted after the project was created')
    t.is(run.code, 130, 'it exits 130')
    t.ok(
      run.lines.some((l) => l.event === 'error' && /interrupted/.test(String(l.text))),
      'it says it was interrupted'
    )
    cleanedUp(t, run, 4, 'a bootstrap and three nodes had started')
  }
)
