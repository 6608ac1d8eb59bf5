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

/**
 * Trees concatenated into typed arrays; child indices are absolute. A leaf points at itself from both
 * child slots (feature 0, threshold 0), so a walk of a fixed number of steps ends on each row's leaf
 * without a test per level.
 */
export interface CompiledTrees {
  readonly roots: Int32Array
  /** Per tree: its depth, the steps of a fixed walk; -1 when its leaves lie at very different depths. */
  readonly steps: Int32Array
  readonly feature: Int32Array
  readonly threshold: Float64Array
  /** children[2 * node] left, children[2 * node + 1] right: the walk picks one without a branch. */
  readonly children: Int32Array
  readonly value: Float64Array
  readonly nOutputs: number
}

const compiledCache = new WeakMap<object, CompiledTrees>()

/**
 * The tree's depth when a fixed walk of that many steps costs at most half again the mean leaf depth (a
 * balanced tree, as depth-limited forests grow), else -1: a lopsided tree walks until its leaf.
 */
const fixedSteps = (t: TreeArrays): number => {
  const depth = new Int32Array(t.nodeCount)
  const stack = [0]
  let maxDepth = 0
  let leafDepths = 0
  let leaves = 0
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    const l = t.left[node]!
    if (l < 0) {
      maxDepth = Math.max(maxDepth, depth[node]!)
      leafDepths += depth[node]!
      leaves++
      continue
    }
    const r = t.right[node]!
    depth[l] = depth[r] = depth[node]! + 1
    stack.push(l, r)
  }
  return maxDepth <= 1.5 * (leafDepths / leaves) + 1 ? maxDepth : -1
}

/** Compiles (and caches per model object: models are immutable data) a list of trees. */
export const compileTrees = (key: object, trees: ReadonlyArray<TreeArrays>, nOutputs: number): CompiledTrees => {
  const hit = compiledCache.get(key)
  if (hit !== undefined) return hit
  let total = 0
  for (const t of trees) total += t.nodeCount
  const roots = new Int32Array(trees.length)
  const steps = new Int32Array(trees.length)
  const feature = new Int32Array(total),
    children = new Int32Array(2 * total)
  const threshold = new Float64Array(total),
    value = new Float64Array(total * nOutputs)
  let off = 0
  trees.forEach((t, k) => {
    roots[k] = off
    steps[k] = fixedSteps(t)
    for (let i = 0; i < t.nodeCount; i++) {
      const l = t.left[i]!,
        r = t.right[i]!
      const leaf = l < 0
      feature[off + i] = leaf ? 0 : t.feature[i]!
      threshold[off + i] = leaf ? 0 : t.threshold[i]!
      children[2 * (off + i)] = leaf ? off + i : l + off
      children[2 * (off + i) + 1] = leaf ? off + i : r + off
    }
    for (let i = 0; i < t.nodeCount * nOutputs; i++) value[off * nOutputs + i] = t.value[i]!
    off += t.nodeCount
  })
  const compiled = { roots, steps, feature, threshold, children, value, nOutputs }
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
  readonly steps: Int32Array
  readonly feature: Int32Array
  readonly threshold: Float64Array
  readonly children: Int32Array
  readonly value: Float64Array
  readonly nOutputs: number
  /** rows × nOutputs, row-major. */
  readonly out: Float64Array
}

/**
 * The leaf values of block b's rows summed over the trees (self-contained: worker threads run it from
 * source). Tree by tree over the block's rows, so each row adds its trees in model order whatever the
 * blocks. A balanced tree walks four rows at once for its depth in steps, with no test per level (four
 * independent chains of loads keep the memory busy; a row goes right when not x <= threshold, so NaN goes
 * right, and +(boolean) picks the child without a branch); a lopsided one walks each row to its leaf.
 */
const leafBlock = (job: LeafJob, b: number): number => {
  const { data, cols, roots, steps, feature, threshold, children, value, nOutputs, out } = job
  const lo = b * job.blockRows
  const hi = Math.min(job.rows, lo + job.blockRows)
  for (let t = 0; t < roots.length; t++) {
    const root = roots[t]!
    const d = steps[t]!
    let r = lo
    if (d >= 0) {
      for (; r + 4 <= hi; r += 4) {
        const b0 = r * cols
        const b1 = b0 + cols
        const b2 = b1 + cols
        const b3 = b2 + cols
        let n0 = root
        let n1 = root
        let n2 = root
        let n3 = root
        for (let s = 0; s < d; s++) {
          n0 = children[2 * n0 + +!(data[b0 + feature[n0]!]! <= threshold[n0]!)]!
          n1 = children[2 * n1 + +!(data[b1 + feature[n1]!]! <= threshold[n1]!)]!
          n2 = children[2 * n2 + +!(data[b2 + feature[n2]!]! <= threshold[n2]!)]!
          n3 = children[2 * n3 + +!(data[b3 + feature[n3]!]! <= threshold[n3]!)]!
        }
        if (nOutputs === 1) {
          out[r] += value[n0]!
          out[r + 1] += value[n1]!
          out[r + 2] += value[n2]!
          out[r + 3] += value[n3]!
        } else {
          for (let k = 0; k < nOutputs; k++) {
            out[r * nOutputs + k] += value[n0 * nOutputs + k]!
            out[(r + 1) * nOutputs + k] += value[n1 * nOutputs + k]!
            out[(r + 2) * nOutputs + k] += value[n2 * nOutputs + k]!
            out[(r + 3) * nOutputs + k] += value[n3 * nOutputs + k]!
          }
        }
      }
    }
    for (; r < hi; r++) {
      const base = r * cols
      let node = root
      while (children[2 * node] !== node)
        node = children[2 * node + +!(data[base + feature[node]!]! <= threshold[node]!)]!
      for (let k = 0; k < nOutputs; k++) out[r * nOutputs + k] += value[node * nOutputs + k]!
    }
  }
  return hi - lo
}

/**
 * Worker threads pay off past this many row × tree visits: 100,000 rows through a 10-tree depth-12 forest
 * take ≈ 60 ms on one thread; sharing the batch with the (kept, see parallel.ts) workers costs a few ms,
 * starting them the first time ≈ 50 ms.
 */
const PARALLEL_VISITS = 1_000_000
/**
 * Small blocks: a process's first batch runs leafBlock before V8 has optimised it, and each thread's first
 * blocks are slow; 1,024-row blocks let it be optimised within a few calls and let the threads share the
 * batch evenly meanwhile (first 100,000-row batch on two threads ≈ 70 ms with these, ≈ 100 ms with 4,096).
 */
const BLOCK_ROWS = 1024

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
    steps: c.steps,
    feature: c.feature,
    threshold: c.threshold,
    children: c.children,
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
