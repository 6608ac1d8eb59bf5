// Bundles the CLI and the library with esbuild: one tree-shaken file each, so `driftgate --help`
// does not load every module of the effect barrels (see bench/startup). Native and heavy packages stay
// external and are imported lazily where they are used.
import { build } from "esbuild"
import { readFileSync, rmSync } from "node:fs"

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
const external = [
  "better-sqlite3",
  "pg",
  "sharp",
  "fastify",
  "@fastify/*",
  "prom-client",
  "@tensorflow/*",
  "autocannon"
]
const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  external,
  define: { __DRIFTGATE_VERSION__: JSON.stringify(pkg.version) },
  // esbuild's ESM output needs a require for the few CJS dependencies it inlines.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  // whitespace and syntax only: a third less source for V8 to parse at every start (bench/startup.ts);
  // identifiers keep their names, so stack traces under --verbose still read
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning"
}
rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true })
await build({
  ...common,
  // cnn-worker: the data-parallel CNN replica (src/layers/trainer/tfjs/cnnPool.ts starts it from dist/)
  entryPoints: { cli: "src/cli/main.ts", index: "src/index.ts", "cnn-worker": "src/layers/trainer/tfjs/cnnWorker.ts" },
  outdir: "dist",
  splitting: true,
  chunkNames: "chunks/[name]-[hash]"
})

// Type declarations for library users (skipped by `npm test`, which type-checks without emitting).
if (!process.argv.includes("--no-types")) {
  const { spawnSync } = await import("node:child_process")
  const tsc = spawnSync(
    process.execPath,
    [new URL("../node_modules/typescript/bin/tsc", import.meta.url).pathname, "-p", "tsconfig.build.json"],
    { stdio: "inherit" }
  )
  if (tsc.status !== 0) process.exit(tsc.status ?? 1)
}
