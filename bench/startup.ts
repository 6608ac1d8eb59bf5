/**
 * CLI start-up: `driftgate --help`, `driftgate registry list` (opens the SQLite store) and
 * `driftgate --version`, median of N runs, against a bare `node -e 0` in the same run.
 *
 *   npm run build && npx tsx bench/startup.ts [--repeats N] [--json] [--max-overhead-ms M]
 *
 * Target: each driftgate command within 500 ms of the `node -e 0` floor measured in the same run (a
 * CLI that takes seconds to print --help feels broken; CONVENTIONS.md). Exits 1 when one misses.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { exitOnTargets } from "./targets.js"

const root = fileURLToPath(new URL("../", import.meta.url))
const args = process.argv.slice(2)
const repeatsAt = args.indexOf("--repeats")
const repeats = repeatsAt >= 0 ? Number(args[repeatsAt + 1]) : 9
const overheadAt = args.indexOf("--max-overhead-ms")
const maxOverheadMs = overheadAt >= 0 ? Number(args[overheadAt + 1]) : 500
const ws = mkdtempSync(path.join(tmpdir(), "dg-startup-"))

const time = (argv: ReadonlyArray<string>): number => {
  const samples: number[] = []
  for (let i = 0; i < repeats + 1; i++) {
    const t0 = process.hrtime.bigint()
    const r = spawnSync(process.execPath, argv, { cwd: root, stdio: "ignore" })
    const t1 = process.hrtime.bigint()
    if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}`)
    if (i > 0) samples.push(Number(t1 - t0) / 1e6) // first run warms the file cache
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]!
}

const bin = path.join(root, "bin/driftgate.js")
// `registry list` reads an existing store (read-only commands never create one): one real run makes it.
const made = spawnSync(
  process.execPath,
  [bin, "run", "--config", "configs/iris.yaml", "--approve", "auto", "--workspace", ws],
  { cwd: root, encoding: "utf8", env: { ...process.env, DRIFTGATE_WORKSPACE: "" } }
)
if (made.status !== 0) throw new Error(`driftgate run (to create the store) exited ${made.status}: ${made.stderr}`)
const rows = [
  ["node -e 0 (floor)", time(["-e", "0"])],
  ["driftgate --version", time([bin, "--version"])],
  ["driftgate --help", time([bin, "--help"])],
  ["driftgate registry list", time([bin, "registry", "list", "--workspace", ws])]
] as const
const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, node ${process.version}`
if (args.includes("--json")) console.log(JSON.stringify({ machine, repeats, ms: Object.fromEntries(rows) }, null, 2))
else {
  console.log(`CLI start-up, median of ${repeats} runs (${machine})`)
  for (const [name, ms] of rows) console.log(`  ${name.padEnd(26)} ${ms.toFixed(0).padStart(5)} ms`)
}
rmSync(ws, { recursive: true, force: true })
const floor = rows[0][1]
exitOnTargets(
  rows.slice(1).map(([name, ms]) => ({
    name,
    ok: ms - floor <= maxOverheadMs,
    detail: `${ms.toFixed(0)} ms, ${(ms - floor).toFixed(0)} ms above node's floor (target ≤ ${maxOverheadMs} ms)`
  })),
  args.includes("--json") ? (l) => process.stderr.write(`${l}\n`) : undefined
)
