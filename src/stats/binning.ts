/**
 * Binning as Evidently's `get_binned_data` does it (evidently/calculations/stattests/utils.py),
 * which PSI and Jensen–Shannon use:
 *  - numerical columns whose reference has more than 20 distinct values: equal-width bins over the
 *    combined reference + current range, with the bin count from NumPy's "sturges" rule
 *    (np.histogram_bin_edges(concat(ref, cur), bins="sturges")), counted like np.histogram
 *    (half-open bins, the last one closed);
 *  - everything else: one bin per distinct non-null value of reference ∪ current;
 *  - shares are count / n per side; with `fillZeroes` (PSI) an empty bin gets
 *    min(non-zero share) / 1e6 when that minimum is <= 0.0001, else 0.0001.
 * Evidently's docstring speaks of reference quantiles, but the code uses equal-width bins; we follow
 * the code. `{ bins: k }` gives k equal-width bins instead of Sturges (Evidently before 0.2 used 30).
 */

export type BinRule = "sturges" | { readonly bins: number }

/** np.histogram_bin_edges for data with the given min, max and size, with "sturges" or a fixed count. */
export const histogramBinEdges = (min: number, max: number, size: number, rule: BinRule = "sturges"): Float64Array => {
  let first = min
  let last = max
  if (first === last) {
    first -= 0.5
    last += 0.5
  }
  let nBins: number
  if (rule === "sturges") {
    const width = (max - min) / (Math.log2(size) + 1.0)
    nBins = width ? Math.ceil((last - first) / width) : 1
  } else {
    nBins = rule.bins
  }
  // np.linspace(first, last, nBins + 1): i * step + start, last edge set exactly
  const edges = new Float64Array(nBins + 1)
  const delta = last - first
  const step = delta / nBins
  for (let i = 0; i <= nBins; i++) edges[i] = step === 0 ? (i / nBins) * delta + first : i * step + first
  edges[nBins] = last
  return edges
}

/** np.histogram(sorted, edges)[0] for a sorted sample: bins [e_i, e_{i+1}), the last one closed. */
export const histogramCountsSorted = (sorted: ArrayLike<number>, edges: ArrayLike<number>): Float64Array => {
  const nb = edges.length - 1
  const counts = new Float64Array(nb)
  const lowerBound = (x: number, from: number): number => {
    let lo = from
    let hi = sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (sorted[mid] < x) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  const upperBound = (x: number, from: number): number => {
    let lo = from
    let hi = sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (sorted[mid] <= x) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  let prev = lowerBound(edges[0], 0)
  for (let b = 0; b < nb; b++) {
    const next = b === nb - 1 ? upperBound(edges[nb], prev) : lowerBound(edges[b + 1], prev)
    counts[b] = next - prev
    prev = next
  }
  return counts
}

/** Evidently's fill for empty bins (PSI only). Mutates and returns `shares`. */
export const fillZeroShares = (shares: Float64Array): Float64Array => {
  let minNonZero = Infinity
  for (let i = 0; i < shares.length; i++) if (shares[i] !== 0 && shares[i] < minNonZero) minNonZero = shares[i]
  const fill = minNonZero <= 0.0001 ? minNonZero / 10 ** 6 : 0.0001
  for (let i = 0; i < shares.length; i++) if (shares[i] === 0) shares[i] = fill
  return shares
}

export interface BinnedShares {
  readonly reference: Float64Array
  readonly current: Float64Array
  /** Bin edges for numeric binning, null when bins are categories. */
  readonly edges: Float64Array | null
  /** Category keys when bins are categories, in bin order. */
  readonly keys: ReadonlyArray<string | number> | null
}

/** Shares per equal-width bin for two sorted numeric samples (the numeric branch of get_binned_data). */
export const binnedNumericShares = (
  refSorted: ArrayLike<number>,
  curSorted: ArrayLike<number>,
  rule: BinRule = "sturges",
  fillZeroes = false
): BinnedShares => {
  const nr = refSorted.length
  const nc = curSorted.length
  const min = Math.min(refSorted[0], curSorted[0])
  const max = Math.max(refSorted[nr - 1], curSorted[nc - 1])
  const edges = histogramBinEdges(min, max, nr + nc, rule)
  const rc = histogramCountsSorted(refSorted, edges)
  const cc = histogramCountsSorted(curSorted, edges)
  for (let i = 0; i < rc.length; i++) {
    rc[i] = rc[i] / nr
    cc[i] = cc[i] / nc
  }
  if (fillZeroes) {
    fillZeroShares(rc)
    fillZeroShares(cc)
  }
  return { reference: rc, current: cc, edges, keys: null }
}

/** Shares per category over the union of keys (the categorical branch of get_binned_data). */
export const binnedCategoryShares = <K extends string | number>(
  refCounts: ReadonlyMap<K, number>,
  curCounts: ReadonlyMap<K, number>,
  fillZeroes = false
): BinnedShares => {
  const keys = unionKeys(refCounts, curCounts)
  let nr = 0
  let nc = 0
  for (const c of refCounts.values()) nr += c
  for (const c of curCounts.values()) nc += c
  const r = new Float64Array(keys.length)
  const c = new Float64Array(keys.length)
  keys.forEach((k, i) => {
    r[i] = (refCounts.get(k) ?? 0) / nr
    c[i] = (curCounts.get(k) ?? 0) / nc
  })
  if (fillZeroes) {
    fillZeroShares(r)
    fillZeroShares(c)
  }
  return { reference: r, current: c, edges: null, keys }
}

/** Keys of reference first (in their order), then keys only in current. */
export const unionKeys = <K>(a: ReadonlyMap<K, number>, b: ReadonlyMap<K, number>): K[] => {
  const keys: K[] = [...a.keys()]
  for (const k of b.keys()) if (!a.has(k)) keys.push(k)
  return keys
}
