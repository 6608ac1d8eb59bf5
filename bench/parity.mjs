// npm run bench -- parity: regenerates scikit-learn's parity values (tests/ml/parity_reference.py,
// Debian's python3-sklearn) and diffs them against tests/ml/parity_reference.json, the values the
// hgb / logistic / tree / linear tests read, with each test's own tolerance. Exit 1 on a difference.
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"

// Tolerances as the tests apply them (toBeCloseTo(v, d) passes when |diff| < 10^-d / 2).
const closeTo = (d) => ({ abs: 10 ** -d / 2 })
const tolerance = [
  [/^hgb\.binary_breast_cancer\.(baseline|accuracy)$/, closeTo(12)],
  [/^hgb\.binary_breast_cancer\.proba1_first5\./, closeTo(9)],
  [/^hgb\.regression_california_nan\.(baseline|pred_sum)$/, closeTo(7)],
  [/^hgb\.regression_california_nan\.pred_first5\./, closeTo(9)],
  [/^hgb\.multiclass_iris\.proba_rows\./, closeTo(9)],
  [/^hgb\.multiclass_iris\.accuracy$/, closeTo(12)],
  [/^logistic\.multinomial_iris\.train_accuracy$/, closeTo(12)],
  [/^logistic\./, { abs: 1e-5 }],
  [/^tree\..*(node_count|feature)/, { abs: 0 }],
  [/^tree\..*threshold/, { rel: 1e-6 }],
  [/^linear\./, { abs: 1e-6 }],
  [/^sklearn$/, { abs: 0 }]
]

const flatten = (v, path, out) => {
  if (v !== null && typeof v === "object")
    for (const [k, w] of Object.entries(v)) flatten(w, path ? `${path}.${k}` : k, out)
  else out.set(path, v)
  return out
}

const py = spawnSync("/usr/bin/python3", ["tests/ml/parity_reference.py"], { encoding: "utf8" })
if (py.status !== 0) {
  process.stderr.write(py.stderr)
  console.error(`tests/ml/parity_reference.py exited ${py.status} (needs /usr/bin/python3 with scikit-learn)`)
  process.exit(1)
}
const fresh = flatten(JSON.parse(py.stdout), "", new Map())
const committed = flatten(JSON.parse(readFileSync("tests/ml/parity_reference.json", "utf8")), "", new Map())

const problems = []
let worst = 0
for (const key of new Set([...fresh.keys(), ...committed.keys()])) {
  if (!fresh.has(key) || !committed.has(key)) {
    problems.push(`${key}: only in ${fresh.has(key) ? "the fresh output" : "the committed JSON"}`)
    continue
  }
  const a = fresh.get(key)
  const b = committed.get(key)
  const tol = tolerance.find(([re]) => re.test(key))?.[1]
  if (tol === undefined) {
    problems.push(`${key}: no tolerance known (add it to bench/parity.mjs)`)
    continue
  }
  if (typeof a !== "number" || typeof b !== "number") {
    if (a !== b) problems.push(`${key}: ${JSON.stringify(a)} now, ${JSON.stringify(b)} committed`)
    continue
  }
  const diff = Math.abs(a - b)
  const limit = tol.rel !== undefined ? tol.rel * Math.abs(b) : tol.abs
  if (limit > 0) worst = Math.max(worst, diff / limit)
  if (tol.rel === undefined && tol.abs === 0 ? diff !== 0 : !(diff < limit))
    problems.push(
      `${key}: ${a} now, ${b} committed (|diff| ${diff.toExponential(2)}, ${limit === 0 ? "must be equal" : `allowed < ${limit}`})`
    )
}
console.log(`${fresh.size} values compared; largest difference ${(worst * 100).toFixed(3)}% of its tolerance`)
if (problems.length) {
  for (const p of problems) console.error(`DIFF ${p}`)
  console.error(`${problems.length} value(s) differ: regenerate with /usr/bin/python3 tests/ml/parity_reference.py`)
  process.exit(1)
}
console.log("parity: the committed values match scikit-learn")
