/**
 * Profiles the server's hot path: `npx tsx bench/serve/profile.ts WORKSPACE single|batch [seconds]`
 * runs `node --cpu-prof bin/driftgate.js serve`, drives one scenario with autocannon, stops it and
 * prints the functions with the most self time. The workspace must hold breast-cancer in Production.
 */
import autocannon from "autocannon"
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "../..")
const [ws, scenario = "single", secs = "5"] = process.argv.slice(2)
if (!ws) throw new Error("usage: profile.ts WORKSPACE single|batch [seconds]")
const dir = mkdtempSync(path.join(os.tmpdir(), "driftgate-prof-"))
const child = spawn(
  process.execPath,
  [
    "--cpu-prof",
    `--cpu-prof-dir=${dir}`,
    path.join(root, "bin/driftgate.js"),
    "serve",
    "--workspace",
    ws,
    "--port",
    "0"
  ],
  { cwd: root, stdio: ["ignore", "pipe", "inherit"] }
)
const url = await new Promise<string>((resolve) => {
  let out = ""
  child.stdout!.on("data", (d: Buffer) => {
    out += d
    const m = /listening on (\S+)/.exec(out)
    if (m) resolve(m[1]!)
  })
})
const lines = readFileSync(path.join(root, "data/raw/breast_cancer/data.csv"), "utf8").trim().split("\n")
const header = lines[0]!.split(",")
const rows = lines
  .slice(1, 201)
  .map((l) =>
    Object.fromEntries(l.split(",").flatMap((c, i) => (header[i] === "diagnosis" ? [] : [[header[i]!, Number(c)]])))
  )
const body = scenario === "batch" ? JSON.stringify({ rows: rows.slice(0, 100) }) : JSON.stringify({ features: rows[0] })
await new Promise((r) =>
  autocannon(
    {
      url,
      connections: 10,
      duration: Number(secs),
      requests: [
        { method: "POST", path: "/predict/breast-cancer", headers: { "content-type": "application/json" }, body }
      ]
    },
    r
  )
)
child.kill("SIGTERM")
await new Promise((r) => child.once("exit", r))
const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))!
const prof = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number }>
}
const self = new Map<string, number>()
let total = 0
for (const n of prof.nodes) {
  const k = `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.replace(/.*node_modules\//, "").replace(/.*\/dist\//, "dist/")}:${n.callFrame.lineNumber}`
  self.set(k, (self.get(k) ?? 0) + n.hitCount)
  total += n.hitCount
}
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 35))
  console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`)
rmSync(dir, { recursive: true, force: true })
