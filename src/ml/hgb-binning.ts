import { rng } from "../domain/random.js"
import type { Matrix } from "./matrix.js"
import { parallelMapSync, sharedArray } from "./parallel.js"

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
  readonly maxBins: number
  /** Rows the thresholds are fitted on (a subsample of the training rows). */
  readonly sample: Uint32Array
  readonly train: Uint32Array
  readonly val: Uint32Array
  /** Training rows' bins, column-major; validation rows' bins, row-major (val k, feature f at k * cols + f). */
  readonly trainBins: Uint8Array
  readonly valBins: Uint8Array
  /** Per feature: whether a training row was NaN. */
  readonly hasMissing: Uint8Array
}

/**
 * One feature (self-contained: worker threads run it from source). Its bin thresholds, as
 * scikit-learn's `_find_binning_thresholds`: midpoints between distinct values when there are at most
 * `maxBins` of them, otherwise numpy's "midpoint" percentiles at linspace(0, 100, maxBins + 1)[1:-1],
 * NaN ignored, clipped at 1e300 (scikit-learn's ALMOST_INF: +Infinity is kept for the "split on NaN"
 * case). Then the training and validation rows' bins: the first bin whose threshold is >= the value,
 * NaN to the bin after the last.
 */
const fitBinFeature = (job: BinJob, f: number): Float64Array => {
  const { data, cols, sample } = job
  const values = new Float64Array(sample.length)
  let m = 0
  for (let k = 0; k < sample.length; k++) {
    const v = data[sample[k]! * cols + f]!
    if (v === v) values[m++] = v
  }
  const sorted = values.subarray(0, m).sort()
  let nDistinct = 0
  for (let i = 0; i < m; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) nDistinct++
  const maxBins = job.maxBins
  let thr: Float64Array
  if (nDistinct <= maxBins) {
    thr = new Float64Array(Math.max(0, nDistinct - 1))
    let prev = sorted[0]!
    let k = 0
    for (let i = 1; i < m; i++) {
      const v = sorted[i]!
      if (v !== prev) {
        thr[k++] = (prev + v) * 0.5
        prev = v
      }
    }
  } else {
    thr = new Float64Array(maxBins - 1)
    const step = 100 / maxBins
    for (let i = 1; i < maxBins; i++) {
      // numpy: q = (i * step) / 100, virtual index = (floor((n-1)q) + ceil((n-1)q)) / 2, then _lerp
      const pos = (m - 1) * ((i * step) / 100)
      const lo = Math.floor(pos)
      const hi = Math.min(lo + 1, m - 1)
      const a = sorted[lo]!
      const b = sorted[hi]!
      thr[i - 1] = pos === lo ? a : b - (b - a) * 0.5
    }
  }
  for (let i = 0; i < thr.length; i++) if (thr[i]! > 1e300) thr[i] = 1e300
  const nt = thr.length
  const missingBin = nt + 1
  const binOf = (v: number): number => {
    if (v !== v) return missingBin
    let lo = 0
    let hi = nt
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (v <= thr[mid]!) hi = mid
      else lo = mid + 1
    }
    return lo
  }
  const train = job.train
  const n = train.length
  const off = f * n
  const trainBins = job.trainBins
  let missing = 0
  for (let k = 0; k < n; k++) {
    const b = binOf(data[train[k]! * cols + f]!)
    trainBins[off + k] = b
    if (b === missingBin) missing = 1
  }
  job.hasMissing[f] = missing
  const val = job.val
  const valBins = job.valBins
  for (let k = 0; k < val.length; k++) valBins[k * cols + f] = binOf(data[val[k]! * cols + f]!)
  return thr
}

/**
 * Fits per-feature bin thresholds on a seeded subsample of at most `subsample` training rows
 * (scikit-learn subsamples 200,000), then bins the training rows and the validation rows with them.
 * One feature per task; with `threads` > 1 the features are shared out to worker threads and the bins
 * land on shared memory (ready for the tree grower's team). The result does not depend on `threads`.
 */
export const fitAndBin = (
  x: Matrix,
  trainRows: Uint32Array,
  valRows: Uint32Array | null,
  maxBins: number,
  subsample: number,
  seed: number,
  threads = 1
): { thresholds: Float64Array[]; train: Binned; valBins: Uint8Array | null } => {
  let sample = trainRows
  if (trainRows.length > subsample) {
    const idx = trainRows.slice()
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
  const n = trainRows.length
  const nVal = valRows === null ? 0 : valRows.length
  const parallel = threads > 1 && cols > 1
  const job: BinJob = {
    data: x.data,
    cols,
    maxBins,
    sample,
    train: trainRows,
    val: valRows ?? new Uint32Array(0),
    trainBins: parallel ? sharedArray(Uint8Array, n * cols) : new Uint8Array(n * cols),
    valBins: parallel ? sharedArray(Uint8Array, nVal * cols) : new Uint8Array(nVal * cols),
    hasMissing: parallel ? sharedArray(Uint8Array, cols) : new Uint8Array(cols)
  }
  const thresholds = parallel
    ? parallelMapSync(fitBinFeature, job, cols, threads)
    : Array.from({ length: cols }, (_, f) => fitBinFeature(job, f))
  return {
    thresholds,
    train: { rows: n, bins: job.trainBins, hasMissing: job.hasMissing },
    valBins: valRows === null ? null : job.valBins
  }
}
