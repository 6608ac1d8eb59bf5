// npm run bench: every benchmark in turn (none is part of npm test). Pass names to run a subset:
//   npm run bench -- ml drift
// One name followed by other words passes them to that benchmark: npm run bench -- scale 1m
// scikit-learn's figures are measured afresh into bench/out/ (compared with in the same run); the
// committed bench/sklearn_reference.json changes only with --update-reference:
//   npm run bench -- ml --update-reference
import { spawnSync } from "node:child_process"
import { referencePlan } from "./referencePlan.mjs"

const all = {
  startup: ["bench/startup.ts"],
  ml: ["bench/ml.ts", "--skip-slow"],
  drift: ["bench/drift.ts"],
  // drift monitor --batch on the 1M-row file beside pandas + SciPy (bench/drift_scale_reference.py)
  drift_scale: ["bench/drift_scale.ts"],
  serve: ["bench/serve.ts"],
  cnn: ["bench/cnn.ts"],
  registry_crash: ["bench/registry_crash.ts", "50"],
  scale: ["bench/scale.ts"],
  columnar: ["bench/columnar.ts"],
  // DNG decode (and the ISP) beside LibRaw's dcraw_emu on the same files
  isp: ["bench/isp.ts"],
  ui: ["bench/ui.ts"],
  // serve replicas following a PostgreSQL registry: promotion commit → all replicas serving it
  replicas: ["bench/replicas.ts"],
  // scikit-learn parity values the tests read (tests/ml/parity_reference.json), regenerated and diffed
  parity: ["bench/parity.mjs"]
}
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"))
// with one benchmark named, the words after it are its own arguments (npm run bench -- scale 1m)
const single = wanted.length > 1 && wanted[0] in all && wanted.slice(1).every((a) => !(a in all))
const names = wanted.length ? (single ? [wanted[0]] : wanted) : Object.keys(all)
const extra = single ? wanted.slice(1) : []
const build = spawnSync("npm", ["run", "build"], { stdio: "inherit" })
if (build.status !== 0) process.exit(build.status ?? 1)
// Peers measured in the same run where they exist here (Debian's python3-sklearn / python3-scipy).
const hasSklearn = spawnSync("/usr/bin/python3", ["-c", "import sklearn"], { stdio: "ignore" }).status === 0
const plan = referencePlan(process.argv.slice(2), hasSklearn)
let failed = 0
for (const name of names) {
  if (name === "ml" && plan.python !== null) {
    console.log(`\n=== scikit-learn reference (same run, written to ${plan.reference}) ===`)
    const py = spawnSync("/usr/bin/python3", plan.python, { stdio: "inherit" })
    if (py.status !== 0) {
      // No fresh peer figures: the comparison cannot be made, so the ml bench counts as failed.
      failed++
      console.error(`scikit-learn reference exited ${py.status}; ml bench not run`)
      continue
    }
  } else if (name === "ml")
    console.log(`(no /usr/bin/python3 with sklearn: comparing with the committed ${plan.reference})`)
  const argv =
    name === "ml" ? [...all.ml, "--reference", plan.reference, ...extra] : all[name] && [...all[name], ...extra]
  if (!argv) {
    console.error(`unknown benchmark ${name} (known: ${Object.keys(all).join(", ")})`)
    process.exit(64)
  }
  console.log(`\n=== ${name} ===`)
  const r = spawnSync(process.execPath, ["--import", "tsx", ...argv], { stdio: "inherit" })
  if (r.status !== 0) {
    failed++
    console.error(`benchmark ${name} exited ${r.status}`)
  }
}
process.exit(failed ? 1 : 0)
