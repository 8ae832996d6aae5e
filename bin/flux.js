#!/usr/bin/env node
// The `flux` command. The CLI is TypeScript compiled to dist/: build with `npm run build`.
import('../dist/src/cli/main.js').then(
  (cli) => cli.run(),
  (err) => {
    const missing = err && err.code === 'ERR_MODULE_NOT_FOUND'
    const message = missing ? 'flux is not built: run `npm run build`' : String(err && err.message)
    process.stderr.write(`flux: error INTERNAL: ${message}\n`)
    process.exit(1)
  }
)
