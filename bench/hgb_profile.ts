/**
 * A small driver for profiling the learners at size (not a benchmark: no peer, no target).
 *
 *   node --cpu-prof --cpu-prof-dir=bench/out/prof --import tsx bench/hgb_profile.ts [hgb|rf] [--threads N] [--iter N]
 *
 * Loads bench/out/california_1m.csv (bench/scale_data.ts), fits on the first 825,600 rows as bench/ml.ts
 * --scale-only does, and prints the fit time.
 */
import { randomForest } from "../src/ml/forest.js"
import { histGradientBoosting, lastHgbFit } from "../src/ml/hgb.js"
import type { Matrix } from "../src/ml/matrix.js"
import { ensureScaleFile } from "./scale_data.js"
import { loadNumericCsv } from "./scale_learners.js"

const args = process.argv.slice(2)
const what = args[0] ?? "hgb"
const ti = args.indexOf("--threads")
const threads = ti >= 0 ? Number(args[ti + 1]) : undefined
const ii = args.indexOf("--iter")
const maxIter = ii >= 0 ? Number(args[ii + 1]) : 100
const d = loadNumericCsv(ensureScaleFile("1m"))
const nTrain = Math.round(d.rows * 0.8)
const x: Matrix = { rows: nTrain, cols: d.cols, data: d.x.subarray(0, nTrain * d.cols) }
const y = d.y.subarray(0, nTrain)
const xp: Matrix = { rows: 100_000, cols: d.cols, data: d.x.subarray(nTrain * d.cols, (nTrain + 100_000) * d.cols) }
const t0 = performance.now()
const c0 = process.cpuUsage()
const cpu = (): string => {
  const c = process.cpuUsage(c0)
  return `${((c.user + c.system) / 1e6).toFixed(2)} s CPU`
}
if (what === "rf") {
  const m = randomForest.fit(x, y, {
    task: "regression",
    params: { n_estimators: maxIter, max_depth: 12, n_jobs: threads ?? 1 },
    seed: 42
  })
  const t1 = performance.now()
  const fitCpu = cpu()
  randomForest.predict(m, xp)
  console.log(
    `rf fit ${((t1 - t0) / 1000).toFixed(2)} s (${fitCpu}) predict ${((performance.now() - t1) / 1000).toFixed(3)} s`
  )
} else {
  const m = histGradientBoosting.fit(x, y, {
    task: "regression",
    params: { max_iter: maxIter },
    seed: 42,
    ...(threads !== undefined ? { threads } : {})
  })
  const t1 = performance.now()
  const fitCpu = cpu()

  histGradientBoosting.predict(m, xp)
  console.log(
    `hgb fit ${((t1 - t0) / 1000).toFixed(2)} s (${fitCpu}) (threads ${lastHgbFit()?.threads}, n_iter ${m.nIter}) predict ${((performance.now() - t1) / 1000).toFixed(3)} s`
  )
}
