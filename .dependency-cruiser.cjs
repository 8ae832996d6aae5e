/**
 * Flux's layers, checked by dependency-cruiser (`npm run lint`): imports point down only, no
 * module imports a sibling layer's folder, and there is no import cycle. The layers are listed
 * in scripts/layers.cjs, which also generates DESIGN.md's layout table.
 *
 * A higher rank may import a lower one; nothing imports src/index.ts (the public face).
 */
const { LAYERS } = require('./scripts/layers.cjs')

/** One rule per layer: it may not import a layer of the same or a higher rank but itself. */
const layering = LAYERS.map((layer) => ({
  name: `layer-${layer.name}`,
  comment: `${layer.name} (rank ${layer.rank}) imports only lower layers`,
  severity: 'error',
  from: { path: layer.path },
  to: {
    path: LAYERS.filter((l) => l !== layer && l.rank >= layer.rank).map((l) => l.path)
  }
}))

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no module may depend on itself through others',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true }
    },
    {
      name: 'not-the-public-face',
      comment: 'src/index.ts re-exports for users; code inside Flux never imports it',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/index\\.ts$' },
      to: { path: '^src/index\\.ts$' }
    },
    {
      name: 'src-not-to-tests',
      comment: 'the library never imports tests or benchmarks',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' }
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true }
    },
    ...layering
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.d.ts']
    }
  }
}
