/**
 * Distribution functions the drift tests need, with SciPy's conventions:
 * chi2Sf = scipy.stats.chi2.sf (cephes chdtrc), normCdf = scipy.special.ndtr.
 * The Kolmogorov–Smirnov distributions live in kolmogorov.ts.
 */
import { erf, erfc, gammaincc } from "./gamma.js"

/** Survival function of the chi-square distribution with `df` degrees of freedom. NaN when df <= 0 (as SciPy). */
export const chi2Sf = (x: number, df: number): number => {
  if (Number.isNaN(x) || !(df > 0)) return Number.NaN
  if (x <= 0) return 1
  if (x === Infinity) return 0
  return gammaincc(df / 2, x / 2)
}

/** Standard normal CDF, as cephes ndtr (erf near 0, erfc in the tails). */
export const normCdf = (a: number): number => {
  if (Number.isNaN(a)) return a
  const x = a * Math.SQRT1_2
  const z = Math.abs(x)
  if (z < Math.SQRT1_2) return 0.5 + 0.5 * erf(x)
  const y = 0.5 * erfc(z)
  return x > 0 ? 1 - y : y
}
