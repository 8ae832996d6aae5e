/**
 * `npm run nat-lab [-- --rounds N] [-- --keep]`: the NAT lab as a soak, longer than the tests.
 * Every round builds a fresh lab (its own internet, `flux dht`, a relay node), runs each NAT
 * pairing (invite, join, post from both sides, converge, check the route) and a renumbered
 * router (reconnect, catch up), then tears it all down. Prints each result and a summary;
 * exits 1 if any round failed. `--keep` leaves the last round's lab up until Ctrl-C, with the
 * commands to look inside.
 */
import { labAvailable } from './lab.js'
import { runFlux } from './nodes.js'
import { NatWorld, PAIRINGS, converged, createAndJoin, peerOf, type Pairing } from './world.js'

interface Result {
  round: number
  what: string
  ok: boolean
  seconds: number
  detail: string
}

function args(): { rounds: number; keep: boolean } {
  const argv = process.argv.slice(2)
  let rounds = 3
  let keep = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--keep') keep = true
    else if (a === '--rounds') rounds = Number(argv[++i])
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm run nat-lab [-- --rounds N] [-- --keep]\n')
      process.exit(0)
    } else {
      process.stderr.write(`nat-lab: unknown option ${a} (see --help)\n`)
      process.exit(2)
    }
  }
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) {
    process.stderr.write('nat-lab: --rounds must be a whole number from 1 to 50\n')
    process.exit(2)
  }
  return { rounds, keep }
}

async function pairing(world: NatWorld, p: Pairing): Promise<string> {
  const { a, b } = await world.pair(p)
  try {
    const { key, joinMs } = await createAndJoin(a, b)
    await Promise.all([
      runFlux(['post', key, 'from A', '--home', a.home]),
      runFlux(['post', key, 'from B', '--home', b.home])
    ])
    await converged([a, b], key, 2)
    const [ab, ba] = await Promise.all([peerOf(a, b), peerOf(b, a)])
    if (ab.route !== p.route || ba.route !== p.route) {
      throw new Error(`route ${ab.route}/${ba.route}, expected ${p.route}`)
    }
    return `join ${(joinMs / 1000).toFixed(2)} s, ${p.route}`
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
}

async function renumbered(world: NatWorld): Promise<string> {
  const { a, b, ra } = await world.pair({ ...PAIRINGS[0]!, tag: 'mc' })
  try {
    const { key } = await createAndJoin(a, b)
    await runFlux(['post', key, 'before', '--home', b.home])
    await converged([a, b], key, 1)
    const started = Date.now()
    await world.lab.renumber(ra)
    await runFlux(['post', key, 'after', '--home', b.home])
    await converged([a, b], key, 2, 120_000)
    return `caught up ${((Date.now() - started) / 1000).toFixed(1)} s after the address change`
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
}

async function main(): Promise<number> {
  const { rounds, keep } = args()
  const available = await labAvailable()
  if (!available.ok) {
    process.stderr.write(`nat-lab: cannot run: ${available.why}\n`)
    return 1
  }
  const results: Result[] = []
  for (let round = 1; round <= rounds; round++) {
    const world = await NatWorld.open(`s${round}`)
    let kept = false
    try {
      const jobs: Array<[string, () => Promise<string>]> = [
        ...PAIRINGS.map((p): [string, () => Promise<string>] => [p.name, () => pairing(world, p)]),
        ['renumbered router', () => renumbered(world)]
      ]
      for (const [what, job] of jobs) {
        const started = Date.now()
        let r: Result
        try {
          const detail = await job()
          r = { round, what, ok: true, seconds: (Date.now() - started) / 1000, detail }
        } catch (err) {
          const detail = err instanceof Error ? err.message : String(err)
          r = { round, what, ok: false, seconds: (Date.now() - started) / 1000, detail }
        }
        results.push(r)
        process.stdout.write(
          `round ${round}: ${r.ok ? 'ok  ' : 'FAIL'} ${what.padEnd(26)} ${r.seconds.toFixed(1).padStart(5)} s  ${r.detail}\n`
        )
      }
      if (keep && round === rounds) {
        kept = true
        process.stdout.write(
          `\nthe lab is up (Ctrl-C to remove it): namespaces \`ip netns list | grep ${world.lab.id}\`,\n` +
            `a shell in one: \`ip netns exec ${world.lab.id}-dht bash\`, homes under ${world.dir}\n`
        )
        await new Promise(() => {}) // until a signal: the lab's hooks remove it
      }
    } finally {
      if (!kept) await world.close()
    }
  }
  const failed = results.filter((r) => !r.ok)
  process.stdout.write(`\n${results.length - failed.length} passed, ${failed.length} failed\n`)
  return failed.length === 0 ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`nat-lab: ${err instanceof Error ? (err.stack ?? err.message) : err}\n`)
    process.exit(1)
  }
)
