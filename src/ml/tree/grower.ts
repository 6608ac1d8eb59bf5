import type { TreeArrays } from "./predict.js"

/**
 * The CART grower (scikit-learn's _tree builder, depth-first, best splitter), apart from the learners
 * that use it (decisionTree.ts, forest.ts).
 *
 * Split search orders the node's samples per candidate feature (sorting small nodes, filtering a
 * once-presorted order for large ones) and scans the thresholds at midpoints between distinct
 * values, as scikit-learn does (thresholds are float64 here, float32 there). Nodes wait on an
 * explicit stack, never on the call stack, so depth is bounded by memory, not by the JS stack: a
 * tree with max_depth null on a million rows may be as deep as the data makes it. `growTree` is one
 * self-contained function over typed arrays so random forests can run it in worker threads from its
 * source text.
 */

/** Everything growTree needs; structured-cloneable so it can be sent to a worker thread. */
export interface GrowJob {
  /** Features, column-major n × p. */
  readonly x: Float64Array
  readonly n: number
  readonly p: number
  /** Class indices (classification) or targets (regression). */
  readonly y: Float64Array
  /** 0 for regression. */
  readonly nClasses: number
  /** 0 gini, 1 entropy, 2 squared error. */
  readonly criterion: number
  readonly maxDepth: number
  readonly minSamplesSplit: number
  readonly minSamplesLeaf: number
  readonly maxFeatures: number
  /** Draw `bootstrapSamples` rows with replacement (as per-row counts) before growing. */
  readonly bootstrap: boolean
  readonly bootstrapSamples: number
  /** Seed of tree i (rng(seed) of src/domain/random.ts). */
  readonly seeds: Float64Array
  /** Rows sorted by each feature (p × n, column-major argsort): large nodes scan it instead of sorting. */
  readonly order: Int32Array
  /** The values in that order: sortedX[f * n + q] = x[f * n + order[f * n + q]] (read in sequence by the scan). */
  readonly sortedX: Float64Array
}

export interface GrownTree {
  readonly nodeCount: number
  readonly feature: Int32Array
  readonly threshold: Float64Array
  readonly left: Int32Array
  readonly right: Int32Array
  readonly value: Float64Array
  /** Unnormalised impurity decrease per feature, divided by the root's weight. */
  readonly importance: Float64Array
}

/**
 * Grows tree `index` of `job`. Self-contained on purpose (no imports, no outer variables): forests
 * send its source text to worker threads. Its PRNG is a copy of rng() in src/domain/random.ts
 * (sfc32 seeded through splitmix32); tests/ml/tree.test.ts pins that the two streams are equal.
 */
export function growTree(job: GrowJob, index: number): GrownTree {
  const X = job.x,
    n = job.n,
    p = job.p,
    y = job.y,
    K = job.nClasses
  const isClf = K > 0
  const crit = job.criterion
  const maxDepth = job.maxDepth,
    minSplit = job.minSamplesSplit,
    minLeaf = job.minSamplesLeaf
  const maxF = job.maxFeatures
  const FEATURE_THRESHOLD = 1e-7
  const SCAN_FACTOR = 0.5 // measured: scanning beats sorting once m·log2(m) > n/2
  const EPS = 2.220446049250313e-16

  // --- PRNG: identical stream to rng(seed) of src/domain/random.ts
  const seed = job.seeds[index]!
  let smState = ((Math.floor(seed) >>> 0) ^ Math.floor(seed / 4294967296)) >>> 0
  const sm = (): number => {
    smState = (smState + 0x9e3779b9) >>> 0
    let z = smState
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  let ra = sm(),
    rb = sm(),
    rc = sm(),
    rd = sm()
  const u32 = (): number => {
    const t = (((ra + rb) >>> 0) + rd) >>> 0
    rd = (rd + 1) >>> 0
    ra = rb ^ (rb >>> 9)
    rb = (rc + (rc << 3)) >>> 0
    rc = (rc << 21) | (rc >>> 11)
    rc = (rc + t) >>> 0
    return t
  }
  for (let i = 0; i < 12; i++) u32()
  const randInt = (m: number): number => Math.floor((u32() / 4294967296) * m)

  // --- sample weights: bootstrap counts (like scikit-learn) instead of duplicated rows
  const w = new Float64Array(n)
  if (job.bootstrap) {
    for (let i = 0; i < job.bootstrapSamples; i++) w[randInt(n)] += 1
  } else {
    w.fill(1)
  }
  let m = 0
  for (let i = 0; i < n; i++) if (w[i] !== 0) m++
  const samples = new Int32Array(m)
  for (let i = 0, k = 0; i < n; i++) if (w[i] !== 0) samples[k++] = i
  const yi = new Int32Array(isClf ? n : 0)
  if (isClf) for (let i = 0; i < n; i++) yi[i] = y[i]!

  // --- buffers, sized once: a binary tree over m samples has at most 2m - 1 nodes
  const nOut = isClf ? K : 1
  const cap = Math.max(1, 2 * m - 1)
  const feat = new Int32Array(cap)
  const thr = new Float64Array(cap)
  const lft = new Int32Array(cap)
  const rgt = new Int32Array(cap)
  const val = new Float64Array(cap * nOut)
  const nodeW = new Float64Array(cap)
  const nodeImp = new Float64Array(cap)
  const Xf = new Float64Array(m)
  const order = job.order
  const sortedX = job.sortedX
  // 1 for the rows of the node being scanned (a byte per row: the scan's random reads stay in cache)
  const mark = new Uint8Array(n)
  const features = new Int32Array(p)
  for (let j = 0; j < p; j++) features[j] = j
  const tot = new Float64Array(nOut)
  const cl = new Float64Array(nOut)
  const cr = new Float64Array(nOut)
  const stCap = m + 2
  const stStart = new Int32Array(stCap),
    stEnd = new Int32Array(stCap),
    stDepth = new Int32Array(stCap)
  const stParent = new Int32Array(stCap),
    stIsLeft = new Uint8Array(stCap)

  const xlogx = (v: number): number => (v > 0 ? v * Math.log(v) : 0)

  // In-place sort of Xf[lo, hi) carrying samples along: 3-way quicksort (many ties in real data),
  // insertion sort for short ranges.
  const sortRange = (lo: number, hi: number): void => {
    const xf = Xf,
      sa = samples
    while (hi - lo > 16) {
      const mid = (lo + hi) >>> 1
      const a = xf[lo]!,
        b = xf[mid]!,
        c = xf[hi - 1]!
      const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b
      let lt = lo,
        i = lo,
        gt = hi
      while (i < gt) {
        const v = xf[i]!
        if (v < pivot) {
          const s = sa[i]!
          xf[i] = xf[lt]!
          sa[i] = sa[lt]!
          xf[lt] = v
          sa[lt] = s
          lt++
          i++
        } else if (v > pivot) {
          gt--
          const s = sa[i]!
          xf[i] = xf[gt]!
          sa[i] = sa[gt]!
          xf[gt] = v
          sa[gt] = s
        } else {
          i++
        }
      }
      if (lt - lo < hi - gt) {
        sortRange(lo, lt)
        lo = gt
      } else {
        sortRange(gt, hi)
        hi = lt
      }
    }
    for (let i = lo + 1; i < hi; i++) {
      const v = xf[i]!,
        s = sa[i]!
      let j = i - 1
      while (j >= lo && xf[j]! > v) {
        xf[j + 1] = xf[j]!
        sa[j + 1] = sa[j]!
        j--
      }
      xf[j + 1] = v
      sa[j + 1] = s
    }
  }

  let nodeCount = 0
  let sp: number
  stStart[0] = 0
  stEnd[0] = m
  stDepth[0] = 0
  stParent[0] = -1
  stIsLeft[0] = 0
  sp = 1

  while (sp > 0) {
    sp--
    const start = stStart[sp]!,
      end = stEnd[sp]!,
      depth = stDepth[sp]!,
      parent = stParent[sp]!
    const node = nodeCount++
    if (parent >= 0) {
      if (stIsLeft[sp] === 1) lft[parent] = node
      else rgt[parent] = node
    }

    // node statistics
    let W = 0,
      impurity: number,
      sqTot = 0,
      entTot = 0,
      sumTot = 0
    if (isClf) {
      tot.fill(0)
      for (let k = start; k < end; k++) {
        const s = samples[k]!
        const wt = w[s]!
        tot[yi[s]!] += wt
        W += wt
      }
      const vo = node * K
      for (let c = 0; c < K; c++) {
        const t = tot[c]!
        sqTot += t * t
        entTot += xlogx(t)
        val[vo + c] = t / W
      }
      if (crit === 0) {
        impurity = 1 - sqTot / (W * W)
      } else {
        let h = 0
        for (let c = 0; c < K; c++) {
          const q = tot[c]! / W
          if (q > 0) h -= q * Math.log2(q)
        }
        impurity = h
      }
    } else {
      for (let k = start; k < end; k++) {
        const s = samples[k]!
        const wt = w[s]!
        sumTot += wt * y[s]!
        W += wt
      }
      const mean = sumTot / W
      let ss = 0
      for (let k = start; k < end; k++) {
        const s = samples[k]!
        const d = y[s]! - mean
        ss += w[s]! * d * d
      }
      impurity = ss / W
      val[node] = mean
    }
    nodeW[node] = W
    nodeImp[node] = impurity

    const nNode = end - start
    let bestPos = end,
      bestFeat = -1,
      bestThr = 0
    if (!(depth >= maxDepth || nNode < minSplit || nNode < 2 * minLeaf || impurity <= EPS)) {
      // a large node collects its rows from the presorted order (O(n)) rather than sorting (O(m log m))
      const scan = nNode * Math.log2(nNode) > SCAN_FACTOR * n
      if (scan) for (let k = start; k < end; k++) mark[samples[k]!] = 1
      let bestProxy = -Infinity
      let fi = p,
        visited = 0,
        nonConstant = 0,
        lastSorted = -1
      // scikit-learn's rule: draw up to max_features features, but keep drawing until one is not constant
      while (fi > 0 && (visited < maxF || nonConstant === 0)) {
        visited++
        const j = randInt(fi)
        fi--
        const f = features[j]!
        features[j] = features[fi]!
        features[fi] = f
        const off = f * n
        if (scan) {
          for (let q = 0, k = start; q < n; q++) {
            const s = order[off + q]!
            if (mark[s] === 1) {
              samples[k] = s
              Xf[k] = sortedX[off + q]!
              k++
            }
          }
        } else {
          for (let k = start; k < end; k++) Xf[k] = X[off + samples[k]!]!
          sortRange(start, end)
        }
        lastSorted = f
        if (Xf[end - 1]! <= Xf[start]! + FEATURE_THRESHOLD) continue
        nonConstant++

        let wl = 0,
          wr = W
        if (isClf) {
          cl.fill(0)
          cr.set(tot)
          if (crit === 0) {
            let sqL = 0,
              sqR = sqTot
            for (let i = start; i < end - 1; i++) {
              const s = samples[i]!
              const wt = w[s]!
              const c = yi[s]!
              const a = cl[c]!,
                b = cr[c]!
              sqL += wt * (2 * a + wt)
              sqR += wt * (wt - 2 * b)
              cl[c] = a + wt
              cr[c] = b - wt
              wl += wt
              wr -= wt
              const xv = Xf[i]!,
                xn = Xf[i + 1]!
              if (xn <= xv + FEATURE_THRESHOLD) continue
              const pos = i + 1
              if (pos - start < minLeaf) continue
              if (end - pos < minLeaf) break
              const proxy = sqL / wl + sqR / wr
              if (proxy > bestProxy) {
                bestProxy = proxy
                bestPos = pos
                bestFeat = f
                let t = xv / 2 + xn / 2
                if (t === xn || t === Infinity || t === -Infinity) t = xv
                bestThr = t
              }
            }
          } else {
            let eL = 0,
              eR = entTot
            for (let i = start; i < end - 1; i++) {
              const s = samples[i]!
              const wt = w[s]!
              const c = yi[s]!
              const a = cl[c]!,
                b = cr[c]!
              eL += xlogx(a + wt) - xlogx(a)
              eR += xlogx(b - wt) - xlogx(b)
              cl[c] = a + wt
              cr[c] = b - wt
              wl += wt
              wr -= wt
              const xv = Xf[i]!,
                xn = Xf[i + 1]!
              if (xn <= xv + FEATURE_THRESHOLD) continue
              const pos = i + 1
              if (pos - start < minLeaf) continue
              if (end - pos < minLeaf) break
              // -(wl·H_l + wr·H_r) with natural logs: same ordering as scikit-learn's log2 proxy
              const proxy = eL - wl * Math.log(wl) + eR - wr * Math.log(wr)
              if (proxy > bestProxy) {
                bestProxy = proxy
                bestPos = pos
                bestFeat = f
                let t = xv / 2 + xn / 2
                if (t === xn || t === Infinity || t === -Infinity) t = xv
                bestThr = t
              }
            }
          }
        } else {
          let sL = 0,
            sR = sumTot
          for (let i = start; i < end - 1; i++) {
            const s = samples[i]!
            const wt = w[s]!
            const wy = wt * y[s]!
            sL += wy
            sR -= wy
            wl += wt
            wr -= wt
            const xv = Xf[i]!,
              xn = Xf[i + 1]!
            if (xn <= xv + FEATURE_THRESHOLD) continue
            const pos = i + 1
            if (pos - start < minLeaf) continue
            if (end - pos < minLeaf) break
            const proxy = (sL * sL) / wl + (sR * sR) / wr
            if (proxy > bestProxy) {
              bestProxy = proxy
              bestPos = pos
              bestFeat = f
              let t = xv / 2 + xn / 2
              if (t === xn || t === Infinity || t === -Infinity) t = xv
              bestThr = t
            }
          }
        }
      }
      if (scan) for (let k = start; k < end; k++) mark[samples[k]!] = 0
      if (bestPos < end && bestFeat !== lastSorted) {
        // samples are sorted by another feature: partition them around the chosen threshold
        const off = bestFeat * n
        let pp = start,
          pe = end
        while (pp < pe) {
          const s = samples[pp]!
          if (X[off + s]! <= bestThr) pp++
          else {
            pe--
            samples[pp] = samples[pe]!
            samples[pe] = s
          }
        }
        bestPos = pp
      }
    }

    if (bestPos >= end || bestPos <= start) {
      feat[node] = -1
      thr[node] = 0
      lft[node] = -1
      rgt[node] = -1
    } else {
      feat[node] = bestFeat
      thr[node] = bestThr
      // right pushed first so the left subtree is numbered first (depth-first, like scikit-learn)
      stStart[sp] = bestPos
      stEnd[sp] = end
      stDepth[sp] = depth + 1
      stParent[sp] = node
      stIsLeft[sp] = 0
      sp++
      stStart[sp] = start
      stEnd[sp] = bestPos
      stDepth[sp] = depth + 1
      stParent[sp] = node
      stIsLeft[sp] = 1
      sp++
    }
  }

  const importance = new Float64Array(p)
  for (let node = 0; node < nodeCount; node++) {
    const f = feat[node]!
    if (f < 0) continue
    const l = lft[node]!,
      r = rgt[node]!
    importance[f] += nodeW[node]! * nodeImp[node]! - nodeW[l]! * nodeImp[l]! - nodeW[r]! * nodeImp[r]!
  }
  const w0 = nodeW[0]!
  for (let j = 0; j < p; j++) importance[j] /= w0

  return {
    nodeCount,
    feature: feat.slice(0, nodeCount),
    threshold: thr.slice(0, nodeCount),
    left: lft.slice(0, nodeCount),
    right: rgt.slice(0, nodeCount),
    value: val.slice(0, nodeCount * nOut),
    importance
  }
}

/** The stored form of a grown tree (internal nodes keep no values). */
export const toTreeArrays = (t: GrownTree): TreeArrays => {
  const nOut = t.nodeCount === 0 ? 0 : t.value.length / t.nodeCount
  return {
    nodeCount: t.nodeCount,
    feature: Array.from(t.feature),
    threshold: Array.from(t.threshold),
    left: Array.from(t.left),
    right: Array.from(t.right),
    // Prediction reads leaves only: internal nodes store 0, which halves a forest's model.json.
    value: Array.from(t.value, (v, i) => (t.feature[Math.floor(i / nOut)]! >= 0 ? 0 : v))
  }
}
