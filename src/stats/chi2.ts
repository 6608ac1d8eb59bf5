/**
 * Chi-square goodness-of-fit test as scipy.stats.chisquare (SciPy 1.10), and Evidently's
 * categorical drift test built on it (evidently/calculations/stattests/chisquare_stattest.py):
 * over the union of non-null categories, observed = current counts and
 * expected = reference counts * (n_current / n_reference), then chisquare(observed, expected)
 * with k - 1 degrees of freedom. This is a goodness-of-fit test of the current batch against the
 * reference shares, not scipy.stats.chi2_contingency (no Yates correction is involved).
 * A category absent from the reference has expected count 0: the statistic is +Infinity and the
 * p-value 0, as in SciPy. With a single category df = 0 and SciPy returns NaN.
 */
import { unionKeys } from "./binning.js"
import { chi2Sf } from "./distributions.js"
import { pairwiseSum } from "./summation.js"

export interface ChiSquareResult {
  readonly statistic: number
  readonly pValue: number
  readonly df: number
}

/** scipy.stats.chisquare(fObs, fExp, ddof). */
export const chiSquare = (fObs: ArrayLike<number>, fExp: ArrayLike<number>, ddof = 0): ChiSquareResult => {
  const k = fObs.length
  if (fExp.length !== k) throw new Error("The chi-square test needs observed and expected counts of the same length.")
  const so = pairwiseSum(fObs)
  const se = pairwiseSum(fExp)
  if (Math.abs(so - se) / Math.min(so, se) > 1e-8) {
    throw new Error(
      "The chi-square test needs observed and expected counts with the same total (relative tolerance 1e-8)."
    )
  }
  const terms = new Float64Array(k)
  for (let i = 0; i < k; i++) {
    const d = fObs[i] - fExp[i]
    terms[i] = (d * d) / fExp[i]
  }
  const statistic = pairwiseSum(terms)
  const df = k - 1 - ddof
  return { statistic, pValue: chi2Sf(statistic, df), df }
}

/** Evidently's chi-square drift test from category counts of reference and current (nulls excluded). */
export const chiSquareCategories = <K extends string | number>(
  refCounts: ReadonlyMap<K, number>,
  curCounts: ReadonlyMap<K, number>
): ChiSquareResult => {
  const keys = unionKeys(refCounts, curCounts)
  let nr = 0
  let nc = 0
  for (const c of refCounts.values()) nr += c
  for (const c of curCounts.values()) nc += c
  const kNorm = nc / nr
  const obs = new Float64Array(keys.length)
  const exp = new Float64Array(keys.length)
  keys.forEach((key, i) => {
    exp[i] = (refCounts.get(key) ?? 0) * kNorm
    obs[i] = curCounts.get(key) ?? 0
  })
  return chiSquare(obs, exp)
}
