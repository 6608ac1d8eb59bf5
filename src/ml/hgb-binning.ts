import { rng } from "../domain/random.js"
import type { Matrix } from "./matrix.js"
import { parallelMapSync, sharedArray } from "./parallel.js"

/** Thresholds are clipped here so +Infinity is reserved for the "split on NaN" case (scikit-learn's ALMOST_INF). */
export const ALMOST_INF = 1e300

/**
 * Quantile bin thresholds of one feature, as scikit-learn's `_find_binning_thresholds`:
 * midpoints between distinct values when there are at most `maxBins` of them, otherwise
 * numpy's "midpoint" percentiles at linspace(0, 100, maxBins + 1)[1:-1]. NaN is ignored.
 * `values` is sorted in place and must not hold NaN.
 */
export const findBinThresholds = (values: Float64Array, maxBins: number): Float64Array => {
  values.sort()
  const n = values.length
  let nDistinct = 0
  for (let i = 0; i < n; i++) if (i === 0 || values[i] !== values[i - 1]) nDistinct++
  let out: Float64Array
  if (nDistinct <= maxBins) {
    out = new Float64Array(Math.max(0, nDistinct - 1))
    let prev = values[0]!
    let k = 0
    for (let i = 1; i < n; i++) {
      const v = values[i]!
      if (v !== prev) {
        out[k++] = (prev + v) * 0.5
        prev = v
      }
    }
  } else {
    out = new Float64Array(maxBins - 1)
    const step = 100 / maxBins
    for (let i = 1; i < maxBins; i++) {
      // numpy: q = (i * step) / 100, virtual index = (floor((n-1)q) + ceil((n-1)q)) / 2, then _lerp
      const pos = (n - 1) * ((i * step) / 100)
      const lo = Math.floor(pos)
      const hi = Math.min(lo + 1, n - 1)
      const a = values[lo]!
      const b = values[hi]!
      out[i - 1] = pos === lo ? a : b - (b - a) * 0.5
    }
  }
  for (let i = 0; i < out.length; i++) if (out[i]! > ALMOST_INF) out[i] = ALMOST_INF
  return out
}

/**
 * Fits per-feature thresholds on the rows `rows` of `x`, from a seeded subsample of at most
 * `subsample` rows (scikit-learn subsamples 200,000 rows).
 */
export const fitBinThresholds = (
  x: Matrix,
  rows: Uint32Array,
  maxBins: number,
  subsample: number,
  seed: number
): Float64Array[] => {
  let sample = rows
  if (rows.length > subsample) {
    const idx = rows.slice()
    const r = rng(seed)
    // partial Fisher–Yates: the first `subsample` entries are a uniform sample without replacement
    for (let i = 0; i < subsample; i++) {
      const j = i + r.int(idx.length - i)
      const t = idx[i]!
      idx[i] = idx[j]!
      idx[j] = t
    }
    sample = idx.subarray(0, subsample)
  }
  const cols = x.cols
  const data = x.data
  const buf = new Float64Array(sample.length)
  const thresholds: Float64Array[] = []
  for (let f = 0; f < cols; f++) {
    let m = 0
    for (let k = 0; k < sample.length; k++) {
      const v = data[sample[k]! * cols + f]!
      if (v === v) buf[m++] = v
    }
    thresholds.push(findBinThresholds(buf.slice(0, m), maxBins))
  }
  return thresholds
}

/** Binned data, column-major (element (i, f) at f * rows + i); NaN maps to bin nBinsNonMissing[f]. */
export interface Binned {
  readonly rows: number
  readonly bins: Uint8Array
  /** Per feature: whether any row was NaN. */
  readonly hasMissing: Uint8Array
}

interface BinJob {
  readonly data: Float64Array
  readonly cols: number
  readonly rows: Uint32Array
  /** Every feature's thresholds, concatenated; feature f's are thr[thrStart[f] .. thrStart[f + 1]). */
  readonly thr: Float64Array
  readonly thrStart: Int32Array
  readonly bins: Uint8Array
  readonly hasMissing: Uint8Array
}

/** Bins one feature of every row into job.bins (self-contained: worker threads run it from source). */
const binFeature = (job: BinJob, f: number): number => {
  const { data, cols, rows, thr, bins } = job
  const n = rows.length
  const t0 = job.thrStart[f]!
  const nt = job.thrStart[f + 1]! - t0
  const missingBin = nt + 1
  const off = f * n
  let missing = 0
  for (let k = 0; k < n; k++) {
    const v = data[rows[k]! * cols + f]!
    if (v !== v) {
      bins[off + k] = missingBin
      missing = 1
    } else {
      let lo = 0
      let hi = nt
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (v <= thr[t0 + mid]!) hi = mid
        else lo = mid + 1
      }
      bins[off + k] = lo
    }
  }
  job.hasMissing[f] = missing
  return missing
}

/**
 * Bins the rows `rows` of `x`, one feature per task; with `threads` > 1 the features are shared out
 * to worker threads and the bins land on shared memory (ready for the tree grower's team).
 */
export const binRows = (x: Matrix, rows: Uint32Array, thresholds: ReadonlyArray<Float64Array>, threads = 1): Binned => {
  const n = rows.length
  const cols = x.cols
  const thrStart = new Int32Array(cols + 1)
  for (let f = 0; f < cols; f++) thrStart[f + 1] = thrStart[f]! + thresholds[f]!.length
  const thr = new Float64Array(thrStart[cols]!)
  for (let f = 0; f < cols; f++) thr.set(thresholds[f]!, thrStart[f]!)
  const parallel = threads > 1 && cols > 1
  const job: BinJob = {
    data: x.data,
    cols,
    rows,
    thr,
    thrStart,
    bins: parallel ? sharedArray(Uint8Array, n * cols) : new Uint8Array(n * cols),
    hasMissing: parallel ? sharedArray(Uint8Array, cols) : new Uint8Array(cols)
  }
  if (parallel) parallelMapSync(binFeature, job, cols, threads)
  else for (let f = 0; f < cols; f++) binFeature(job, f)
  return { rows: n, bins: job.bins, hasMissing: job.hasMissing }
}
