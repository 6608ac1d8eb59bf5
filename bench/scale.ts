/**
 * npm run bench -- scale: the whole `driftgate run` on the 100k- and 1M-row California files, beside
 * pandas + scikit-learn doing the same work (bench/scale_reference.py: read, SHA-256, 80/20 split,
 * HistGradientBoostingRegressor(max_iter=100), predict, R²) in the same run, on the same machine.
 *
 * Targets (issue #10): 1M rows ≤ 1.5× the peer's wall time and ≤ 1.5× its peak RSS; 100k rows ≤ 1.0× its
 * wall time. Exits 1 when a target is missed or a row could not be measured.
 *
 * Each size runs several rounds (--repeats N; default 3 at 100k, 2 at 1M), the two tools alternating so
 * that both see the same minutes of a shared machine; each tool's fastest round is compared (as
 * timeit does: noise only ever adds time), every round's wall time is printed, and peak RSS is the
 * largest of the rounds.
 *
 *   npx tsx bench/scale.ts [100k] [1m] [--repeats N] [--keep]
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { cpus, loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { ensureScaleFile, scaleFiles } from "./scale_data.js"

const root = fileURLToPath(new URL("../", import.meta.url))
const argv = process.argv.slice(2)
const keep = argv.includes("--keep")
const repeatsAt = argv.findIndex((a) => a === "--repeats" || a.startsWith("--repeats="))
const repeatsArg =
  repeatsAt < 0
    ? undefined
    : Number(argv[repeatsAt]!.includes("=") ? argv[repeatsAt]!.split("=")[1] : argv[repeatsAt + 1])
if (repeatsArg !== undefined && !(Number.isInteger(repeatsArg) && repeatsArg >= 1)) {
  console.error("--repeats takes a whole number ≥ 1")
  process.exit(64)
}
const sizes = argv.filter((a, i) => !a.startsWith("-") && argv[i - 1] !== "--repeats") as Array<keyof typeof scaleFiles>
const wanted: Array<keyof typeof scaleFiles> = sizes.length ? sizes : ["100k", "1m"]
const targets: Record<string, { wall: number; rss?: number }> = { "100k": { wall: 1.0 }, "1m": { wall: 1.5, rss: 1.5 } }

interface Measured {
  readonly wallS: number
  readonly peakRssMb: number
  readonly steps: Record<string, number>
  readonly quality: number | null
}

/** Wall time and peak RSS of a child process, from GNU time (`%e %M`), with its stdout. */
const timed = (
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv
): { wallS: number; rssMb: number; stdout: string } => {
  const r = spawnSync("/usr/bin/time", ["-f", "TIME %e %M", cmd, ...args], {
    env,
    encoding: "utf8",
    maxBuffer: 64 << 20
  })
  const m = /TIME ([\d.]+) (\d+)\s*$/.exec(r.stderr ?? "")
  if (r.status !== 0 || !m)
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${(r.stderr ?? "").slice(-2000)}`)
  return { wallS: Number(m[1]), rssMb: Number(m[2]) / 1024, stdout: r.stdout }
}

const driftgate = (csv: string): Measured => {
  const dir = mkdtempSync(join(tmpdir(), "driftgate-scale-"))
  try {
    mkdirSync(join(dir, "raw", "california_scale"), { recursive: true })
    symlinkSync(csv, join(dir, "raw", "california_scale", "data.csv"))
    const config = join(dir, "scale.yaml")
    writeFileSync(
      config,
      [
        "name: california-scale",
        "task_type: regression",
        "random_seed: 42",
        "dataset: california_scale",
        `data_root: ${join(dir, "raw")}`,
        "split: { train: 0.8, val: 0.2, test: 0.0, stratify: false }",
        "preprocessing: { scale: none, impute: median, encode: one_hot }",
        "training: { model: hist_gradient_boosting, params: { max_iter: 100, learning_rate: 0.1 } }",
        "evaluation: { metrics: [r2] }",
        "promotion: { evaluation_split: val, rules: [{ id: min_r2, metric: r2, operator: '>=', threshold: 0.5 }] }",
        "deployment: { registered_model: california-scale }",
        "stages: [preprocessing, training, evaluation, promotion, deployment]",
        ""
      ].join("\n")
    )
    const r = timed(
      process.execPath,
      [
        join(root, "bin/driftgate.js"),
        "run",
        "--config",
        config,
        "--workspace",
        join(dir, "ws"),
        "--target",
        "MedHouseVal",
        "--task",
        "regression",
        "--approve",
        "auto",
        "--json"
      ],
      process.env
    )
    const out = JSON.parse(r.stdout) as {
      status: string
      reports: string
      stages: Array<{ name: string; status: string; duration_s: number | null }>
    }
    if (out.status !== "completed") throw new Error(`driftgate run ended ${out.status}`)
    const steps: Record<string, number> = {}
    for (const s of out.stages) if (s.duration_s !== null) steps[s.name] = s.duration_s
    let quality: number | null = null
    try {
      const report = JSON.parse(readFileSync(join(out.reports, "evaluation_report.json"), "utf8")) as {
        metrics: Record<string, Record<string, number>>
      }
      quality = report.metrics["val"]?.["r2"] ?? null
    } catch {
      quality = null
    }
    return { wallS: r.wallS, peakRssMb: r.rssMb, steps, quality }
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true })
    else console.log(`(kept ${dir})`)
  }
}

const peer = (csv: string): Measured => {
  const env = { ...process.env }
  // this machine's OpenBLAS settings are for other tools; a user's scikit-learn runs without them
  delete env.OPENBLAS_CORETYPE
  delete env.OPENBLAS_L2_SIZE
  const r = timed("/usr/bin/python3", [join(root, "bench/scale_reference.py"), csv], env)
  const out = JSON.parse(r.stdout) as { steps_s: Record<string, number>; r2: number }
  return { wallS: r.wallS, peakRssMb: r.rssMb, steps: out.steps_s, quality: out.r2 }
}

const hasPeer =
  spawnSync("/usr/bin/python3", ["-c", "import pandas, sklearn"], { stdio: "ignore" }).status === 0 &&
  spawnSync("/usr/bin/time", ["-f", "%e", "true"], { stdio: "ignore" }).status === 0

console.log(
  `machine: ${cpus()[0]?.model ?? "?"} × ${cpus().length}, node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`
)
if (!hasPeer) {
  console.error(
    "scale: /usr/bin/python3 with pandas + scikit-learn and /usr/bin/time are needed (apt-get install python3-sklearn python3-pandas time)"
  )
  process.exit(1)
}

let missed = 0
for (const size of wanted) {
  const file = scaleFiles[size]
  if (!file) {
    console.error(`unknown size ${size} (known: ${Object.keys(scaleFiles).join(", ")})`)
    process.exit(64)
  }
  const csv = ensureScaleFile(size)
  console.log(`\n=== ${size}: ${file.rows.toLocaleString("en")} rows (${csv}) ===`)
  const rounds = repeatsArg ?? (size === "1m" ? 2 : 3)
  const ds: Measured[] = []
  const ps: Measured[] = []
  try {
    for (let r = 0; r < rounds; r++) {
      ps.push(peer(csv))
      ds.push(driftgate(csv))
    }
  } catch (e) {
    console.error(`FAIL  ${size}: could not be measured: ${(e as Error).message}`)
    missed++
    continue
  }
  // the fastest round (its stage times with it), the largest peak RSS of all rounds
  const best = (ms: Measured[]): Measured => {
    const fastest = ms.reduce((a, b) => (b.wallS < a.wallS ? b : a))
    return { ...fastest, peakRssMb: Math.max(...ms.map((m) => m.peakRssMb)) }
  }
  const d = best(ds)
  const p = best(ps)
  const fmt = (m: Measured, all: Measured[]) =>
    `${m.wallS.toFixed(1)} s wall (rounds: ${all.map((x) => x.wallS.toFixed(1)).join(", ")}), ` +
    `${m.peakRssMb.toFixed(0)} MB peak RSS, R² ${m.quality?.toFixed(4) ?? "?"}; ` +
    Object.entries(m.steps)
      .map(([k, v]) => `${k} ${v.toFixed(2)} s`)
      .join(", ")
  console.log(`driftgate run          ${fmt(d, ds)}`)
  console.log(`pandas + scikit-learn  ${fmt(p, ps)}`)
  const t = targets[size]!
  const wallRatio = d.wallS / p.wallS
  const checks: Array<[string, boolean]> = [[`wall ${wallRatio.toFixed(2)}× ≤ ${t.wall}×`, wallRatio <= t.wall]]
  if (t.rss !== undefined) {
    const rssRatio = d.peakRssMb / p.peakRssMb
    checks.push([`peak RSS ${rssRatio.toFixed(2)}× ≤ ${t.rss}×`, rssRatio <= t.rss])
  }
  for (const [what, ok] of checks) {
    console.log(`${ok ? "PASS" : "FAIL"}  ${size}: ${what}`)
    if (!ok) missed++
  }
}
process.exit(missed ? 1 : 0)
