import type { Matrix } from "../matrix.js"

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
export const sumLeafValues = (c: CompiledTrees, x: Matrix): Float64Array => {
  const { roots, feature, threshold, left, right, value, nOutputs } = c
  const rows = x.rows,
    cols = x.cols,
    data = x.data
  const out = new Float64Array(rows * nOutputs)
  for (let t = 0; t < roots.length; t++) {
    const root = roots[t]!
    for (let r = 0; r < rows; r++) {
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
  return out
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
