#!/usr/bin/env node
import("../dist/cli.js").catch((err) => {
  console.error(`driftgate: the CLI bundle could not be loaded (${err && err.message}). Run \`npm run build\` first.`)
  process.exit(1)
})
