/**
 * npm run bench -- drift_scale: `driftgate drift monitor --batch` on the 1M-row California file against a
 * model trained on the same 1M-row file (its reference profile: 825,600 training rows), beside
 * bench/drift_scale_reference.py (pandas read + SHA-256 + SciPy ks_2samp and wasserstein_distance per
 * column against a 10,000-value sample of the training column) in the same run, on the same machine.
 *
 * driftgate runs twice: with its default test for a large reference (normed Wasserstein) and with the KS
 * test forced on every column (drift.columns); the peer computes both statistics for every column.
 * Targets (issue #10 item 5): each driftgate command, start-up and report writing included, within the
 * peer's wall time for the batch work (SHA-256 + read_csv + the statistics; its imports and its reference
 * sample not counted), and within 1.5× the peer's peak RSS. CPU time (user + system) is printed beside,
 * since wall ratios on a shared machine move with the load. Exits 1 on a miss or when a side could not
 * be measured.
 *
 *   npx tsx bench/drift_scale.ts [--keep]
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { cpus, loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { ensureScaleFile } from "./scale_data.js"

const root = fileURLToPath(new URL("../", import.meta.url))
const keep = process.argv.includes("--keep")
const TARGET = { wall: 1.0, rss: 1.5 }
const FEATURES = ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"]
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")

interface Timed {
  readonly status: number | null
  readonly wallS: number
  readonly cpuS: number
  readonly rssMb: number
  readonly stdout: string
  readonly stderr: string
}

/** Wall time, CPU time and peak RSS of a child process, from GNU time (`%e %U %S %M`). */
const timed = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Timed => {
  const r = spawnSync("/usr/bin/time", ["-f", "TIME %e %U %S %M", cmd, ...args], {
    env,
    encoding: "utf8",
    maxBuffer: 256 << 20
  })
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr ?? "")
  if (!m) throw new Error(`${cmd} ${args.join(" ")} could not be timed: ${(r.stderr ?? "").slice(-2000)}`)
  return {
    status: r.status,
    wallS: Number(m[1]),
    cpuS: Number(m[2]) + Number(m[3]),
    rssMb: Number(m[4]) / 1024,
    stdout: r.stdout,
    stderr: r.stderr
  }
}

const hasPeer =
  spawnSync("/usr/bin/python3", ["-c", "import pandas, scipy"], { stdio: "ignore" }).status === 0 &&
  spawnSync("/usr/bin/time", ["-f", "%e", "true"], { stdio: "ignore" }).status === 0
console.log(`machine: ${cpus()[0]?.model ?? "?"} × ${cpus().length}, node ${process.version}, load ${load()}`)
if (!hasPeer) {
  console.error(
    "drift_scale: /usr/bin/python3 with pandas + SciPy and /usr/bin/time are needed (apt-get install python3-scipy python3-pandas time)"
  )
  process.exit(1)
}

const csv = ensureScaleFile("1m")
const dir = mkdtempSync(join(tmpdir(), "driftgate-drift-scale-"))
let missed = 0
try {
  mkdirSync(join(dir, "raw", "california_scale"), { recursive: true })
  symlinkSync(csv, join(dir, "raw", "california_scale", "data.csv"))
  const config = (name: string, drift: string) => {
    const file = join(dir, `${name}.yaml`)
    writeFileSync(
      file,
      [
        "name: california-drift-scale",
        "task_type: regression",
        "random_seed: 42",
        "dataset: california_scale",
        `data_root: ${join(dir, "raw")}`,
        "split: { train: 0.8, val: 0.2, test: 0.0, stratify: false }",
        "preprocessing: { scale: none, impute: median, encode: one_hot }",
        // the reference profile does not depend on the learner: the quickest one makes the setup short
        "training: { model: linear_regression }",
        "evaluation: { metrics: [r2] }",
        "promotion: { evaluation_split: val, rules: [{ id: min_r2, metric: r2, operator: '>=', threshold: 0.1 }] }",
        "deployment: { registered_model: california-drift-scale }",
        "stages: [preprocessing, training, evaluation, promotion, deployment]",
        drift,
        ""
      ].join("\n")
    )
    return file
  }
  const wassersteinConfig = config("wasserstein", "drift: { fail_on_severity: high }")
  const ksConfig = config(
    "ks",
    `drift: { fail_on_severity: high, columns: { ${FEATURES.map((f) => `${f}: { test: ks }`).join(", ")} } }`
  )
  const ws = join(dir, "ws")
  const cli = (args: string[]) => [join(root, "bin/driftgate.js"), ...args, "--workspace", ws]
  console.log(`setup: driftgate run on ${csv} (1,032,000 rows; not timed)`)
  const setup = spawnSync(
    process.execPath,
    cli(["run", "--config", wassersteinConfig, "--target", "MedHouseVal", "--task", "regression", "--approve", "auto"]),
    { encoding: "utf8", maxBuffer: 64 << 20 }
  )
  if (setup.status !== 0) throw new Error(`setup run exited ${setup.status}: ${setup.stderr.slice(-2000)}`)

  const env = { ...process.env }
  // this machine's OpenBLAS settings are for other tools; a user's SciPy runs without them
  delete env.OPENBLAS_CORETYPE
  delete env.OPENBLAS_L2_SIZE
  console.log(`load before the peer: ${load()}`)
  const py = timed("/usr/bin/python3", [join(root, "bench/drift_scale_reference.py"), csv, csv, "MedHouseVal"], env)
  if (py.status !== 0) throw new Error(`the peer exited ${py.status}: ${py.stderr.slice(-2000)}`)
  const peer = JSON.parse(py.stdout) as {
    steps_s: Record<string, number>
    drift_work_s: number
    drift_work_cpu_s: number
    columns: Record<string, { wasserstein_normed: number; ks_p: number }>
  }
  console.log(
    `pandas + SciPy            batch work ${peer.drift_work_s.toFixed(2)} s wall, ${peer.drift_work_cpu_s.toFixed(2)} s CPU; ` +
      `whole script ${py.wallS.toFixed(1)} s wall, ${py.cpuS.toFixed(1)} s CPU, ${py.rssMb.toFixed(0)} MB peak RSS; ` +
      Object.entries(peer.steps_s)
        .map(([k, v]) => `${k} ${v.toFixed(2)} s`)
        .join(", ")
  )

  for (const [name, file] of [
    ["wasserstein", wassersteinConfig],
    ["ks", ksConfig]
  ] as const) {
    console.log(`load before driftgate (${name}): ${load()}`)
    const d = timed(process.execPath, cli(["drift", "monitor", "--config", file, "--batch", csv, "--json"]))
    // exit 2 is a drift verdict at fail_on_severity, not a failure of the command
    if (d.status !== 0 && d.status !== 2) throw new Error(`drift monitor exited ${d.status}: ${d.stderr.slice(-2000)}`)
    const report = JSON.parse(d.stdout) as {
      batch: { rows: number }
      result: { columns: Array<{ column: string; test: string; statistic: number; pValue: number | null }> }
    }
    const values = report.result.columns
      .map((c) => {
        const p = peer.columns[c.column]
        const theirs = c.test === "ks" ? p?.ks_p : p?.wasserstein_normed
        const ours = c.test === "ks" ? c.pValue : c.statistic
        return `${c.column} ${ours?.toPrecision(3) ?? "?"}/${theirs?.toPrecision(3) ?? "?"}`
      })
      .join(", ")
    console.log(
      `driftgate drift monitor  (${name}) ${d.wallS.toFixed(2)} s wall, ${d.cpuS.toFixed(2)} s CPU, ${d.rssMb.toFixed(0)} MB peak RSS, ` +
        `${report.batch.rows.toLocaleString("en")} rows`
    )
    console.log(
      `  ${name === "ks" ? "p-value" : "normed distance"} driftgate/SciPy (own 10,000-value samples): ${values}`
    )
    const wall = d.wallS / peer.drift_work_s
    const rss = d.rssMb / py.rssMb
    const checks: Array<[string, boolean]> = [
      [
        `wall ${wall.toFixed(2)}× the peer's batch work ≤ ${TARGET.wall}× (CPU ${(d.cpuS / peer.drift_work_cpu_s).toFixed(2)}×)`,
        wall <= TARGET.wall
      ],
      [`peak RSS ${rss.toFixed(2)}× ≤ ${TARGET.rss}×`, rss <= TARGET.rss]
    ]
    for (const [what, ok] of checks) {
      console.log(`${ok ? "PASS" : "FAIL"}  drift monitor (${name}): ${what}`)
      if (!ok) missed++
    }
  }
} catch (e) {
  console.error(`FAIL  drift_scale could not be measured: ${(e as Error).message}`)
  missed++
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true })
  else console.log(`(kept ${dir})`)
}
process.exit(missed ? 1 : 0)
