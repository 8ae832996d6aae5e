/**
 * `npm start`: Flux on an embedded local mesh. A private HyperDHT bootstrap and four Flux
 * nodes (three people and one person's linked phone), each a separate `flux` process on
 * loopback with its own temporary home, walk through the life of a project; the demo exits 0
 * only if all four end with the same state.
 *
 *   node dist/src/demo/local-mesh.js [--json] [--keep]
 *
 * Every child process and temporary folder is removed on every path (success, failure,
 * Ctrl-C), unless --keep asks to keep the folders.
 */
import { LocalMesh } from './mesh.js'
import { Reporter } from './report.js'
import { runStory, type Outcome } from './story.js'

const USAGE = `usage: node dist/src/demo/local-mesh.js [--json] [--keep]

  --json   one JSON object per line instead of text for people
  --keep   keep the nodes' temporary home folders and print where they are`

interface Args {
  json: boolean
  keep: boolean
  help: boolean
}

function parseArgs(argv: string[]): Args | null {
  const args: Args = { json: false, keep: false, help: false }
  for (const a of argv) {
    if (a === '--json') args.json = true
    else if (a === '--keep') args.keep = true
    else if (a === '--help' || a === '-h') args.help = true
    else return null
  }
  return args
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2))
  if (!args) {
    process.stderr.write(USAGE + '\n')
    return 2
  }
  if (args.help) {
    process.stdout.write(USAGE + '\n')
    return 0
  }
  // a closed stdout (`npm start | head`) must not crash the demo before it cleans up
  process.stdout.on('error', () => {})
  const r = new Reporter(args.json)
  const mesh = await LocalMesh.create(4)
  r.say(
    'Flux local mesh demo: a private DHT and 4 nodes (3 people, one linked phone) on 127.0.0.1, each its own process'
  )
  r.say(`(homes in ${mesh.root})\n`)
  r.data('start', { root: mesh.root, pid: process.pid })

  let interrupted = false
  const cleanup = async (): Promise<void> => {
    const count = mesh.pids.length
    const started = Date.now()
    await mesh.close(args.keep)
    const where = args.keep ? `kept ${mesh.root}` : `removed ${mesh.root}`
    r.say(
      `${' '.repeat(10)}cleanup: stopped ${count} processes, ${where} (${Date.now() - started} ms)`
    )
    r.data('cleanup', { pids: mesh.pids, root: mesh.root, kept: args.keep })
  }
  // Ctrl-C, a closed terminal, or a bug: stop everything, then exit with `code`
  const abort = (why: string, code: number): void => {
    if (interrupted) {
      // a second Ctrl-C: the person does not want to wait for clean stops
      mesh.kill()
      return
    }
    interrupted = true
    const folders = args.keep ? 'keeping' : 'removing'
    r.error(`${why}: stopping the nodes and ${folders} the temporary folders`)
    void cleanup()
      .catch((err: unknown) => r.error(`cleanup failed: ${message(err)}`))
      .finally(() => process.exit(code))
  }
  process.on('SIGINT', () => abort('interrupted by SIGINT', 130))
  process.on('SIGTERM', () => abort('interrupted by SIGTERM', 143))
  process.on('SIGHUP', () => abort('interrupted by SIGHUP', 129))
  process.on('uncaughtException', (err) => abort(`unexpected error: ${message(err)}`, 1))
  process.on('unhandledRejection', (err) => abort(`unexpected error: ${message(err)}`, 1))

  let outcome: Outcome | null = null
  let failure: string | null = null
  try {
    outcome = await runStory(mesh, r)
  } catch (err) {
    failure = message(err)
  }
  if (interrupted) return new Promise<number>(() => {}) // the signal handler exits
  try {
    await cleanup()
  } catch (err) {
    failure = failure ?? `cleanup failed: ${message(err)}`
  }

  const seconds = r.elapsed().toFixed(1)
  const fields = { seconds: Number(seconds), pids: mesh.pids, root: mesh.root, kept: args.keep }
  if (failure !== null || !outcome) {
    r.summary(false, `demo: FAILED after ${seconds} s — ${failure}`, { ...fields, error: failure })
    return 1
  }
  if (!outcome.ok) {
    const hashes = outcome.rows.map((x) => `${x.node} ${x.stateHash.slice(0, 8)}`).join(', ')
    const why = outcome.problem ? `: ${outcome.problem}` : ''
    r.summary(false, `demo: FAILED — the nodes do not hold the same state (${hashes})${why}`, {
      ...fields,
      rows: outcome.rows,
      error: 'state differs'
    })
    return 1
  }
  r.summary(
    true,
    `demo: OK — ${outcome.rows.length} nodes, identical state ${(outcome.hash ?? '').slice(0, 8)} in ${seconds} s`,
    { ...fields, hash: outcome.hash, rows: outcome.rows }
  )
  return 0
}

main().then(
  (code) => {
    process.exitCode = code
    // children and sockets are closed by now; do not let a stray handle keep us alive
    setTimeout(() => process.exit(code), 2_000).unref()
  },
  (err: unknown) => {
    process.stderr.write(`demo: ${message(err)}\n`)
    process.exit(1)
  }
)
