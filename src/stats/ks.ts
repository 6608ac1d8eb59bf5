/**
 * Two-sample Kolmogorov–Smirnov test, two-sided, exactly as scipy.stats.ks_2samp in SciPy 1.10:
 *  - statistic: max |F1(x) - F2(x)| over all observations, with ECDFs evaluated "right"
 *    (searchsorted side='right'), so ties are handled as SciPy handles them;
 *  - method "auto": the exact p-value when max(n1, n2) <= 10000, otherwise the asymptotic one;
 *  - exact: Hodges' lattice-path counting. n1 == n2 uses the closed alternating sum
 *    (_compute_prob_outside_square, O(n)); n1 != n2 counts paths with Viehmann's recursion for
 *    1 - p (_compute_outer_prob_inside_method, O(max(n) * window) time, O(min(n)) memory). As in
 *    SciPy, the exact path reports the statistic rounded to the lattice, h / lcm(n1, n2). One
 *    deliberate shortcut: when 2 d^2 n1 n2 / (n1 + n2) > 1000 (p far below the smallest double)
 *    the band recursion is skipped and p = 0 is returned; SciPy spends up to n1 * n2 steps to
 *    return 0 or a subnormal there (0.5 s at 10,000 vs 9,999 with d = 1). The recursion also
 *    multiplies by 1 / (i + j) where SciPy divides, which halves its time; results agree with
 *    SciPy's to a few 1e-15 (checked against bench/scipy_reference.json);
 *  - asymptotic: kstwo.sf(d, round(n1 n2 / (n1 + n2))) (see kolmogorov.ts), also the fallback when
 *    the exact computation fails.
 * The work is done on sorted samples; `ks2sampSorted` takes them pre-sorted (a reference profile)
 * and never sorts, so a monitoring batch costs one sort of the current column plus a linear merge.
 * NaN values are not allowed in the sorted entry point; `ks2samp` drops them (SciPy would not).
 */
import { roundHalfEven } from "./floatBits.js"
import { kstwoSf } from "./kolmogorov.js"
import { sortFloat64 } from "../domain/sort.js"

export type KsMethod = "auto" | "exact" | "asymp"

export interface KsResult {
  readonly statistic: number
  readonly pValue: number
  /** The method actually used for the p-value. */
  readonly method: "exact" | "asymp"
  /** The observation at which the ECDF difference is largest (SciPy's statistic_location). */
  readonly statisticLocation: number
  /** +1 when the first sample's ECDF is above the second's there, else -1 (SciPy's statistic_sign). */
  readonly statisticSign: 1 | -1
  readonly n1: number
  readonly n2: number
}

const MAX_AUTO_N = 10000
const INT32_MAX = 2147483647

const gcd = (a: number, b: number): number => {
  let x = a
  let y = b
  while (y !== 0) {
    const t = x % y
    x = y
    y = t
  }
  return x
}

/** Pr(D_{n,n} >= h/n): the proportion of lattice paths that leave the band |x - y| < h. */
export const probOutsideSquare = (n: number, h: number): number => {
  // P = 2 * A0 * (1 - A1 * (1 - A2 * (...))), each A_k a ratio of binomials built from h terms
  let P = 0.0
  let k = Math.floor(n / h)
  while (k >= 0) {
    let p1 = 1.0
    const kh = k * h
    for (let j = 0; j < h; j++) p1 = ((n - kh - j) * p1) / (n + kh + j + 1)
    P = p1 * (1.0 - P)
    k -= 1
  }
  return 2 * P
}

let bandScratch = new Float64Array(0)

/**
 * Proportion of lattice paths from (0,0) to (m,n) that do not stay strictly inside
 * |x/m - y/n| < h / lcm(m, n), computed directly as 1 - p (Viehmann 2021) over a sliding window.
 */
export const probOutsideBand = (m0: number, n0: number, g: number, h: number): number => {
  const m = m0 >= n0 ? m0 : n0
  const n = m0 >= n0 ? n0 : m0
  const mg = Math.floor(m / g)
  const ng = Math.floor(n / g)
  let minj = 0
  let maxj = Math.min(Math.ceil(h / mg), n + 1)
  let curlen = maxj - minj
  const lenA = Math.min(2 * maxj + 2, n + 1)
  if (bandScratch.length < lenA) bandScratch = new Float64Array(lenA)
  const A = bandScratch
  A.fill(1.0, 0, lenA)
  A.fill(0.0, minj, Math.min(maxj, lenA))
  for (let i = 1; i <= m; i++) {
    const lastminj = minj
    const lastlen = curlen
    minj = Math.max(Math.floor((ng * i - h) / mg) + 1, 0)
    minj = Math.min(minj, n)
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1)
    if (maxj <= minj) return 1.0
    let val = minj === 0 ? 0.0 : 1.0
    const width = maxj - minj
    const shift = minj - lastminj
    for (let jj = 0; jj < width; jj++) {
      const j = jj + minj
      // multiply by the reciprocal: it is off the loop-carried chain through `val`, a division is not
      val = (A[jj + shift] * i + val * j) * (1 / (i + j))
      A[jj] = val
    }
    curlen = width
    if (lastlen > curlen) A.fill(1, width, Math.min(width + (lastlen - curlen), lenA))
  }
  return A[maxj - minj - 1]
}

/** SciPy's _attempt_exact_2kssamp for the two-sided alternative. */
const attemptExact = (n1: number, n2: number, g: number, d: number): { ok: boolean; d: number; p: number } => {
  const lcm = Math.floor(n1 / g) * n2
  const h = roundHalfEven(d * lcm)
  const dl = (h * 1.0) / lcm
  if (h === 0) return { ok: true, d: dl, p: 1.0 }
  // Far in the tail the path count is below the smallest double: SciPy's O(n1 * window) recursion
  // then returns 0 (or a subnormal) after up to n1 * n2 steps; we return 0 without the work.
  // 2 d^2 n1 n2 / (n1 + n2) > 1000 means the Kolmogorov tail exp(-2 d^2 en) is below e^-1000.
  if (n1 !== n2 && 2 * dl * dl * ((n1 * n2) / (n1 + n2)) > 1000) return { ok: true, d: dl, p: 0 }
  const p = n1 === n2 ? probOutsideSquare(n1, h) : probOutsideBand(n1, n2, g, h)
  if (!(p >= 0 && p <= 1)) return { ok: false, d: dl, p }
  return { ok: true, d: dl, p }
}

/** Asymptotic two-sided p-value: kstwo.sf(d, round(n1 n2 / (n1 + n2))). */
export const ksAsymptoticPValue = (d: number, n1: number, n2: number): number => {
  const m = Math.max(n1, n2)
  const n = Math.min(n1, n2)
  const en = (m * n) / (m + n)
  return kstwoSf(d, roundHalfEven(en))
}

/** Two-sided two-sample KS test on samples that are already sorted ascending (no NaN). */
export const ks2sampSorted = (
  data1: ArrayLike<number>,
  data2: ArrayLike<number>,
  method: KsMethod = "auto"
): KsResult => {
  const n1 = data1.length
  const n2 = data2.length
  if (n1 === 0 || n2 === 0) throw new Error("The KS test needs at least one value in each sample.")

  // Walk the merged order once; at each distinct value v the ECDFs are #{x <= v} / n.
  let i = 0
  let j = 0
  let maxDiff = -Infinity
  let minDiff = Infinity
  let maxLoc1 = 0,
    maxLoc2 = 0,
    minLoc1 = 0,
    minLoc2 = 0
  let hasMax1 = false,
    hasMax2 = false,
    hasMin1 = false,
    hasMin2 = false
  while (i < n1 || j < n2) {
    let v: number
    let in1: boolean
    let in2: boolean
    if (j >= n2 || (i < n1 && data1[i] < data2[j])) {
      v = data1[i++]
      while (i < n1 && data1[i] === v) i++
      in1 = true
      in2 = false
    } else if (i >= n1 || data2[j] < data1[i]) {
      v = data2[j++]
      while (j < n2 && data2[j] === v) j++
      in1 = false
      in2 = true
    } else {
      v = data1[i++]
      while (i < n1 && data1[i] === v) i++
      j++
      while (j < n2 && data2[j] === v) j++
      in1 = true
      in2 = true
    }
    const diff = i / n1 - j / n2
    // np.argmax / argmin take the first index in concat(data1, data2): the smallest such value
    // from data1 if there is one, else from data2
    if (diff >= maxDiff) {
      if (diff > maxDiff) {
        maxDiff = diff
        hasMax1 = in1
        maxLoc1 = v
        hasMax2 = in2
        maxLoc2 = v
      } else {
        if (in1 && !hasMax1) {
          hasMax1 = true
          maxLoc1 = v
        }
        if (in2 && !hasMax2) {
          hasMax2 = true
          maxLoc2 = v
        }
      }
    }
    if (diff <= minDiff) {
      if (diff < minDiff) {
        minDiff = diff
        hasMin1 = in1
        minLoc1 = v
        hasMin2 = in2
        minLoc2 = v
      } else {
        if (in1 && !hasMin1) {
          hasMin1 = true
          minLoc1 = v
        }
        if (in2 && !hasMin2) {
          hasMin2 = true
          minLoc2 = v
        }
      }
    }
  }
  const minS = Math.min(Math.max(-minDiff, 0), 1)
  const maxS = maxDiff
  let d: number
  let location: number
  let sign: 1 | -1
  if (minS > maxS) {
    d = minS
    location = hasMin1 ? minLoc1 : minLoc2
    sign = -1
  } else {
    d = maxS
    location = hasMax1 ? maxLoc1 : maxLoc2
    sign = 1
  }

  const g = gcd(n1, n2)
  const n1g = Math.floor(n1 / g)
  const n2g = Math.floor(n2 / g)
  let mode: "exact" | "asymp"
  if (method === "auto") mode = Math.max(n1, n2) <= MAX_AUTO_N ? "exact" : "asymp"
  else if (method === "exact") mode = n1g >= INT32_MAX / n2g ? "asymp" : "exact"
  else mode = "asymp"

  let prob = Number.NEGATIVE_INFINITY
  if (mode === "exact") {
    const r = attemptExact(n1, n2, g, d)
    d = r.d
    prob = r.p
    if (!r.ok) mode = "asymp"
  }
  if (mode === "asymp") prob = ksAsymptoticPValue(d, n1, n2)
  prob = prob < 0 ? 0 : prob > 1 ? 1 : prob
  return { statistic: d, pValue: prob, method: mode, statisticLocation: location, statisticSign: sign, n1, n2 }
}

/** Non-NaN values of `x`, sorted ascending, in a new Float64Array. */
export const sortedFinite = (x: ArrayLike<number>): Float64Array => {
  let k = 0
  for (let i = 0; i < x.length; i++) if (!Number.isNaN(x[i])) k++
  const out = new Float64Array(k)
  k = 0
  for (let i = 0; i < x.length; i++) {
    const v = x[i]
    if (!Number.isNaN(v)) out[k++] = v
  }
  return sortFloat64(out)
}

/** Two-sided two-sample KS test (scipy.stats.ks_2samp) on unsorted samples; NaN values are dropped. */
export const ks2samp = (data1: ArrayLike<number>, data2: ArrayLike<number>, method: KsMethod = "auto"): KsResult =>
  ks2sampSorted(sortedFinite(data1), sortedFinite(data2), method)
