#!/usr/bin/env -S node --max-semi-space-size=1 --heap-growing-percent=25
// The `flux` command. The CLI is TypeScript compiled to dist/: build with `npm run build`.
// The V8 flags above keep `flux up`'s heap close to what it holds: a young generation of 1 MiB
// semi-spaces (16 by default here), and an old generation that grows by 25 % over what the
// last full GC kept (V8 grows it by up to 4x for a small heap). After a burst of 1,000 posts
// `flux up` held about 165 MiB with V8's defaults, 130 with these (bench/README.md, memory).
// Whoever starts this file with `node` directly (the bench, scripts) should pass them too.
import('../dist/src/cli/main.js').then(
  (cli) => cli.run(),
  (err) => {
    const missing = err && err.code === 'ERR_MODULE_NOT_FOUND'
    const message = missing ? 'flux is not built: run `npm run build`' : String(err && err.message)
    process.stderr.write(`flux: error INTERNAL: ${message}\n`)
    process.exit(1)
  }
)
