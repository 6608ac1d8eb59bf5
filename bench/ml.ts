/**
 * driftgate's tabular learners against scikit-learn on the same train/test rows.
 *
 *   /usr/bin/python3 bench/sklearn_reference.py   # writes bench/sklearn_reference.json (splits + figures)
 *   npx tsx bench/ml.ts [--json] [--repeats N] [--skip-slow] [--parallel] [--scale | --scale-only] [--no-single-thread]
 *
 * Times are fit+predict seconds, median of N runs (default 5) after a warm-up, on this thread
 * (scikit-learn's figures are single-threaded too). --skip-slow leaves out the random forest
 * regressor on california_housing; --parallel adds it with n_jobs=2. --scale adds the size rows of
 * bench/scale_learners.ts (825,600-row fits, 100,000-row predictions, scikit-learn timed alternately in
 * the same run, with every core as the target and one thread each reported beside it unless --no-single-thread);
 * --scale-only runs only those. --reference PATH reads scikit-learn's figures from PATH
 * (bench/run.mjs passes the ones it measured into bench/out/). Exits 1 when a target is missed or a
 * row could not be measured.
 */
import { existsSync, readFileSync } from "node:fs"
import { availableParallelism, cpus, loadavg } from "node:os"
import { fileURLToPath } from "node:url"
import { parse } from "csv-parse/sync"
import { randomForest } from "../src/ml/forest.js"
import { frame, type Column } from "../src/ml/frame.js"
import type { Learner } from "../src/ml/learner.js"
import { linearRegression, ridge } from "../src/ml/linear.js"
import { logisticRegression } from "../src/ml/logistic.js"
import { takeRows, type Matrix } from "../src/ml/matrix.js"
import { histGradientBoosting } from "../src/ml/hgb.js"
import { accuracy, meanAbsoluteError, r2Score } from "../src/ml/metrics.js"
import { fitColumnTransformer, transformFrame } from "../src/ml/preprocess.js"
import { printScale } from "./scale_learners.js"

const root = fileURLToPath(new URL("../", import.meta.url))
const args = process.argv.slice(2)
const asJson = args.includes("--json")
const skipSlow = args.includes("--skip-slow")
const parallel = args.includes("--parallel")
const repeatsArg = args.indexOf("--repeats")
const repeats = repeatsArg >= 0 ? Number(args[repeatsArg + 1]) : 5
if (args.includes("--scale-only")) {
  const ok = printScale(repeatsArg >= 0 ? repeats : 3, !args.includes("--no-single-thread"))
  process.exit(ok ? 0 : 1)
}

interface SkRow {
  readonly seconds: number
  readonly seconds_min?: number
  readonly [k: string]: unknown
}
interface SkDataset {
  readonly target: string
  readonly train_idx: number[]
  readonly test_idx: number[]
  readonly classes?: string[]
  readonly [learner: string]: unknown
}
// --reference PATH: the figures bench/run.mjs measured in the same run (bench/out/); default the committed ones.
const referenceArg = args.indexOf("--reference")
const refName = referenceArg >= 0 ? args[referenceArg + 1]! : "bench/sklearn_reference.json"
const refPath = refName.startsWith("/") ? refName : `${root}${refName}`
if (!existsSync(refPath)) {
  console.error(`${refName} is missing: run /usr/bin/python3 bench/sklearn_reference.py first`)
  process.exit(1)
}
const ref = JSON.parse(readFileSync(refPath, "utf8")) as {
  machine: string
  sklearn: string
  load_average?: number[]
  datasets: Record<string, SkDataset>
}

interface Data {
  readonly x: Matrix
  readonly y: Float64Array
  readonly names: string[]
}
const load = (name: string, d: SkDataset): Data => {
  const rec = parse(readFileSync(`${root}data/raw/${name}/data.csv`, "utf8"), { skip_empty_lines: true }) as string[][]
  const header = rec[0]!,
    t = header.indexOf(d.target),
    body = rec.slice(1)
  const names = header.filter((_, j) => j !== t),
    p = names.length
  const data = new Float64Array(body.length * p)
  body.forEach((r, i) => {
    let k = 0
    r.forEach((v, j) => {
      if (j !== t) data[i * p + k++] = Number(v)
    })
  })
  const y = Float64Array.from(body, (r) => (d.classes ? d.classes.indexOf(r[t]!) : Number(r[t])))
  return { x: { rows: body.length, cols: p, data }, y, names }
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/**
 * Median fit+predict seconds of `repeats` runs after a warm-up (one run, or more within 0.3 s so the
 * JIT reaches steady state for fast learners), and the last run's output.
 */
const timed = <T>(run: () => T): { seconds: number; secondsMin: number; last: T } => {
  const w0 = performance.now()
  let last = run()
  for (let k = 1; k < 20 && performance.now() - w0 < 300; k++) last = run()
  const times: number[] = []
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now()
    last = run()
    times.push((performance.now() - t0) / 1000)
  }
  return { seconds: median(times), secondsMin: Math.min(...times), last }
}

interface Row {
  learner: string
  dataset: string
  /** Median fit+predict seconds. */
  seconds: number
  sklearnSeconds: number | null
  ratio: number | null
  /** Fastest run over scikit-learn's fastest run: steadier than the medians on a busy machine. */
  ratioMin: number | null
  metric: string
  value: number
  sklearnValue: number | null
  note: string
}
const rows: Row[] = []
const add = (
  learner: string,
  dataset: string,
  time: { seconds: number; secondsMin: number },
  sk: SkRow | undefined,
  metric: string,
  value: number,
  note = ""
): void => {
  const skv = sk?.[metric]
  const { seconds } = time
  rows.push({
    learner,
    dataset,
    seconds,
    sklearnSeconds: sk?.seconds ?? null,
    ratio: sk ? seconds / sk.seconds : null,
    ratioMin: sk?.seconds_min !== undefined ? time.secondsMin / sk.seconds_min : null,
    metric,
    value,
    sklearnValue: typeof skv === "number" ? skv : null,
    note
  })
}

const split = (name: string) => {
  const d = ref.datasets[name]!
  const data = load(name, d)
  return {
    d,
    names: data.names,
    xtr: takeRows(data.x, d.train_idx),
    xte: takeRows(data.x, d.test_idx),
    ytr: Float64Array.from(d.train_idx, (i) => data.y[i]!),
    yte: Float64Array.from(d.test_idx, (i) => data.y[i]!)
  }
}

const standardise = (xtr: Matrix, xte: Matrix, names: string[]): { tr: Matrix; te: Matrix } => {
  const toFrame = (m: Matrix) =>
    frame(
      names.map((name, j): Column => ({
        name,
        dtype: "float",
        values: Float64Array.from({ length: m.rows }, (_, i) => m.data[i * m.cols + j]!)
      }))
    )
  const state = fitColumnTransformer(toFrame(xtr), { scale: "standard", impute: "none", encode: "none" })
  return { tr: transformFrame(state, toFrame(xtr)).matrix, te: transformFrame(state, toFrame(xte)).matrix }
}

/** scikit-learn's HistGradientBoosting time with OpenMP limited to one thread, and the ratio to it. */
const oneThread = (sk: SkRow | undefined, seconds: number): string => {
  const t = sk?.seconds_1thread
  return typeof t === "number" ? `sklearn 1 thread ${t.toFixed(4)} s, ratio ${(seconds / t).toFixed(2)}` : ""
}

// Imported like every other learner: a module that fails to load stops the bench (non-zero exit)
// instead of silently dropping its rows.
const hgb = histGradientBoosting as unknown as Learner<Record<string, never>, unknown>

// --- breast_cancer (classification)
{
  const { d, xtr, xte, ytr, yte, names } = split("breast_cancer")
  const nClasses = d.classes!.length
  const rf = timed(() => {
    const m = randomForest.fit(xtr, ytr, {
      task: "classification",
      params: { n_estimators: 100 },
      seed: 42,
      nClasses,
      featureNames: names
    })
    return randomForest.predict(m, xte)
  })
  add("random_forest (100 trees)", "breast_cancer", rf, d.random_forest as SkRow, "accuracy", accuracy(yte, rf.last))

  const lr = timed(() => {
    const { tr, te } = standardise(xtr, xte, names)
    const m = logisticRegression.fit(tr, ytr, {
      task: "classification",
      params: {},
      seed: 42,
      nClasses,
      featureNames: names
    })
    return { pred: logisticRegression.predict(m, te), m }
  })
  add(
    "standard_scaler + logistic_regression",
    "breast_cancer",
    lr,
    d.logistic_regression as SkRow,
    "accuracy",
    accuracy(yte, lr.last.pred),
    `converged=${lr.last.m.converged} iterations=${lr.last.m.iterations}`
  )

  {
    const h = timed(() =>
      hgb.predict(
        hgb.fit(xtr, ytr, { task: "classification", params: {}, seed: 42, nClasses, featureNames: names }),
        xte
      )
    )
    add(
      "hist_gradient_boosting",
      "breast_cancer",
      h,
      d.hist_gradient_boosting as SkRow,
      "accuracy",
      accuracy(yte, h.last),
      oneThread(d.hist_gradient_boosting as SkRow, h.seconds)
    )
  }
}

// --- california_housing (regression)
{
  const { d, xtr, xte, ytr, yte, names } = split("california_housing")
  const opts = { task: "regression" as const, seed: 42, featureNames: names }
  const maxDiff = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) =>
    Math.max(...a.map((v, i) => Math.abs(v - b[i]!)))

  const ols = timed(() => {
    const m = linearRegression.fit(xtr, ytr, { ...opts, params: {} })
    return { m, pred: linearRegression.predict(m, xte) }
  })
  const skOls = d.linear_regression as SkRow & { coef: number[]; intercept: number }
  add(
    "linear_regression",
    "california_housing",
    ols,
    skOls,
    "r2",
    r2Score(yte, ols.last.pred),
    `max|Δcoef|=${maxDiff(ols.last.m.coef, skOls.coef).toExponential(2)} |Δintercept|=${Math.abs(ols.last.m.intercept - skOls.intercept).toExponential(2)}`
  )

  const rg = timed(() => {
    const m = ridge.fit(xtr, ytr, { ...opts, params: { alpha: 1.0 } })
    return { m, pred: ridge.predict(m, xte) }
  })
  const skRidge = d.ridge as SkRow & { coef: number[]; intercept: number }
  add(
    "ridge (alpha=1)",
    "california_housing",
    rg,
    skRidge,
    "r2",
    r2Score(yte, rg.last.pred),
    `max|Δcoef|=${maxDiff(rg.last.m.coef, skRidge.coef).toExponential(2)} |Δintercept|=${Math.abs(rg.last.m.intercept - skRidge.intercept).toExponential(2)}`
  )

  {
    const h = timed(() => hgb.predict(hgb.fit(xtr, ytr, { ...opts, params: {} }), xte))
    add(
      "hist_gradient_boosting",
      "california_housing",
      h,
      d.hist_gradient_boosting as SkRow,
      "r2",
      r2Score(yte, h.last),
      `mae=${meanAbsoluteError(yte, h.last).toFixed(4)} ${oneThread(d.hist_gradient_boosting as SkRow, h.seconds)}`
    )
  }

  const forest = (nJobs: number) => {
    const f = timed(() =>
      randomForest.predict(randomForest.fit(xtr, ytr, { ...opts, params: { n_estimators: 100, n_jobs: nJobs } }), xte)
    )
    add(
      `random_forest (100 trees${nJobs > 1 ? `, n_jobs=${nJobs}` : ""})`,
      "california_housing",
      f,
      d.random_forest as SkRow,
      "r2",
      r2Score(yte, f.last),
      `mae=${meanAbsoluteError(yte, f.last).toFixed(4)}`
    )
  }
  if (!skipSlow) forest(1)
  if (parallel) forest(2)
}

// the speed and quality targets the tabular learners are held to
const find = (learner: string, dataset: string) =>
  rows.find((r) => r.learner.startsWith(learner) && r.dataset === dataset)
const targets: Array<{ target: string; pass: boolean }> = []
const rfc = find("random_forest", "breast_cancer"),
  lrc = find("standard_scaler", "breast_cancer"),
  ols = find("linear_regression", "california_housing")
if (rfc)
  targets.push({
    target: "random forest breast_cancer: accuracy ≥ 0.955 and ≤ 1.5× scikit-learn's time",
    pass: rfc.value >= 0.955 && (rfc.ratio ?? Infinity) <= 1.5
  })
if (lrc)
  targets.push({
    target: "logistic regression breast_cancer: accuracy ≥ 0.965 and ≤ 50 ms",
    pass: lrc.value >= 0.965 && lrc.seconds <= 0.05
  })
if (ols) {
  const coefDiff = Number(/max\|Δcoef\|=(\S+)/.exec(ols.note)?.[1])
  targets.push({
    target: "linear regression california: coefficients within 1e-6 of scikit-learn's and ≤ 50 ms",
    pass: coefDiff <= 1e-6 && ols.seconds <= 0.05
  })
}
// A row that could not be measured is a missed target, never a silently shorter table.
const hgbc = find("hist_gradient_boosting", "breast_cancer"),
  hgbr = find("hist_gradient_boosting", "california_housing")
const hgbcTarget = "HGB classifier breast_cancer: accuracy ≥ 0.94 and ≤ 1.5× scikit-learn's time"
targets.push(
  hgbc
    ? { target: hgbcTarget, pass: hgbc.value >= 0.94 && (hgbc.ratio ?? Infinity) <= 1.5 }
    : { target: `${hgbcTarget} (row not measured)`, pass: false }
)
const hgbrTarget = "HGB regressor california: R² ≥ 0.826, MAE ≤ 0.32 and ≤ 1.5× scikit-learn's time"
if (hgbr) {
  const mae = Number(/mae=(\S+)/.exec(hgbr.note)?.[1])
  targets.push({ target: hgbrTarget, pass: hgbr.value >= 0.826 && mae <= 0.32 && (hgbr.ratio ?? Infinity) <= 1.5 })
} else targets.push({ target: `${hgbrTarget} (row not measured)`, pass: false })

const machine = `${cpus()[0]?.model ?? "cpu"}, ${availableParallelism()} cores, node ${process.version}`
if (asJson) {
  console.log(
    JSON.stringify(
      {
        machine,
        loadAverage: loadavg(),
        sklearnMachine: ref.machine,
        sklearnLoadAverage: ref.load_average ?? null,
        sklearn: ref.sklearn,
        repeats,
        rows,
        targets
      },
      null,
      1
    )
  )
} else {
  const fmt = (v: number | null, digits = 4) => (v === null ? "—" : v.toFixed(digits))
  const table = [
    ["learner", "dataset", "seconds", "sklearn s", "ratio", "min ratio", "metric", "value", "sklearn", "note"],
    ...rows.map((r) => [
      r.learner,
      r.dataset,
      fmt(r.seconds),
      fmt(r.sklearnSeconds),
      fmt(r.ratio, 2),
      fmt(r.ratioMin, 2),
      r.metric,
      fmt(r.value),
      fmt(r.sklearnValue),
      r.note
    ])
  ]
  const widths = table[0]!.map((_, j) => Math.max(...table.map((r) => r[j]!.length)))
  const load = (l: ReadonlyArray<number> | undefined) => (l ? l.map((v) => v.toFixed(2)).join(" ") : "?")
  console.log(
    `driftgate vs scikit-learn ${ref.sklearn} — ${machine}; fit+predict seconds, median of ${repeats} after a warm-up`
  )
  console.log(`load average: now ${load(loadavg())}, during the scikit-learn run ${load(ref.load_average)}`)
  for (const r of table)
    console.log(
      r
        .map((c, j) => c.padEnd(widths[j]!))
        .join("  ")
        .trimEnd()
    )
  for (const t of targets) console.log(`${t.pass ? "PASS" : "FAIL"}  ${t.target}`)
}
const scaleOk = args.includes("--scale")
  ? printScale(repeatsArg >= 0 ? repeats : 3, !args.includes("--no-single-thread"))
  : true
process.exitCode = targets.every((t) => t.pass) && scaleOk ? 0 : 1
