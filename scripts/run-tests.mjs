#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with brittle, one process per file,
// and ends with the line CI reads: "N passed, N failed".
// Usage: node scripts/run-tests.mjs [filter...]   (filters match parts of the file path)
import { spawn } from 'child_process'
import fs from 'fs'
import path from 'path'
import { fileURLToPath } from 'url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dir = path.join(root, 'dist', 'test')
const filters = process.argv.slice(2)
const brittle = path.join(root, 'node_modules', 'brittle', 'brittle-node.js')

function find(d) {
  if (!fs.existsSync(d)) return []
  return fs
    .readdirSync(d, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? find(path.join(d, e.name))
        : e.name.endsWith('.test.js')
          ? [path.join(d, e.name)]
          : []
    )
    .sort()
}

const files = find(dir).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
if (files.length === 0) {
  console.error('no test files found: run `npm run build` first')
  console.log('0 passed, 1 failed')
  process.exit(1)
}

let passed = 0
let failed = 0
const failures = []
for (const file of files) {
  const rel = path.relative(root, file)
  const started = Date.now()
  const { code, out } = await run(rel)
  const planned = [...out.matchAll(/^ok \d+ - /gm)].length
  const bad = [...out.matchAll(/^not ok \d+ - (.*)$/gm)].map((m) => m[1])
  let p = planned
  let f = bad.length
  if (code !== 0 && f === 0) {
    f = 1 // crashed or timed out outside a test: count the file as a failure
    bad.push(`${rel} exited with code ${code}`)
  }
  passed += p
  failed += f
  for (const b of bad) failures.push(`${rel}: ${b}`)
  console.log(`# ${rel}: ${p} passed, ${f} failed (${((Date.now() - started) / 1000).toFixed(1)}s)`)
}
if (failures.length) {
  console.log('\nFailures:')
  for (const f of failures) console.log(`  - ${f}`)
}
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)

function run(file) {
  return new Promise((resolve) => {
    // brittle-node runs one file; its own --timeout bounds each test
    const child = spawn(process.execPath, [brittle, '--timeout', '120000', file], {
      cwd: root,
      env: { ...process.env, FLUX_TEST: '1' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      process.stdout.write(d)
    })
    child.stderr.on('data', (d) => process.stderr.write(d))
    const guard = setTimeout(() => child.kill('SIGKILL'), 10 * 60 * 1000)
    child.on('close', (code) => {
      clearTimeout(guard)
      resolve({ code: code ?? 1, out })
    })
  })
}
