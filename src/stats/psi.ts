/**
 * Population Stability Index as Evidently computes it (evidently/calculations/stattests/psi.py):
 * PSI = sum over bins of (ref_i - cur_i) * ln(ref_i / cur_i), on the shares from `get_binned_data`
 * with empty bins filled (see binning.ts), summed left to right as Evidently's loop does.
 * Drift when PSI >= threshold (Evidently default 0.1).
 */
import { binnedCategoryShares, binnedNumericShares, type BinRule } from "./binning.js"

/** PSI of two share vectors that contain no zeros. */
export const psiFromShares = (reference: ArrayLike<number>, current: ArrayLike<number>): number => {
  if (reference.length !== current.length) throw new Error("PSI needs share vectors of the same length.")
  let psi = 0
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i]
    const c = current[i]
    psi += (r - c) * Math.log(r / c)
  }
  return psi
}

/** PSI for a numeric column with more than 20 distinct reference values: equal-width bins on sorted samples. */
export const psiNumericSorted = (
  refSorted: ArrayLike<number>,
  curSorted: ArrayLike<number>,
  rule: BinRule = "sturges"
): number => {
  const b = binnedNumericShares(refSorted, curSorted, rule, true)
  return psiFromShares(b.reference, b.current)
}

/** PSI over categories (or the distinct values of a low-cardinality numeric column). */
export const psiCategories = <K extends string | number>(
  refCounts: ReadonlyMap<K, number>,
  curCounts: ReadonlyMap<K, number>
): number => {
  const b = binnedCategoryShares(refCounts, curCounts, true)
  return psiFromShares(b.reference, b.current)
}
