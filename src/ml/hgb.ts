import { deriveSeed, rng } from "../domain/random.js"
import { fitAndBin } from "./hgb-binning.js"
import { HistGrower, type GrownTree } from "./hgb-grower.js"
import { baselinePrediction, expit, meanLoss, updateGradients, type HgbLossKind } from "./hgb-loss.js"
import type { ParamsInput, ParamsOf } from "../domain/training.js"
import { decodeParams, specOf, type FitOptions, type Learner, type Task } from "./learner.js"
import { LearnerInputError, type Matrix } from "./matrix.js"
import { hgbKernel, type HgbShared } from "./hgb-kernel.js"
import { hgbArena, hgbWasmModule } from "./hgb-wasm.js"
import type { WasmMemory, WasmModule } from "../domain/wasm.js"
import { coreCount, parallelMapSync, sharedArray, startTeam, warmMapWorkers, type Team } from "./parallel.js"

/**
 * Histogram gradient boosting, a port of scikit-learn 1.2's HistGradientBoostingClassifier
 * (binary log-loss; multiclass: one tree per class per iteration, softmax) and
 * HistGradientBoostingRegressor (squared error). Parameters, their defaults (scikit-learn's) and
 * constraints are declared once, in domain/training.ts.
 */
/** Given parameters: every field optional. */
export type HgbParams = ParamsInput<"hist_gradient_boosting">
/** Every parameter, defaults filled in: what a fitted model records. */
export type ResolvedHgbParams = ParamsOf<"hist_gradient_boosting">

/** One tree as flat arrays, nodes in pre-order; leaves have feature -1. */
export interface HgbTree {
  readonly feature: ReadonlyArray<number>
  /** Raw-value threshold: x <= threshold goes left. Number.MAX_VALUE marks a "NaN vs the rest" split. */
  readonly threshold: ReadonlyArray<number>
  /** 1 where NaN goes left. */
  readonly missingLeft: ReadonlyArray<number>
  readonly left: ReadonlyArray<number>
  readonly right: ReadonlyArray<number>
  /** Leaf values, learning rate applied; 0 for split nodes. */
  readonly value: ReadonlyArray<number>
  /** Training rows that reached the node. */
  readonly count: ReadonlyArray<number>
}

export interface HgbModel {
  readonly format: "driftgate.hgb/1"
  readonly task: Task
  readonly loss: HgbLossKind
  readonly nFeatures: number
  /** 0 for regression. */
  readonly nClasses: number
  readonly treesPerIteration: number
  readonly params: ResolvedHgbParams
  /** Raw prediction before any tree, one per tree of an iteration. */
  readonly baseline: ReadonlyArray<number>
  readonly nIter: number
  readonly earlyStopping: boolean
  /** Per feature, the increasing bin thresholds (bin i holds thresholds[i-1] < x <= thresholds[i]). */
  readonly binThresholds: ReadonlyArray<ReadonlyArray<number>>
  /** Negative mean loss before the first tree and after each iteration (only with early stopping). */
  readonly trainScore: ReadonlyArray<number>
  readonly validationScore: ReadonlyArray<number>
  /** nIter × treesPerIteration trees, iteration-major. */
  readonly trees: ReadonlyArray<HgbTree>
}

const KIND = "hist_gradient_boosting"
const MIN_HESSIAN_TO_SPLIT = 1e-3
const BINNING_SUBSAMPLE = 200_000
const NAN_SPLIT_THRESHOLD = Number.MAX_VALUE

const fail = (message: string, column?: number): never => {
  throw new LearnerInputError(`hist_gradient_boosting: ${message}`, column)
}

export const resolveHgbParams = (params: HgbParams): ResolvedHgbParams => decodeParams(KIND, params)

/** Seeded validation split; stratified (largest-remainder allocation per class) for classifiers. */
const validationSplit = (
  y: Float64Array,
  nVal: number,
  nClasses: number,
  stratify: boolean,
  seed: number
): { train: Uint32Array; val: Uint32Array } => {
  const n = y.length
  const r = rng(seed)
  const isVal = new Uint8Array(n)
  const shuffled = <A extends number[] | Uint32Array>(idx: A): A => {
    for (let i = idx.length - 1; i > 0; i--) {
      const j = r.int(i + 1)
      const t = idx[i]!
      idx[i] = idx[j]!
      idx[j] = t
    }
    return idx
  }
  if (!stratify) {
    const idx = new Uint32Array(n)
    for (let i = 0; i < n; i++) idx[i] = i
    shuffled(idx)
    for (let k = 0; k < nVal; k++) isVal[idx[k]!] = 1
  } else {
    const members: number[][] = Array.from({ length: nClasses }, () => [])
    for (let i = 0; i < n; i++) members[y[i]!]!.push(i)
    const take = members.map((m) => Math.floor((m.length * nVal) / n))
    let left = nVal - take.reduce((a, b) => a + b, 0)
    const order = members
      .map((m, k) => ({ k, rem: (m.length * nVal) / n - take[k]! }))
      .sort((a, b) => b.rem - a.rem || a.k - b.k)
    for (const { k } of order) {
      if (left === 0) break
      if (take[k]! < members[k]!.length) {
        take[k]!++
        left--
      }
    }
    for (let k = 0; k < nClasses; k++) {
      const idx = shuffled(members[k]!)
      for (let j = 0; j < take[k]!; j++) isVal[idx[j]!] = 1
    }
  }
  const train = new Uint32Array(n - nVal)
  const val = new Uint32Array(nVal)
  let a = 0
  let b = 0
  for (let i = 0; i < n; i++) {
    if (isVal[i]) val[b++] = i
    else train[a++] = i
  }
  return { train, val }
}

const shouldStop = (scores: ReadonlyArray<number>, nIterNoChange: number, tol: number): boolean => {
  const ref = nIterNoChange + 1
  if (scores.length < ref) return false
  const refScore = scores[scores.length - ref]! + tol
  for (let i = scores.length - ref + 1; i < scores.length; i++) if (scores[i]! > refScore) return false
  return true
}

/** Fit options plus the thread count (default: every core, for training sets of PARALLEL_MIN_ROWS rows or more). */
export interface HgbFitOptions extends FitOptions<HgbParams> {
  readonly threads?: number
  /** Smallest node (rows) whose histogram or partition is shared out; tests lower it to cover small data. */
  readonly parallelMinRows?: number
  /** Rows per piece of a shared-out step (hgb-kernel.ts's PIECE_ROWS); tests lower it to share small nodes out. */
  readonly pieceRows?: number
  /** Every shared step waits for every worker to join (tests: each step is then really shared). */
  readonly everyWorker?: boolean
  /** false: the kernel's loops run as JavaScript instead of WebAssembly (tests compare the two). */
  readonly wasm?: boolean
}

/**
 * Below this many training rows, worker threads cost more than they save: starting them, and a wake-up
 * per shared step on a machine whose idle cores sleep. Measured in a whole `driftgate run` on 82,560
 * training rows (bench/scale.ts 100k): the fit took 0.80–0.85 s on one thread, 1.16–1.21 s on two.
 */
const PARALLEL_MIN_ROWS = 262_144

let lastFit: { readonly threads: number; readonly workerSteps: number } | null = null
/** Threads used by the last fit and the steps its workers ran (for tests and benchmarks). */
export const lastHgbFit = () => lastFit

const fit = (x: Matrix, y: Float64Array, options: HgbFitOptions): HgbModel => {
  const threads = options.threads ?? (x.rows >= PARALLEL_MIN_ROWS ? coreCount() : 1)
  // started first: their workers boot (about 60 ms) while the data are checked and binned (the map
  // workers bin the rows, the team grows the trees)
  if (threads > 1) warmMapWorkers(threads - 1)
  const team =
    threads > 1 ? startTeam<HgbShared>(hgbKernel, threads, { everyWorker: options.everyWorker === true }) : null
  try {
    return fitWith(x, y, options, threads, team)
  } finally {
    team?.close()
  }
}

const fitWith = (
  x: Matrix,
  y: Float64Array,
  options: HgbFitOptions,
  threads: number,
  team: Team<HgbShared> | null
): HgbModel => {
  const p = resolveHgbParams(options.params)
  const { task, seed } = options
  const n = x.rows
  const nFeatures = x.cols
  // the columns when the matrix has them (binning reads values column by column; the row-major layout
  // is then never made)
  const columns = x.columns !== undefined && x.columns.length === nFeatures ? x.columns : undefined
  if (columns !== undefined) {
    columns.forEach((c, j) => {
      if (c.length !== n) fail(`column ${j} has ${c.length} values, expected ${n}`)
    })
  } else if (x.data.length !== n * nFeatures) fail(`matrix has ${x.data.length} values, expected ${n} × ${nFeatures}`)
  if (y.length !== n) fail(`x has ${n} rows but y has ${y.length} values`)
  if (n === 0) fail("no training rows")
  if (nFeatures === 0) fail("no features")
  const infinite = (j: number, i: number): never =>
    fail(
      `feature ${options.featureNames?.[j] ?? `#${j}`} has an infinite value at row ${i}; use NaN for missing values`,
      j
    )
  if (columns !== undefined) {
    // the first row holding one (the smaller column on a tie), as the row-major scan names it
    let row = n
    let col = -1
    columns.forEach((c, j) => {
      for (let i = 0; i < row; i++) {
        const v = c[i]!
        if (v === Infinity || v === -Infinity) {
          row = i
          col = j
          break
        }
      }
    })
    if (col >= 0) infinite(col, row)
  } else {
    const data = x.data
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!
      if (v === Infinity || v === -Infinity) infinite(i % nFeatures, Math.floor(i / nFeatures))
    }
  }

  let nClasses = 0
  let loss: HgbLossKind = "squared_error"
  if (task === "classification") {
    let maxClass = -1
    for (let i = 0; i < n; i++) {
      const v = y[i]!
      if (!Number.isInteger(v) || v < 0)
        fail(`classification target must hold class indices 0..k-1, got ${v} at row ${i}`)
      if (v > maxClass) maxClass = v
    }
    nClasses = options.nClasses ?? maxClass + 1
    if (maxClass >= nClasses) fail(`class index ${maxClass} is out of range for nClasses = ${nClasses}`)
    const present = new Set<number>()
    for (let i = 0; i < n; i++) present.add(y[i]!)
    if (present.size < 2) {
      fail(`classification needs at least two classes in the training data, got only class ${y[0]} (${n} rows)`)
    }
    loss = nClasses <= 2 ? "log_loss_binary" : "log_loss_multiclass"
  } else if (task === "regression") {
    for (let i = 0; i < n; i++)
      if (!Number.isFinite(y[i]!)) fail(`regression target has a non-finite value (${y[i]}) at row ${i}`)
  } else {
    fail(`unknown task ${String(task)}`)
  }
  const K = loss === "log_loss_multiclass" ? nClasses : 1

  const earlyStopping = p.early_stopping === "auto" ? n > 10_000 : p.early_stopping
  let trainRows: Uint32Array
  let valRows: Uint32Array | null = null
  if (earlyStopping && p.validation_fraction !== null) {
    const vf = p.validation_fraction
    const nVal = vf < 1 ? Math.ceil(vf * n) : vf
    if (nVal >= n) fail(`validation_fraction leaves no training rows (${nVal} of ${n} held out)`)
    const split = validationSplit(y, nVal, nClasses, task === "classification", deriveSeed(seed, 0))
    trainRows = split.train
    valRows = split.val
  } else {
    trainRows = new Uint32Array(n)
    for (let i = 0; i < n; i++) trainRows[i] = i
  }

  const binned = fitAndBin(
    columns !== undefined ? { columns } : { rows: n, cols: nFeatures, data: x.data },
    trainRows,
    valRows,
    p.max_bins,
    BINNING_SUBSAMPLE,
    deriveSeed(seed, 1),
    threads
  )
  const thresholds = binned.thresholds
  const nBinsNonMissing = Int32Array.from(thresholds, (t) => t.length + 1)
  const binnedTrain = binned.train
  const binnedVal = binned.valBins
  const nTrain = trainRows.length
  // plain loops: Float64Array.from with a mapping function calls it per row (measured: ~0.1 s at 800k rows)
  const gather = (rows: Uint32Array): Float64Array => {
    const out = new Float64Array(rows.length)
    for (let k = 0; k < rows.length; k++) out[k] = y[rows[k]!]!
    return out
  }
  const yTrain = gather(trainRows)
  const yVal = valRows === null ? null : gather(valRows)
  const nVal = valRows === null ? 0 : valRows.length

  const baseline = baselinePrediction(loss, yTrain, nClasses)

  const hessiansAreConstant = loss === "squared_error"
  const grower = new HistGrower(
    binnedTrain,
    nBinsNonMissing,
    {
      maxLeafNodes: p.max_leaf_nodes,
      maxDepth: p.max_depth,
      minSamplesLeaf: p.min_samples_leaf,
      l2Regularization: p.l2_regularization,
      minHessianToSplit: MIN_HESSIAN_TO_SPLIT,
      minGainToSplit: 0,
      shrinkage: p.learning_rate,
      hessiansAreConstant
    },
    K,
    team,
    { minRows: options.parallelMinRows, pieceRows: options.pieceRows, wasm: options.wasm },
    // one tree per iteration: its leaf pass (on the worker threads) computes the next gradients too
    loss === "log_loss_multiclass" ? undefined : { loss, y: yTrain },
    binnedVal === null ? undefined : { rows: nVal, bins: binnedVal }
  )
  const rawVal = grower.rawVal
  for (let k = 0; k < K; k++) rawVal.fill(baseline[k]!, k * nVal, (k + 1) * nVal)
  const grad = grower.grad
  const hess = grower.hess
  const raw = grower.raw
  for (let k = 0; k < K; k++) raw.fill(baseline[k]!, k * nTrain, (k + 1) * nTrain)

  const trainScore: number[] = []
  const validationScore: number[] = []
  const checkEarlyStopping = (): boolean => {
    // after a tree, the leaf pass has added it up (on the worker threads), when it computed the gradients
    const afterTree = trainScore.length > 0 ? grower.trainLoss : null
    trainScore.push(-(afterTree ?? meanLoss(loss, yTrain, raw, nClasses)))
    if (yVal !== null) {
      validationScore.push(-meanLoss(loss, yVal, rawVal, nClasses))
      return shouldStop(validationScore, p.n_iter_no_change, p.tol)
    }
    return shouldStop(trainScore, p.n_iter_no_change, p.tol)
  }
  if (earlyStopping) checkEarlyStopping()

  const trees: HgbTree[] = []
  let nIter = 0
  try {
    for (let iter = 0; iter < p.max_iter; iter++) {
      if (iter === 0 || !grower.gradientsInLeafPass) updateGradients(loss, yTrain, raw, grad, hess, nClasses)
      nIter++
      for (let k = 0; k < K; k++) {
        const tree = grower.grow(k)
        trees.push(toModelTree(tree, thresholds, nBinsNonMissing))
        if (binnedVal !== null) grower.addValidation(tree, k)
      }
      if (earlyStopping && checkEarlyStopping()) break
    }
  } finally {
    lastFit = { threads: grower.threads, workerSteps: grower.workerSteps() }
  }

  return {
    format: "driftgate.hgb/1",
    task,
    loss,
    nFeatures,
    nClasses,
    treesPerIteration: K,
    params: p,
    baseline: Array.from(baseline),
    nIter,
    earlyStopping,
    binThresholds: thresholds.map((t) => Array.from(t)),
    trainScore,
    validationScore,
    trees
  }
}

const toModelTree = (t: GrownTree, thresholds: ReadonlyArray<Float64Array>, nBinsNonMissing: Int32Array): HgbTree => {
  const m = t.nNodes
  const threshold = new Array<number>(m)
  for (let j = 0; j < m; j++) {
    const f = t.feature[j]!
    if (f < 0) threshold[j] = 0
    else {
      const b = t.binThreshold[j]!
      // splitting on the last non-missing bin separates NaN from everything else
      threshold[j] = b === nBinsNonMissing[f]! - 1 ? NAN_SPLIT_THRESHOLD : thresholds[f]![b]!
    }
  }
  return {
    feature: Array.from(t.feature),
    threshold,
    missingLeft: Array.from(t.missingLeft),
    left: Array.from(t.left),
    right: Array.from(t.right),
    value: Array.from(t.value),
    count: Array.from(t.count)
  }
}

const checkModel = (model: HgbModel, x: Matrix): void => {
  if (model.format !== "driftgate.hgb/1") fail(`unsupported model format ${String(model.format)}`)
  if (x.cols !== model.nFeatures) fail(`model was trained on ${model.nFeatures} features, x has ${x.cols}`)
}

/**
 * A model's trees as typed arrays, concatenated; child indices are absolute. A leaf points at itself
 * from both child slots (feature 0, threshold 0), so a walk that takes a few more steps stays on it.
 */
export interface CompiledHgb {
  /** First node of each tree. */
  readonly roots: Int32Array
  readonly feature: Int32Array
  /** +Infinity for a "NaN vs the rest" split, so every number goes left. */
  readonly threshold: Float64Array
  /** children[2j] / children[2j + 1]: left / right child of node j. */
  readonly children: Int32Array
  /** 1 where NaN goes left at node j (NaN fails `x <= threshold`, so it goes right unless this flips it). */
  readonly nanLeft: Int32Array
  readonly value: Float64Array
}

const compiledModels = new WeakMap<HgbModel, CompiledHgb>()

/** Compiles (once per model object: models are immutable data) the trees for prediction (exported for tests). */
export const compileHgb = (model: HgbModel): CompiledHgb => {
  const hit = compiledModels.get(model)
  if (hit !== undefined) return hit
  let total = 0
  for (const t of model.trees) total += t.feature.length
  const roots = new Int32Array(model.trees.length)
  const feature = new Int32Array(total)
  const threshold = new Float64Array(total)
  const children = new Int32Array(2 * total)
  const nanLeft = new Int32Array(total)
  const value = new Float64Array(total)
  let off = 0
  model.trees.forEach((tree, t) => {
    roots[t] = off
    for (let j = 0; j < tree.feature.length; j++) {
      const q = off + j
      value[q] = tree.value[j]!
      if (tree.feature[j]! < 0) {
        children[2 * q] = children[2 * q + 1] = q
        continue
      }
      const thr = tree.threshold[j]!
      feature[q] = tree.feature[j]!
      threshold[q] = thr === NAN_SPLIT_THRESHOLD ? Infinity : thr
      children[2 * q] = off + tree.left[j]!
      children[2 * q + 1] = off + tree.right[j]!
      nanLeft[q] = tree.missingLeft[j] === 1 ? 1 : 0
    }
    off += tree.feature.length
  })
  const compiled = { roots, feature, threshold, children, nanLeft, value }
  compiledModels.set(model, compiled)
  return compiled
}

/** One batch prediction: its rows, the compiled trees and the output (exported with predictBlock for tests). */
export interface PredictJob {
  readonly data: Float64Array
  readonly rows: number
  readonly cols: number
  readonly K: number
  readonly blockRows: number
  readonly baseline: Float64Array
  readonly roots: Int32Array
  readonly feature: Int32Array
  readonly threshold: Float64Array
  readonly children: Int32Array
  readonly nanLeft: Int32Array
  readonly value: Float64Array
  /** rows × K, row-major. */
  readonly out: Float64Array
  /**
   * hgb-wasm.ts's compiled loops and the memory that data, the tree arrays and out live on: the walk then
   * runs as WebAssembly (absent or null: as JavaScript).
   */
  readonly wasm?: WasmModule | null
  readonly memory?: WasmMemory | null
}

/**
 * Raw predictions of the rows of block b (self-contained: worker threads run it from source): tree by
 * tree over the block's rows, so each row sums its trees in model order whatever the blocks. Its two
 * loops are functions of their own, called per tree (each reads the job's arrays into locals): V8 then optimises
 * each whole after a few trees (a process's first batch otherwise runs a loop's on-stack-replaced code,
 * entered half-way with no feedback for the code after it: ≈ 50 % slower). Exported for tests only (which run
 * it from its source text, as a worker does).
 */
export const predictBlock = (job: PredictJob, b: number): number => {
  /**
   * Adds the tree's leaf values to rows lo..hi-1 (class k), four rows at once: the four walk in lock step
   * until all have reached their leaves (a leaf is its own child), four independent chains of loads
   * keeping the memory busy, each child picked without a branch (`+!(x <= threshold)` is 1 for NaN,
   * flipped to 0 where NaN goes left). Returns the first row it did not walk (fewer than four left).
   */
  const walkFour = (job: PredictJob, root: number, k: number, lo: number, hi: number): number => {
    const { data, cols, K, feature, threshold, children, nanLeft, value, out } = job
    let i = lo
    for (; i + 4 <= hi; i += 4) {
      const b0 = i * cols
      const b1 = b0 + cols
      const b2 = b1 + cols
      const b3 = b2 + cols
      let n0 = root
      let n1 = root
      let n2 = root
      let n3 = root
      while (children[2 * n0] !== n0 || children[2 * n1] !== n1 || children[2 * n2] !== n2 || children[2 * n3] !== n3) {
        const v0 = data[b0 + feature[n0]!]!
        const v1 = data[b1 + feature[n1]!]!
        const v2 = data[b2 + feature[n2]!]!
        const v3 = data[b3 + feature[n3]!]!
        n0 = children[2 * n0 + (+!(v0 <= threshold[n0]!) ^ (+(v0 !== v0) & nanLeft[n0]!))]!
        n1 = children[2 * n1 + (+!(v1 <= threshold[n1]!) ^ (+(v1 !== v1) & nanLeft[n1]!))]!
        n2 = children[2 * n2 + (+!(v2 <= threshold[n2]!) ^ (+(v2 !== v2) & nanLeft[n2]!))]!
        n3 = children[2 * n3 + (+!(v3 <= threshold[n3]!) ^ (+(v3 !== v3) & nanLeft[n3]!))]!
      }
      out[i * K + k] += value[n0]!
      out[(i + 1) * K + k] += value[n1]!
      out[(i + 2) * K + k] += value[n2]!
      out[(i + 3) * K + k] += value[n3]!
    }
    return i
  }
  /** The same for rows lo..hi-1 a row at a time. */
  const walkEach = (job: PredictJob, root: number, k: number, lo: number, hi: number): void => {
    const { data, cols, K, feature, threshold, children, nanLeft, value, out } = job
    for (let i = lo; i < hi; i++) {
      const rowBase = i * cols
      let node = root
      while (children[2 * node] !== node) {
        const v = data[rowBase + feature[node]!]!
        node = children[2 * node + (+!(v <= threshold[node]!) ^ (+(v !== v) & nanLeft[node]!))]!
      }
      out[i * K + k] += value[node]!
    }
  }
  const { K, roots, out } = job
  const lo = b * job.blockRows
  const hi = Math.min(job.rows, lo + job.blockRows)
  for (let i = lo; i < hi; i++) for (let k = 0; k < K; k++) out[i * K + k] = job.baseline[k]!
  // the compiled walk (hgb-wasm.ts's export 29, HGB_PREDICT), instantiated once per thread and memory, in the
  // same cache as hgbKernel's (written out in both: each must be self-contained, worker threads run it from source)
  let walk: ((...args: Array<number>) => number) | null = null
  if (job.wasm !== undefined && job.wasm !== null && job.memory !== undefined && job.memory !== null) {
    type Loop = (...args: Array<number>) => number
    const global = globalThis as unknown as {
      __driftgateHgbLoops?: WeakMap<object, ReadonlyArray<Loop>>
      readonly WebAssembly: {
        readonly Instance: new (module: WasmModule, imports: object) => { readonly exports: Record<string, Loop> }
      }
    }
    const cache = global.__driftgateHgbLoops ?? (global.__driftgateHgbLoops = new WeakMap())
    let loops = cache.get(job.memory)
    if (loops === undefined) {
      const e = new global.WebAssembly.Instance(job.wasm, { m: { memory: job.memory } }).exports
      const found: Array<Loop> = []
      for (let j = 0; e[`f${j}`] !== undefined; j++) found.push(e[`f${j}`]!)
      cache.set(job.memory, found)
      loops = found
    }
    walk = loops[29]!
  }
  for (let t = 0; t < roots.length; t++) {
    const k = t % K
    if (walk !== null)
      walk(
        job.data.byteOffset,
        job.feature.byteOffset,
        job.threshold.byteOffset,
        job.children.byteOffset,
        job.nanLeft.byteOffset,
        job.value.byteOffset,
        out.byteOffset,
        job.cols,
        K,
        k,
        roots[t]!,
        lo,
        hi
      )
    else walkEach(job, roots[t]!, k, walkFour(job, roots[t]!, k, lo, hi), hi)
  }
  return hi - lo
}

/**
 * Batches of this many rows or more are predicted on worker threads (default: every core). Below it a
 * process's first batch gains nothing: the 100k scale file's 20,640-row validation split through 100
 * trees took ≈ 75 ms either way when the workers must start first (≈ 65 ms on one thread, ≈ 40 ms on
 * two once they run; with the four-row walk ≈ 58 ms on one thread, 47 ms once optimised), and a second
 * thread's work slows the first on a 2-core VM. One thread walks the batch in one block (sub-blocks of
 * 128 to 4,096 rows measured no faster with the four-row walk either).
 */
const PREDICT_PARALLEL_ROWS = 65_536
const PREDICT_BLOCK_ROWS = 4096

/**
 * Raw predictions (scikit-learn's decision_function / raw_predict), rows × treesPerIteration, row-major.
 * Large batches are shared out to `threads` worker threads (default: every core) by row blocks; the
 * result does not depend on the thread count.
 */
export const hgbRawPredict = (model: HgbModel, x: Matrix, threads?: number, wasm?: boolean): Float64Array => {
  checkModel(model, x)
  const n = x.rows
  const K = model.treesPerIteration
  const t = threads ?? (n >= PREDICT_PARALLEL_ROWS ? coreCount() : 1)
  const parallel = t > 1 && n > PREDICT_BLOCK_ROWS
  const base = {
    data: x.data,
    rows: n,
    cols: x.cols,
    K,
    blockRows: parallel ? PREDICT_BLOCK_ROWS : Math.max(1, n),
    baseline: Float64Array.from(model.baseline),
    ...compileHgb(model)
  }
  const onMemory = n >= PREDICT_WASM_ROWS && wasm !== false ? onArena(base) : null
  const job: PredictJob = onMemory ?? {
    ...base,
    out: parallel ? sharedArray(Float64Array, n * K) : new Float64Array(n * K)
  }
  if (!parallel) predictBlock(job, 0)
  else parallelMapSync(predictBlock, job, Math.ceil(n / PREDICT_BLOCK_ROWS), t)
  // the result on memory of its own (not the arena, which the next batch reuses, nor a shared buffer
  // longer than asked for)
  if (onMemory !== null) {
    batchesCompiled++
    return job.out.slice()
  }
  return job.out.length === n * K ? job.out : job.out.subarray(0, n * K)
}

let batchesCompiled = 0
/** Batches this thread has walked with the compiled loop (tests check it is really used). */
export const batchesWalkedCompiled = (): number => batchesCompiled

/**
 * The memory batches are copied onto: one per thread, grown to the largest batch and kept (a WebAssembly
 * memory reserves its address space with guard regions, ~10 GB of it on 64-bit, until it is collected: one
 * per batch let a serving process's reservations pile up between collections).
 */
let predictMemory: WasmMemory | undefined

/**
 * Batches of at least this many rows are walked by the compiled loop (hgb-wasm.ts), on a memory holding
 * a copy of the rows and the trees; smaller ones (a served request's few rows) in JavaScript, without
 * the copies.
 */
const PREDICT_WASM_ROWS = 256

/** The job with its rows, trees and output on the batches' WebAssembly.Memory; null when none can be had. */
const onArena = (job: Omit<PredictJob, "out">): PredictJob | null => {
  const arena = hgbArena(
    [
      ["data", Float64Array, job.rows * job.cols],
      ["feature", Int32Array, job.feature.length],
      ["threshold", Float64Array, job.threshold.length],
      ["children", Int32Array, job.children.length],
      ["nanLeft", Int32Array, job.nanLeft.length],
      ["value", Float64Array, job.value.length],
      ["out", Float64Array, job.rows * job.K]
    ] as const,
    predictMemory
  )
  if (arena === null) return null
  predictMemory = arena.memory
  const v = arena.views as {
    data: Float64Array
    feature: Int32Array
    threshold: Float64Array
    children: Int32Array
    nanLeft: Int32Array
    value: Float64Array
    out: Float64Array
  }
  v.data.set(job.data.subarray(0, job.rows * job.cols))
  v.feature.set(job.feature)
  v.threshold.set(job.threshold)
  v.children.set(job.children)
  v.nanLeft.set(job.nanLeft)
  v.value.set(job.value)
  return { ...job, ...v, wasm: hgbWasmModule(), memory: arena.memory }
}

const predictProba = (model: HgbModel, x: Matrix): Float64Array => {
  if (model.task !== "classification") fail("predictProba needs a classification model")
  const raw = hgbRawPredict(model, x)
  const n = x.rows
  const C = model.nClasses
  const out = new Float64Array(n * C)
  if (model.loss === "log_loss_binary") {
    for (let i = 0; i < n; i++) {
      const p1 = expit(raw[i]!)
      out[i * C] = 1 - p1
      out[i * C + 1] = p1
    }
    return out
  }
  for (let i = 0; i < n; i++) {
    let max = raw[i * C]!
    for (let k = 1; k < C; k++) if (raw[i * C + k]! > max) max = raw[i * C + k]!
    let sum = 0
    for (let k = 0; k < C; k++) {
      const e = Math.exp(raw[i * C + k]! - max)
      out[i * C + k] = e
      sum += e
    }
    for (let k = 0; k < C; k++) out[i * C + k] = out[i * C + k]! / sum
  }
  return out
}

const predict = (model: HgbModel, x: Matrix): Float64Array => {
  if (model.task === "regression") return hgbRawPredict(model, x)
  const proba = predictProba(model, x)
  const C = model.nClasses
  const out = new Float64Array(x.rows)
  for (let i = 0; i < x.rows; i++) {
    let best = 0
    for (let k = 1; k < C; k++) if (proba[i * C + k]! > proba[i * C + best]!) best = k
    out[i] = best
  }
  return out
}

export const histGradientBoosting: Learner<HgbParams, HgbModel> = {
  ...specOf(KIND),
  format: "driftgate.hgb/1",
  fit,
  predict,
  predictProba
}
