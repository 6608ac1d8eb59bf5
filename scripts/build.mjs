// Bundles the CLI and the library with esbuild: one tree-shaken file each, so `driftgate --help`
// does not load every module of the effect barrels (see bench/startup). Native and heavy packages stay
// external and are imported lazily where they are used.
import { build } from "esbuild"
import { rmSync } from "node:fs"
import { common, entryPoints } from "./buildOptions.mjs"

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true })
await build({
  ...common,
  entryPoints,
  outdir: "dist",
  splitting: true,
  chunkNames: "chunks/[name]-[hash]"
})

// Type declarations for library users. `npm test` emits them too: they are checked against src alone
// (tsconfig.build.json), without the lib.dom that the browser test pulls into tsconfig.json's check.
if (!process.argv.includes("--no-types")) {
  const { spawnSync } = await import("node:child_process")
  const tsc = spawnSync(
    process.execPath,
    [new URL("../node_modules/typescript/bin/tsc", import.meta.url).pathname, "-p", "tsconfig.build.json"],
    { stdio: "inherit" }
  )
  if (tsc.status !== 0) process.exit(tsc.status ?? 1)
}
