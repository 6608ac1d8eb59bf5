import type { Matrix } from "../matrix.js"
import { coreCount, parallelMapSync, sharedArray } from "../parallel.js"

/**
 * A fitted tree's stored layout and prediction over one or many trees (a forest), compiled once per
 * model into typed arrays.
 */

/**
 * A fitted tree as flat arrays (scikit-learn's tree_ layout). Node 0 is the root; a leaf has
 * feature -1 and left = right = -1; a row goes left when x[feature] <= threshold. `value` holds
 * nOutputs numbers per node: at leaves the class probabilities (classification) or the mean target
 * (regression); at internal nodes 0 (prediction never reads them).
 */
export interface TreeArrays {
  readonly nodeCount: number
  readonly feature: ReadonlyArray<number>
  readonly threshold: ReadonlyArray<number>
  readonly left: ReadonlyArray<number>
  readonly right: ReadonlyArray<number>
  readonly value: ReadonlyArray<number>
}

/** Trees concatenated into typed arrays; child indices are absolute. */
export interface CompiledTrees {
  readonly roots: Int32Array
  readonly feature: Int32Array
  readonly threshold: Float64Array
  readonly left: Int32Array
  readonly right: Int32Array
  readonly value: Float64Array
  readonly nOutputs: number
}

const compiledCache = new WeakMap<object, CompiledTrees>()

/** Compiles (and caches per model object: models are immutable data) a list of trees. */
export const compileTrees = (key: object, trees: ReadonlyArray<TreeArrays>, nOutputs: number): CompiledTrees => {
  const hit = compiledCache.get(key)
  if (hit !== undefined) return hit
  let total = 0
  for (const t of trees) total += t.nodeCount
  const roots = new Int32Array(trees.length)
  const feature = new Int32Array(total),
    left = new Int32Array(total),
    right = new Int32Array(total)
  const threshold = new Float64Array(total),
    value = new Float64Array(total * nOutputs)
  let off = 0
  trees.forEach((t, k) => {
    roots[k] = off
    for (let i = 0; i < t.nodeCount; i++) {
      feature[off + i] = t.feature[i]!
      threshold[off + i] = t.threshold[i]!
      const l = t.left[i]!,
        r = t.right[i]!
      left[off + i] = l < 0 ? -1 : l + off
      right[off + i] = r < 0 ? -1 : r + off
    }
    for (let i = 0; i < t.nodeCount * nOutputs; i++) value[off * nOutputs + i] = t.value[i]!
    off += t.nodeCount
  })
  const compiled = { roots, feature, threshold, left, right, value, nOutputs }
  compiledCache.set(key, compiled)
  return compiled
}

/** Sum over trees of the leaf values reached by each row (rows × nOutputs, row-major). */
interface LeafJob {
  readonly data: ArrayLike<number>
  readonly rows: number
  readonly cols: number
  readonly blockRows: number
  readonly roots: Int32Array
  readonly feature: Int32Array
  readonly threshold: Float64Array
  readonly left: Int32Array
  readonly right: Int32Array
  readonly value: Float64Array
  readonly nOutputs: number
  /** rows × nOutputs, row-major. */
  readonly out: Float64Array
}

/**
 * The leaf values of block b's rows summed over the trees (self-contained: worker threads run it from
 * source). Tree by tree over the block's rows, so each row adds its trees in model order whatever the blocks.
 */
const leafBlock = (job: LeafJob, b: number): number => {
  const { data, cols, roots, feature, threshold, left, right, value, nOutputs, out } = job
  const lo = b * job.blockRows
  const hi = Math.min(job.rows, lo + job.blockRows)
  for (let t = 0; t < roots.length; t++) {
    const root = roots[t]!
    for (let r = lo; r < hi; r++) {
      const base = r * cols
      let node = root
      let f = feature[node]!
      while (f >= 0) {
        node = data[base + f]! <= threshold[node]! ? left[node]! : right[node]!
        f = feature[node]!
      }
      const vo = node * nOutputs,
        oo = r * nOutputs
      for (let k = 0; k < nOutputs; k++) out[oo + k] += value[vo + k]!
    }
  }
  return hi - lo
}

/**
 * Worker threads pay off past this many row × tree visits: 100,000 rows through a 10-tree depth-12 forest
 * take ≈ 120 ms on one thread; sharing the batch with the (kept, see parallel.ts) workers costs a few ms,
 * starting them the first time ≈ 50 ms.
 */
const PARALLEL_VISITS = 1_000_000
const BLOCK_ROWS = 4096

/**
 * The leaf values summed over the trees, rows × nOutputs. Large jobs are shared out to `threads` worker
 * threads (default: every core past PARALLEL_VISITS) by row blocks; the result does not depend on the
 * thread count.
 */
export const sumLeafValues = (c: CompiledTrees, x: Matrix, threads?: number): Float64Array => {
  const rows = x.rows
  const t = threads ?? (rows * c.roots.length >= PARALLEL_VISITS ? coreCount() : 1)
  const parallel = t > 1 && rows > BLOCK_ROWS
  const job: LeafJob = {
    data: x.data,
    rows,
    cols: x.cols,
    blockRows: parallel ? BLOCK_ROWS : Math.max(1, rows),
    roots: c.roots,
    feature: c.feature,
    threshold: c.threshold,
    left: c.left,
    right: c.right,
    value: c.value,
    nOutputs: c.nOutputs,
    out: parallel ? sharedArray(Float64Array, rows * c.nOutputs) : new Float64Array(rows * c.nOutputs)
  }
  if (!parallel) {
    leafBlock(job, 0)
    return job.out
  }
  parallelMapSync(leafBlock, job, Math.ceil(rows / BLOCK_ROWS), t)
  return job.out.length === rows * c.nOutputs ? job.out : job.out.subarray(0, rows * c.nOutputs)
}

/** Index of the largest value in each row (first on ties, like numpy's argmax). */
export const argmaxRows = (proba: Float64Array, rows: number, k: number): Float64Array => {
  const out = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    let best = 0,
      bv = proba[r * k]!
    for (let c = 1; c < k; c++) {
      const v = proba[r * k + c]!
      if (v > bv) {
        bv = v
        best = c
      }
    }
    out[r] = best
  }
  return out
}

export const normaliseImportances = (imp: Float64Array): number[] => {
  let s = 0
  for (let j = 0; j < imp.length; j++) s += imp[j]!
  return Array.from(imp, (v) => (s > 0 ? v / s : 0))
}
