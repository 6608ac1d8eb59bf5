/**
 * Jensen–Shannon distance as scipy.spatial.distance.jensenshannon (SciPy 1.10): both vectors are
 * normalised to sum 1, m = (p + q) / 2, JS = sqrt((sum rel_entr(p, m) + sum rel_entr(q, m)) / 2),
 * natural log unless a base is given. Evidently applies it to `get_binned_data` shares without
 * filling empty bins; drift when the distance >= threshold (default 0.1).
 * (Some Evidently releases pass base 2; the default here is SciPy's, base e.)
 */
import { binnedCategoryShares, binnedNumericShares, type BinRule } from "./binning.js"
import { pairwiseSum } from "./summation.js"

const relEntr = (x: number, y: number): number => {
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.NaN
  if (x > 0 && y > 0) return x * Math.log(x / y)
  if (x === 0 && y >= 0) return 0
  return Infinity
}

/** scipy.spatial.distance.jensenshannon(p, q, base). */
export const jensenShannonDistance = (p: ArrayLike<number>, q: ArrayLike<number>, base?: number): number => {
  const n = p.length
  if (q.length !== n) throw new Error("The Jensen-Shannon distance needs vectors of the same length.")
  const sp = pairwiseSum(p)
  const sq = pairwiseSum(q)
  const left = new Float64Array(n)
  const right = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const pi = p[i] / sp
    const qi = q[i] / sq
    const m = (pi + qi) / 2.0
    left[i] = relEntr(pi, m)
    right[i] = relEntr(qi, m)
  }
  let js = pairwiseSum(left) + pairwiseSum(right)
  if (base !== undefined) js /= Math.log(base)
  return Math.sqrt(js / 2.0)
}

/** Jensen–Shannon distance for a numeric column with more than 20 distinct reference values. */
export const jensenShannonNumericSorted = (
  refSorted: ArrayLike<number>,
  curSorted: ArrayLike<number>,
  rule: BinRule = "sturges",
  base?: number
): number => {
  const b = binnedNumericShares(refSorted, curSorted, rule, false)
  return jensenShannonDistance(b.reference, b.current, base)
}

/** Jensen–Shannon distance over categories (or distinct values of a low-cardinality numeric column). */
export const jensenShannonCategories = <K extends string | number>(
  refCounts: ReadonlyMap<K, number>,
  curCounts: ReadonlyMap<K, number>,
  base?: number
): number => {
  const b = binnedCategoryShares(refCounts, curCounts, false)
  return jensenShannonDistance(b.reference, b.current, base)
}
