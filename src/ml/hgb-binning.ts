import { rng } from "../domain/random.js"
import type { Matrix } from "./matrix.js"
import { sortFloat64 } from "../domain/sort.js"
import { parallelMapSync, sharedArray, toShared } from "./parallel.js"

/** Binned data, column-major (element (i, f) at f * rows + i); NaN maps to bin nBinsNonMissing[f]. */
export interface Binned {
  readonly rows: number
  readonly bins: Uint8Array
  /** Per feature: whether any row was NaN. */
  readonly hasMissing: Uint8Array
}

/**
 * One feature's bin thresholds from its sampled values, sorted and NaN-free, as scikit-learn's
 * `_find_binning_thresholds`: midpoints between distinct values when there are at most `maxBins` of
 * them, otherwise numpy's "midpoint" percentiles at linspace(0, 100, maxBins + 1)[1:-1], clipped at
 * 1e300 (scikit-learn's ALMOST_INF: +Infinity is kept for the "split on NaN" case).
 */
const thresholdsOfSorted = (sorted: Float64Array, maxBins: number): Float64Array => {
  const m = sorted.length
  let nDistinct = 0
  for (let i = 0; i < m; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) nDistinct++
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
  return thr
}

/**
 * Every feature's thresholds, fitted on the sampled rows. On the calling thread: with a radix sort and
 * one buffer for every feature's values this takes less than handing features to worker threads did
 * (their start-up, and a fresh buffer per feature, each page of which costs its first touch).
 */
const fitThresholds = (
  data: Float64Array | null,
  columns: ReadonlyArray<Float64Array> | null,
  cols: number,
  sample: Uint32Array,
  maxBins: number
): Float64Array[] => {
  const values = new Float64Array(sample.length)
  const out: Float64Array[] = []
  for (let f = 0; f < cols; f++) {
    let m = 0
    if (data !== null) {
      for (let k = 0; k < sample.length; k++) {
        const v = data[sample[k]! * cols + f]!
        if (v === v) values[m++] = v
      }
    } else {
      const column = columns![f]!
      for (let k = 0; k < sample.length; k++) {
        const v = column[sample[k]!]!
        if (v === v) values[m++] = v
      }
    }
    out.push(thresholdsOfSorted(sortFloat64(values.subarray(0, m)), maxBins))
  }
  return out
}

/** Thresholds per feature padded to this many with +Infinity (at most 255 bins: 254 thresholds). */
const PADDED = 256

interface BinJob {
  /** Row-major values (value of row i, feature f at data[i * cols + f]), or null with `columns`. */
  readonly data: Float64Array | null
  readonly columns: ReadonlyArray<Float64Array> | null
  readonly cols: number
  /** Feature f's thresholds at thresholds[f * 256 ..], padded with +Infinity. */
  readonly thresholds: Float64Array
  /** Per feature: its missing-value bin (thresholds + 1). */
  readonly missingBin: Int32Array
  readonly blockRows: number
  readonly train: Uint32Array
  readonly val: Uint32Array
  /** Training rows' bins, column-major; validation rows' bins, row-major (val k, feature f at k * cols + f). */
  readonly trainBins: Uint8Array
  readonly valBins: Uint8Array
  /** Per feature: set to 1 when a training row is NaN. */
  readonly hasMissing: Uint8Array
}

/**
 * The bins of block b of the training rows followed by the validation rows (self-contained: worker threads
 * run it from source): a row's values are read together (one pass over the matrix, not one per feature),
 * each value's bin is the number of thresholds below it, found in eight steps without a branch (a
 * ternary compiles to a jump, mispredicted half the time; +(boolean) does not), NaN to the missing bin
 * (and hasMissing[f] set for a training row).
 */
const binBlock = (job: BinJob, b: number): number => {
  const { data, columns, cols, thresholds: t, missingBin, train, val, trainBins, valBins, hasMissing } = job
  const n = train.length
  const lo = b * job.blockRows
  const hi = Math.min(n + val.length, lo + job.blockRows)
  for (let k = lo; k < hi; k++) {
    const isTrain = k < n
    const row = isTrain ? train[k]! : val[k - n]!
    const base = row * cols
    for (let f = 0; f < cols; f++) {
      const v = data !== null ? data[base + f]! : columns![f]![row]!
      const o = f * 256
      let c = 0
      c += +(t[o + c + 127]! < v) * 128
      c += +(t[o + c + 63]! < v) * 64
      c += +(t[o + c + 31]! < v) * 32
      c += +(t[o + c + 15]! < v) * 16
      c += +(t[o + c + 7]! < v) * 8
      c += +(t[o + c + 3]! < v) * 4
      c += +(t[o + c + 1]! < v) * 2
      c += +(t[o + c]! < v)
      if (v !== v) {
        c = missingBin[f]!
        if (isTrain) hasMissing[f] = 1
      }
      if (isTrain) trainBins[f * n + k] = c
      else valBins[(k - n) * cols + f] = c
    }
  }
  return hi - lo
}

/** Rows per binning task. */
const BIN_BLOCK_ROWS = 16_384

/**
 * Fits per-feature bin thresholds on a seeded subsample of at most `subsample` training rows
 * (scikit-learn subsamples 200,000), then bins the training rows and the validation rows with them: the
 * first bin whose threshold is >= the value, NaN to the bin after the last. Thresholds on the calling
 * thread, bins one block of rows per task; with `threads` > 1 the blocks are shared out to worker threads
 * and the bins land on shared memory (ready for the tree grower's team). The result does not depend on
 * `threads`.
 */
export const fitAndBin = (
  x: Matrix | { readonly columns: ReadonlyArray<Float64Array> },
  trainRows: Uint32Array,
  valRows: Uint32Array | null,
  maxBins: number,
  subsample: number,
  seed: number,
  threads = 1
): { thresholds: Float64Array[]; train: Binned; valBins: Uint8Array | null } => {
  if (maxBins > PADDED - 1) throw new Error(`fitAndBin: at most ${PADDED - 1} bins (got ${maxBins})`)
  let sample = trainRows
  if (trainRows.length > subsample) {
    // positions into trainRows: the draws depend only on the counts, so the sample is the same rows
    const idx = new Uint32Array(trainRows.length)
    for (let i = 0; i < idx.length; i++) idx[i] = i
    const r = rng(seed)
    // partial Fisher–Yates: the first `subsample` entries are a uniform sample without replacement
    for (let i = 0; i < subsample; i++) {
      const j = i + r.int(idx.length - i)
      const t = idx[i]!
      idx[i] = idx[j]!
      idx[j] = t
    }
    // in row order (the values are sorted anyway): the reads then walk each column forwards
    const taken = new Uint8Array(trainRows.length)
    for (let i = 0; i < subsample; i++) taken[idx[i]!] = 1
    sample = new Uint32Array(subsample)
    let m = 0
    for (let i = 0; i < trainRows.length; i++) if (taken[i] === 1) sample[m++] = trainRows[i]!
  }
  // the columns when there are (a Matrix may carry them too, and lay out its row-major data only if asked)
  const given = (x as { readonly columns?: ReadonlyArray<Float64Array> }).columns
  const cols = given !== undefined ? given.length : (x as Matrix).cols
  const n = trainRows.length
  const nVal = valRows === null ? 0 : valRows.length
  const parallel = threads > 1
  // one shared copy of the values serves both parallel passes (columns already shared are not copied)
  const data = given !== undefined ? null : parallel ? toShared((x as Matrix).data) : (x as Matrix).data
  const columns = given === undefined ? null : parallel ? given.map((c) => toShared(c)) : given
  const thresholds = fitThresholds(data, columns, cols, sample, maxBins)
  const padded = new Float64Array(cols * PADDED).fill(Number.POSITIVE_INFINITY)
  const missingBin = new Int32Array(cols)
  thresholds.forEach((thr, f) => {
    padded.set(thr, f * PADDED)
    missingBin[f] = thr.length + 1
  })
  const job: BinJob = {
    data,
    columns,
    cols,
    thresholds: padded,
    missingBin,
    blockRows: BIN_BLOCK_ROWS,
    train: trainRows,
    val: valRows ?? new Uint32Array(0),
    trainBins: parallel ? sharedArray(Uint8Array, n * cols) : new Uint8Array(n * cols),
    valBins: parallel ? sharedArray(Uint8Array, nVal * cols) : new Uint8Array(nVal * cols),
    hasMissing: parallel ? sharedArray(Uint8Array, cols) : new Uint8Array(cols)
  }
  const blocks = Math.ceil((n + nVal) / BIN_BLOCK_ROWS)
  if (parallel) parallelMapSync(binBlock, job, blocks, threads)
  else for (let b = 0; b < blocks; b++) binBlock(job, b)
  return {
    thresholds,
    train: { rows: n, bins: job.trainBins, hasMissing: job.hasMissing },
    valBins: valRows === null ? null : job.valBins
  }
}
