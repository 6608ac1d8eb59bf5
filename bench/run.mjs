// npm run bench: every benchmark in turn (none is part of npm test). Pass names to run a subset:
//   npm run bench -- ml drift
import { spawnSync } from "node:child_process"

const all = {
  startup: ["bench/startup.ts"],
  ml: ["bench/ml.ts"],
  drift: ["bench/drift.ts"],
  serve: ["bench/serve.ts"],
  registry_crash: ["bench/registry_crash.ts", "50"]
}
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"))
const names = wanted.length ? wanted : Object.keys(all)
const build = spawnSync("npm", ["run", "build"], { stdio: "inherit" })
if (build.status !== 0) process.exit(build.status ?? 1)
let failed = 0
for (const name of names) {
  const argv = all[name]
  if (!argv) { console.error(`unknown benchmark ${name} (known: ${Object.keys(all).join(", ")})`); process.exit(64) }
  console.log(`\n=== ${name} ===`)
  const r = spawnSync(process.execPath, ["--import", "tsx", ...argv], { stdio: "inherit" })
  if (r.status !== 0) { failed++; console.error(`benchmark ${name} exited ${r.status}`) }
}
process.exit(failed ? 1 : 0)
