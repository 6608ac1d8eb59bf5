/**
 * First Wasserstein distance between two 1-D empirical distributions, as
 * scipy.stats.wasserstein_distance (SciPy 1.10, `_cdf_distance` with p = 1):
 *   sum over consecutive merged values of |U(x_k) - V(x_k)| * (x_{k+1} - x_k),
 * with U, V the (weighted) ECDFs evaluated "right". The terms are summed in NumPy's pairwise order.
 * Plus Evidently's normed form: distance / max(np.std(reference), 0.001).
 */
import { sortFloat64 } from "../domain/sort.js"
import { npStd, pairwiseSum } from "./summation.js"

let termScratch = new Float64Array(0)
const terms = (n: number): Float64Array => {
  if (termScratch.length < n) termScratch = new Float64Array(Math.max(n, termScratch.length * 2))
  return termScratch
}

/** Unweighted W1 on samples already sorted ascending (no NaN). Linear time, no sorting. */
export const wassersteinSorted = (u: ArrayLike<number>, v: ArrayLike<number>): number => {
  const nu = u.length
  const nv = v.length
  if (nu === 0 || nv === 0) throw new Error("The Wasserstein distance needs at least one value in each sample.")
  const total = nu + nv
  const t = terms(total - 1)
  // merged position k holds all_values[k]; the ECDFs at all_values[k] count every value <= it, and
  // term k is |U - V| * (all_values[k+1] - all_values[k]) (zero inside a run of equal values)
  let i = 0
  let j = 0
  let k = 0
  while (i < nu || j < nv) {
    const i0 = i
    const j0 = j
    let x: number
    if (j >= nv || (i < nu && u[i] < v[j])) {
      x = u[i++]
      while (i < nu && u[i] === x) i++
    } else if (i >= nu || v[j] < u[i]) {
      x = v[j++]
      while (j < nv && v[j] === x) j++
    } else {
      x = u[i++]
      while (i < nu && u[i] === x) i++
      j++
      while (j < nv && v[j] === x) j++
    }
    const last = k + (i - i0) + (j - j0) - 1
    for (; k < last; k++) t[k] = 0
    if (last >= total - 1) break
    const next = j >= nv || (i < nu && u[i] < v[j]) ? u[i] : v[j]
    t[k++] = Math.abs(i / nu - j / nv) * (next - x)
  }
  return pairwiseSum(t, 0, total - 1)
}

const validateWeights = (values: ArrayLike<number>, weights: ArrayLike<number>): void => {
  if (weights.length !== values.length)
    throw new Error("The Wasserstein weights must have the same length as the values.")
  let s = 0
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]
    if (!(w >= 0) || !Number.isFinite(w)) throw new Error("The Wasserstein weights must be finite and non-negative.")
    s += w
  }
  if (!(s > 0)) throw new Error("The Wasserstein weights must have a positive sum.")
}

/** Sorted copy of values with weights carried along, and the running weight sums (np.cumsum). */
const sortWithWeights = (
  values: ArrayLike<number>,
  weights: ArrayLike<number>
): { x: Float64Array; cum: Float64Array } => {
  const n = values.length
  const idx = new Uint32Array(n)
  for (let i = 0; i < n; i++) idx[i] = i
  idx.sort((a, b) => values[a] - values[b])
  const x = new Float64Array(n)
  const cum = new Float64Array(n + 1)
  let c = 0
  for (let i = 0; i < n; i++) {
    x[i] = values[idx[i]]
    c += weights[idx[i]]
    cum[i + 1] = c
  }
  return { x, cum }
}

/**
 * scipy.stats.wasserstein_distance(u, v, uWeights, vWeights). Samples need not be sorted; NaN is
 * not allowed (callers drop nulls first).
 */
export const wassersteinDistance = (
  u: ArrayLike<number>,
  v: ArrayLike<number>,
  uWeights?: ArrayLike<number>,
  vWeights?: ArrayLike<number>
): number => {
  if (u.length === 0 || v.length === 0)
    throw new Error("The Wasserstein distance needs at least one value in each sample.")
  if (uWeights === undefined && vWeights === undefined) {
    return wassersteinSorted(sortFloat64(Float64Array.from(u)), sortFloat64(Float64Array.from(v)))
  }
  const uw = uWeights ?? new Float64Array(u.length).fill(1)
  const vw = vWeights ?? new Float64Array(v.length).fill(1)
  validateWeights(u, uw)
  validateWeights(v, vw)
  const U = sortWithWeights(u, uw)
  const V = sortWithWeights(v, vw)
  const nu = U.x.length
  const nv = V.x.length
  const uTotal = U.cum[nu]
  const vTotal = V.cum[nv]
  const total = nu + nv
  const t = terms(total - 1)
  let i = 0
  let j = 0
  let k = 0
  let prev = U.x[0] <= V.x[0] ? U.x[0] : V.x[0]
  while (k < total - 1) {
    let ties = 0
    while (i < nu && U.x[i] <= prev) {
      i++
      ties++
    }
    while (j < nv && V.x[j] <= prev) {
      j++
      ties++
    }
    // unweighted samples use index / n like SciPy; weighted ones the cumulative weight share
    const uc = uWeights === undefined ? i / nu : U.cum[i] / uTotal
    const vc = vWeights === undefined ? j / nv : V.cum[j] / vTotal
    const diff = Math.abs(uc - vc)
    const lastK = Math.min(k + ties - 1, total - 1)
    for (; k < lastK; k++) t[k] = diff * 0
    if (k >= total - 1) break
    const next = j >= nv || (i < nu && U.x[i] <= V.x[j]) ? U.x[i] : V.x[j]
    t[k] = diff * (next - prev)
    k++
    prev = next
  }
  return pairwiseSum(t, 0, total - 1)
}

/** Evidently's normed Wasserstein distance: W1 / max(population std of the reference, 0.001). */
export const wassersteinNormed = (distance: number, referenceStd: number): number =>
  distance / Math.max(referenceStd, 0.001)

/** np.std (population) of a sample; re-exported here because the normed distance needs it. */
export const referenceStd = (reference: ArrayLike<number>): number => npStd(reference)
