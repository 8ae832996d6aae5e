import test, { type Test } from 'brittle'
import { spawn } from 'child_process'
import fs from 'fs/promises'
import path from 'path'
import { fileURLToPath } from 'url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

/** A copy of the sources and the lint setup, where a test may break the layering. */
async function copy(t: Test): Promise<string> {
  const dir = await t.tmp()
  await fs.cp(path.join(root, 'src'), path.join(dir, 'src'), { recursive: true })
  await fs.cp(path.join(root, 'scripts'), path.join(dir, 'scripts'), { recursive: true })
  for (const f of ['.dependency-cruiser.cjs', 'tsconfig.json', 'package.json']) {
    await fs.copyFile(path.join(root, f), path.join(dir, f))
  }
  await fs.symlink(path.join(root, 'node_modules'), path.join(dir, 'node_modules'))
  return dir
}

function depcruise(cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const bin = path.join(root, 'node_modules', '.bin', 'depcruise')
    const child = spawn(bin, ['src', '--config', '.dependency-cruiser.cjs'], { cwd })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('close', (code) => resolve({ code: code ?? 1, out }))
  })
}

async function append(dir: string, file: string, line: string): Promise<void> {
  const p = path.join(dir, file)
  await fs.writeFile(p, `${line}\n${await fs.readFile(p, 'utf-8')}`)
}

test('lint - the layering check passes on the tree and fails on an upward import or a cycle', async (t) => {
  t.timeout(120_000)
  const clean = await copy(t)
  const ok = await depcruise(clean)
  t.is(ok.code, 0, `the tree as it is passes (${ok.out.trim().split('\n').pop()})`)

  const upward = await copy(t)
  // the kit reaching up into a service
  await append(
    upward,
    'src/autobase/tx.ts',
    "import type { ProjectRegistry } from '../services/projects.js'\nexport type X = ProjectRegistry"
  )
  const up = await depcruise(upward)
  t.not(up.code, 0, 'an upward import fails the lint')
  t.ok(
    /layer-autobase/.test(up.out) && /services\/projects\.ts/.test(up.out),
    up.out.trim().split('\n')[0]
  )

  const sibling = await copy(t)
  await append(
    sibling,
    'src/project/project.ts',
    "import type { ProfileBase } from '../profile/base.js'\nexport type Y = ProfileBase"
  )
  const side = await depcruise(sibling)
  t.not(side.code, 0, 'a domain importing a sibling domain fails too')
  t.ok(/layer-project/.test(side.out), side.out.trim().split('\n')[0])

  const cyclic = await copy(t)
  await append(
    cyclic,
    'src/util/mutex.ts',
    "import { withTimeout } from './clock.js'\nexport const z = withTimeout"
  )
  await append(
    cyclic,
    'src/util/clock.ts',
    "import { Mutex } from './mutex.js'\nexport const w = Mutex"
  )
  const cycle = await depcruise(cyclic)
  t.not(cycle.code, 0, 'a cycle fails the lint')
  t.ok(/no-circular/.test(cycle.out), cycle.out.trim().split('\n')[0])
})
