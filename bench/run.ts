/**
 * `npm run bench [-- --quick] [-- --json] [-- --only a,b] [-- --verbose]`: the Flux benchmark suite.
 *
 * Runs on a private loopback HyperDHT testnet (nothing touches the public DHT), with peers in
 * separate worker processes. Progress goes to stderr; stdout gets the table and one JSON line
 * per figure (only the JSON lines with --json). Every figure is the median of its runs, and
 * is compared with a baseline measured in the same run, interleaved with it.
 */
import fs from 'fs'
import os from 'os'
import path from 'path'
import createTestnet from 'hyperdht/testnet.js'
import { WorkerProcess } from './lib/worker-process.js'
import { FluxUp } from './lib/flux-up.js'
import { Pool, makeDir, type BenchContext, type Suite } from './lib/context.js'
import { failed, type Figure } from './lib/figure.js'
import { jsonLine, table } from './lib/report.js'
import { errorText, TimeoutError, within } from './lib/util.js'
import { throughput } from './suites/throughput.js'
import { convergence, convergence10 } from './suites/convergence.js'
import { lateJoiner } from './suites/late-joiner.js'
import { latency } from './suites/latency.js'
import { peerApp } from './suites/peer-app.js'
import { memory } from './suites/memory.js'
import { admission } from './suites/admission.js'
import { nat } from './suites/nat.js'
import { hosting } from './suites/hosting.js'
import { phonebook } from './suites/phonebook.js'
import { startup } from './suites/startup.js'
import { storm } from './suites/storm.js'

const SUITES: Suite[] = [
  throughput,
  convergence,
  lateJoiner,
  latency,
  peerApp,
  memory,
  startup,
  admission,
  storm,
  hosting,
  phonebook,
  nat,
  convergence10
]

interface Args {
  quick: boolean
  json: boolean
  verbose: boolean
  only: string[] | null
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, json: false, verbose: false, only: null }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--quick') args.quick = true
    else if (a === '--json') args.json = true
    else if (a === '--verbose') args.verbose = true
    else if (a === '--only') args.only = (argv[++i] ?? '').split(',').filter(Boolean)
    else if (a.startsWith('--only=')) args.only = a.slice(7).split(',').filter(Boolean)
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'usage: npm run bench [-- --quick] [--json] [--only ' +
          SUITES.map((s) => s.name).join(',') +
          '] [--verbose]\n'
      )
      process.exit(0)
    } else {
      process.stderr.write(`bench: unknown option ${a} (see --help)\n`)
      process.exit(2)
    }
  }
  return args
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2))
  WorkerProcess.verbose = args.verbose
  const suites = SUITES.filter((s) => args.only === null || args.only.includes(s.name))
  if (suites.length === 0) {
    process.stderr.write(`bench: no suite matches ${args.only?.join(',')}\n`)
    return 2
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'flux-bench-'))
  const started = Date.now()
  // the whole run should end within 10 minutes (2 with --quick): keep a margin for the report
  const deadline = started + (args.quick ? 110_000 : 570_000)
  const stamp = (): string => {
    const s = Math.round((Date.now() - started) / 1000)
    return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
  }
  const log = (msg: string): void => void process.stderr.write(`[${stamp()}] ${msg}\n`)

  let cleaned = false
  const cleanup = (): void => {
    if (cleaned) return
    cleaned = true
    WorkerProcess.killAll()
    FluxUp.killAll()
    fs.rmSync(root, { recursive: true, force: true })
  }
  process.on('exit', cleanup)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      log(`${sig}: stopping`)
      cleanup()
      process.exit(130)
    })
  }

  log(
    `flux bench (${args.quick ? 'quick' : 'full'}), ${os.cpus().length} cores, node ${process.version}; temp ${root}`
  )
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`)
  log(`loopback testnet: ${bootstrap.join(', ')}`)

  const figures: Figure[] = []
  try {
    for (const suite of suites) {
      const ctx: BenchContext = {
        quick: args.quick,
        bootstrap,
        dir: (name) => makeDir(root, `${suite.name}-${name}`),
        progress: (msg) => log(`${suite.name}: ${msg}`),
        remaining: () => deadline - Date.now(),
        pick: (full, quick) => (args.quick ? quick : full)
      }
      const specs = suite.specs(ctx)
      const pool = new Pool(suite.name)
      const budget = suite.budget(ctx)
      const t = Date.now()
      log(`${suite.name}: start (bound ${Math.round(budget / 1000)} s)`)
      let got: Figure[] = []
      try {
        got = await within(suite.run(ctx, pool), budget, `suite ${suite.name}`)
      } catch (err) {
        log(`${suite.name}: FAILED ${errorText(err)}`)
        if (err instanceof TimeoutError) pool.killAll()
        got = specs.map((s) => failed(s, errorText(err)))
      } finally {
        await within(pool.stopAll(), 30_000, 'stopping workers').catch(() => pool.killAll())
      }
      // a figure the suite promised but did not deliver is reported as an error
      for (const s of specs)
        if (!got.some((f) => f.name === s.name)) got.push(failed(s, 'not measured'))
      figures.push(...got)
      log(`${suite.name}: done in ${((Date.now() - t) / 1000).toFixed(0)} s`)
      for (const f of got) if (args.json) process.stdout.write(jsonLine(f) + '\n')
    }
  } finally {
    await within(testnet.destroy(), 10_000, 'testnet').catch(() => {})
    cleanup()
  }

  if (!args.json) {
    const when = new Date().toISOString().replace('T', ' ').slice(0, 16)
    process.stdout.write(
      `\nFlux bench, ${args.quick ? 'quick' : 'full'} run, ${when} UTC, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ` +
        `node ${process.version}, ${((Date.now() - started) / 1000).toFixed(0)} s\n` +
        'value and baseline are medians of the runs; ratio = Flux / baseline\n\n'
    )
    process.stdout.write(table(figures) + '\n\n')
    for (const f of figures) process.stdout.write(jsonLine(f) + '\n')
  }
  const errors = figures.filter((f) => f.error && f.value === null)
  const unmet = figures.filter((f) => f.met === false)
  log(
    `done in ${((Date.now() - started) / 1000).toFixed(0)} s: ${figures.length} figures, ` +
      `${unmet.length} targets not met, ${errors.length} not measured`
  )
  return errors.length > 0 ? 1 : 0
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench: ${err?.stack ?? err}\n`)
    process.exit(1)
  }
)
