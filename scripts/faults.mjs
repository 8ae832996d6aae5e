#!/usr/bin/env node
// The fault suite (issue 10), a first version: the tests that put Flux under faults, grouped by
// fault, each with what must hold; run on the compiled tests (npm run faults builds first).
// Every case is also part of `npm test`. Usage:
//   node scripts/faults.mjs            run every case, then print the summary table
//   node scripts/faults.mjs --list     print the cases without running them
//   node scripts/faults.mjs control    run only the cases whose name or files match
import { spawnSync } from 'child_process'
import path from 'path'
import { fileURLToPath } from 'url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** name, the test files (path filters for run-tests.mjs), what is tried, what must hold. */
const CASES = [
  {
    name: 'poison blocks from a member',
    files: ['project/invalid-ops', 'autobase/runner', 'autobase/envelope', 'profile/base'],
    tried:
      'not JSON, bad shapes, unknown types, wrong roles, oversized ops, a replayed op id, ' +
      'JSON nested 6000 deep (alone and in a batch), {"toString":1} as version and type, an op ' +
      'whose handler throws, forged device proofs and grants, a short recovery signature',
    holds:
      'every peer skips them identically, the base stays open, neighbours apply, a restart ' +
      'works, status answers (a stopped project shows its error)'
  },
  {
    name: 'forged feature messages',
    files: ['swarm/channels'],
    tried: 'malformed, oversized and deeply nested messages on feature channels',
    holds: 'counted and dropped; the node keeps serving its other peers'
  },
  {
    name: 'kill -9 mid-write',
    files: ['cli/restart'],
    tried: 'flux up killed with SIGKILL during three lanes of posts; then restarted',
    holds: 'nothing acknowledged is lost or duplicated; state identical across restart'
  },
  {
    name: 'partitions by SIGSTOP',
    files: ['cli/partition'],
    tried:
      'three flux up processes; a member frozen (SIGSTOP) while the other two post, then the ' +
      'creator (an indexer) frozen while the others post; each for the length of 12 posts',
    holds:
      'the others never wait for the frozen one and agree without it; once it runs again every ' +
      "acknowledged post is there once, in each writer's order, with one state hash"
  },
  {
    name: 'restarts of the only indexer',
    files: ['autobase/close-drain', 'project/indexing'],
    tried:
      'a base closed mid-apply (24 rounds, 9 control rounds without the drain); a sole ' +
      'indexer restarted 20 rounds in a row; an indexer away for days',
    holds: 'every round converges to one view; the signed prefix moves with those around'
  },
  {
    name: 'skewed clocks',
    files: ['project/conflicts', 'autobase/merge', 'cli/clock-skew'],
    tried:
      'a writer ten years ahead, online and alone (paused) while honest members edit; the same ' +
      'with flux up processes under libfaketime (alone: the others frozen), a node an hour ' +
      'slow, a joiner ten years ahead',
    holds:
      'its edits count at most 10 minutes past its causal past; honest later edits stand; an ' +
      'edit made after seeing another wins whatever its clock; the joiner is told its clock'
  },
  {
    name: 'invite races',
    files: ['project/invites'],
    tried:
      'one-use invites raced by two joiners through two members; expired, revoked, ' +
      'spliced and truncated codes',
    holds: 'one winner everywhere, a clear error for the other; nothing added on refusal'
  },
  {
    name: 'damaged codes',
    files: ['swarm/codes'],
    tried: 'every truncation of an invite and a link code, a stray character after it',
    holds: 'INVITE_MALFORMED / LINK_MALFORMED, never "expired"'
  },
  {
    name: 'damaged storage',
    files: ['store/'],
    tried:
      'node.json deleted, truncated, from a newer version; a home copied with cp -r; a store ' +
      'whose manifest is gone; a backup made while the node runs (flux backup) and a stopped ' +
      'home copied with cp -a, each restored on a fresh home with no peer online',
    holds:
      'STATE_MISSING, STATE_CORRUPT, STATE_VERSION, HOME_COPIED, STORE_CORRUPT naming the file ' +
      'and the way out; no stack trace; a restore brings back the profile, its projects and ' +
      'posts no peer had, and never writes to the copy'
  },
  {
    name: 'a full disk',
    files: ['project/disk-full', 'cli/disk-full', 'control/reopen'],
    tried:
      'as root, a home on a small tmpfs filled while posting, then the filler deleted (skipped, and said, elsewhere)',
    holds:
      'DISK_FULL named in status, writes and reads; the node keeps answering; once space returns flux up reopens the node by itself, every acknowledged post kept'
  },
  {
    name: 'a connection storm',
    files: ['swarm/storm'],
    tried:
      '40 strangers, each with a fresh key pair, connect and leave; a member connection killed',
    holds:
      'no stranger is redialed (each was, for 15 minutes); the member is (memory: npm run bench -- --only storm)'
  },
  {
    name: 'control-socket abuse',
    files: ['control/'],
    tried:
      'a 64 MiB request line, a line without a newline, a 1 MiB line; a long home with its ' +
      'socket folder opened to all, given to another user, replaced by a link; a socket owned ' +
      'by another user',
    holds:
      'CONTROL_PROTOCOL and a close, the node still answers; CONTROL_UNSAFE, the client ' +
      'never talks to a socket it cannot trust'
  }
]

/** Faults the issue asks for that no case covers yet: said, never silently passed. */
/** @type {string[]} */
const NOT_YET = []

const args = process.argv.slice(2)
const list = args.includes('--list')
const filters = args.filter((a) => !a.startsWith('--'))
const chosen = CASES.filter(
  (c) =>
    filters.length === 0 ||
    filters.some((f) => c.name.includes(f) || c.files.some((x) => x.includes(f)))
)

const results = []
for (const c of chosen) {
  if (list) {
    results.push({ ...c, result: '-' })
    continue
  }
  console.log(`\n## ${c.name}: ${c.files.join(' ')}`)
  const run = spawnSync(
    process.execPath,
    [path.join(root, 'scripts', 'run-tests.mjs'), ...c.files],
    {
      cwd: root,
      encoding: 'utf-8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 256 * 1024 * 1024
    }
  )
  const last = (run.stdout ?? '').trim().split('\n').pop() ?? ''
  process.stdout.write(
    (run.stdout ?? '')
      .split('\n')
      .filter((l) => l.startsWith('# dist/'))
      .join('\n') + '\n'
  )
  results.push({ ...c, result: run.status === 0 ? `held (${last})` : `FAILED (${last})` })
}

console.log('\n# Fault suite')
for (const r of results) {
  console.log(`\n- ${r.name}: ${r.result}`)
  console.log(`  tried: ${r.tried}`)
  console.log(`  holds: ${r.holds}`)
}
console.log('\n# Not covered yet (issue 10)')
if (NOT_YET.length === 0) console.log('- none: every fault the issue names has a case')
for (const n of NOT_YET) console.log(`- ${n}`)
const failed = results.filter((r) => r.result.startsWith('FAILED')).length
if (!list) console.log(`\n${results.length - failed} of ${results.length} fault cases held`)
process.exit(failed === 0 ? 0 : 1)
