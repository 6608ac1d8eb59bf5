// The esbuild options, shared with tests/tooling/startupClosure.test.ts (which checks what `driftgate
// --help` loads).
import { readFileSync } from "node:fs"

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
export const external = [
  "better-sqlite3",
  "pg",
  "sharp",
  "fastify",
  "@fastify/*",
  "prom-client",
  "@tensorflow/*",
  "autocannon"
]
export const common = {
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
export const entryPoints = {
  cli: "src/cli/main.ts",
  index: "src/index.ts",
  // cnn-worker: the data-parallel CNN replica (src/layers/trainer/tfjs/cnnPool.ts starts it from dist/)
  "cnn-worker": "src/layers/trainer/tfjs/cnnWorker.ts",
  // chart-worker: renders report charts off the main thread (src/programs/reports/charts.ts starts it)
  "chart-worker": "src/programs/reports/chartWorker.ts",
  // profile-worker: a large train split's drift reference profile, beside preprocessing (DriftDetectorTabular)
  "profile-worker": "src/layers/drift/profileWorker.ts"
}
