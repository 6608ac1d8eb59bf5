/**
 * The data-sized steps of histogram gradient boosting, written as one self-contained kernel so that
 * worker threads can run it from its source text (see parallel.ts's startTeam). The calling thread
 * runs the same function, alone or as thread 0 of a team, so results cannot depend on the thread
 * count: a histogram is split between threads by feature (each bin still sums its rows in order)
 * and a partition by row ranges whose outputs are concatenated in order.
 *
 * The kernel must not reference anything outside its body: no imports, no module constants.
 */
export interface HgbShared {
  /** [rows, features, doubles per histogram bin (2: gradient, count; 3: gradient, hessian, count)]. */
  readonly dims: Int32Array
  /** Binned features, column-major: bins[f * rows + i]. */
  readonly bins: Uint8Array
  /** Row indices, grouped by node. */
  readonly part: Uint32Array
  /** Partition scratch: the left and right rows of each thread's row range (alone, the left rows stay in part). */
  readonly left: Uint32Array
  readonly right: Uint32Array
  /** Gradients and hessians, class-major (k * rows + i); hess has length 1 when hessians are constant. */
  readonly grad: Float32Array
  readonly hess: Float32Array
  /** Offset of feature f's histogram in doubles. */
  readonly histOffset: Int32Array
  /** The histogram being built. */
  readonly hist: Float64Array
  /** Per thread: left and right row counts of the last partition. */
  readonly counts: Int32Array
  /** Raw predictions of the training rows, class-major. */
  readonly raw: Float64Array
  /** The leaves of the tree just grown, in partition order: leaf j holds part[leafStart[j] .. leafStart[j + 1]). */
  readonly leafStart: Int32Array
  readonly leafValue: Float64Array
  /** Training targets (for the gradients computed in the leaf pass). */
  readonly y: Float64Array
  /** Per feature: bins that are not the missing-value bin (the missing bin is this number). */
  readonly nBinsNonMissing: Int32Array
  /** Validation rows' bins, row-major (i * features + f), and their raw predictions, class-major. */
  readonly valBins: Uint8Array
  readonly rawVal: Float64Array
  /** The tree just grown, for the validation rows: per node feature (-1: leaf), bin threshold, missing-left, left, right. */
  readonly tree: Int32Array
  readonly treeValue: Float64Array
}

export const OP_HISTOGRAM = 1
export const OP_PARTITION = 2
export const OP_ADD_LEAVES = 3
export const OP_VALIDATION = 4
export const OP_GRADIENTS = 6

/**
 * args: [op, start, stop, gradient offset, feature, split bin, missing bin (-1: none goes left), raw offset].
 * OP_HISTOGRAM: histogram of part[start..stop) into hist, features shared out by thread.
 * OP_PARTITION: each thread splits its range [lo, hi) of part[start..stop): left rows to part[lo..] (alone)
 * or left[lo..] (in a team), right rows to right[lo..], both in their previous order; in a team, once
 * every thread has (args[12] counts them in), each copies its left and right rows to their place in
 * part[start..stop): all left rows in thread order, then all right rows.
 * OP_ADD_LEAVES: raw[raw offset + i] += the value of the leaf holding row i, positions of part shared out by
 * thread; args[9] leaves.
 * OP_GRADIENTS: for rows i in [start, stop), shared out by thread: the next iteration's gradient (and
 * hessian) of row i from its raw prediction, as hgb-loss.ts's updateGradients; args[10] 1 (squared
 * error) or 2 (binary log-loss); and part[i] = i (the next tree's root holds every row, in order).
 * OP_VALIDATION: rawVal[raw offset + i] += the tree's prediction of validation row i for i in [start, stop),
 * rows shared out by thread.
 */
export const hgbKernel = (s: HgbShared, args: Int32Array, thread: number, threads: number): void => {
  const op = args[0]!
  const start = args[1]!
  const stop = args[2]!
  const n = s.dims[0]!
  const nFeatures = s.dims[1]!
  const S = s.dims[2]!
  const bins = s.bins
  const part = s.part
  let hStart = start
  let hStop = stop
  if (op === 2) {
    const co = args[4]! * n
    const splitBin = args[5]!
    const missingBin = args[6]!
    const len = stop - start
    const lo = start + Math.floor((thread * len) / threads)
    const hi = start + Math.floor(((thread + 1) * len) / threads)
    const right = s.right
    // alone, left rows are compacted in place (position lo + nl <= k was already read); in a team they go
    // to scratch too, so that every thread can move its rows into place at once without overlapping moves
    const left = threads === 1 ? part : s.left
    let nl = 0
    let nr = 0
    // branch-free: both outputs are written, only one cursor moves (the split is unpredictable)
    for (let k = lo; k < hi; k++) {
      const i = part[k]!
      const b = bins[co + i]!
      // +(boolean): a flag without a branch (a ternary compiles to a jump, mispredicted half the time)
      const goLeft = +(b <= splitBin) | +(b === missingBin)
      left[lo + nl] = i
      right[lo + nr] = i
      nl += goLeft
      nr += 1 - goLeft
    }
    const counts = s.counts
    counts[2 * thread] = nl
    counts[2 * thread + 1] = nr
    if (threads === 1) return
    // in a team: wait for every thread's counts (args[12], zeroed by the caller, counts the arrivals;
    // the last one to arrive wakes the others), then move this thread's rows to their place in
    // part[start..stop): all left rows in thread order, then all right rows — one step, one wake-up
    if (Atomics.add(args, 12, 1) === threads - 1) Atomics.notify(args, 12)
    else {
      for (let spin = 0; spin < 2_000 && Atomics.load(args, 12) < threads; spin++);
      for (let v = Atomics.load(args, 12); v < threads; v = Atomics.load(args, 12)) Atomics.wait(args, 12, v)
    }
    let before = 0
    let beforeRight = 0
    let nLeft = 0
    for (let t = 0; t < threads; t++) {
      if (t < thread) {
        before += counts[2 * t]!
        beforeRight += counts[2 * t + 1]!
      }
      nLeft += counts[2 * t]!
    }
    part.set(left.subarray(lo, lo + nl), start + before)
    part.set(right.subarray(lo, lo + nr), start + nLeft + beforeRight)
    // args[13] = 1: the children may split; then, if one of them has rows enough (args[15]: twice
    // min_samples_leaf), the smaller child's histogram follows in this same step once every thread's rows
    // are in place (args[14] counts the threads in): the grower's next step, without its wake-up
    const nRight = stop - start - nLeft
    if (args[13] !== 1 || (nLeft < args[15]! && nRight < args[15]!)) return
    if (Atomics.add(args, 14, 1) === threads - 1) Atomics.notify(args, 14)
    else {
      for (let spin = 0; spin < 2_000 && Atomics.load(args, 14) < threads; spin++);
      for (let v = Atomics.load(args, 14); v < threads; v = Atomics.load(args, 14)) Atomics.wait(args, 14, v)
    }
    if (nLeft < nRight) hStop = start + nLeft
    else hStart = start + nLeft
  }
  if (op === 1 || op === 2) {
    const gOff = args[3]!
    const g = s.grad
    const h = s.hess
    const hist = s.hist
    const histOffset = s.histOffset
    const fLo = Math.floor((thread * nFeatures) / threads)
    const fHi = Math.floor(((thread + 1) * nFeatures) / threads)
    if (fLo === fHi) return
    hist.fill(0, histOffset[fLo]!, fHi < nFeatures ? histOffset[fHi]! : hist.length)
    // four features per pass: each row's index and gradient are loaded once per pass
    let f = fLo
    for (; f + 4 <= fHi; f += 4) {
      const c0 = f * n
      const c1 = c0 + n
      const c2 = c1 + n
      const c3 = c2 + n
      const o0 = histOffset[f]!
      const o1 = histOffset[f + 1]!
      const o2 = histOffset[f + 2]!
      const o3 = histOffset[f + 3]!
      if (S === 2) {
        for (let k = hStart; k < hStop; k++) {
          const i = part[k]!
          const gi = g[gOff + i]!
          const b0 = o0 + bins[c0 + i]! * 2
          const b1 = o1 + bins[c1 + i]! * 2
          const b2 = o2 + bins[c2 + i]! * 2
          const b3 = o3 + bins[c3 + i]! * 2
          hist[b0] += gi
          hist[b0 + 1] += 1
          hist[b1] += gi
          hist[b1 + 1] += 1
          hist[b2] += gi
          hist[b2 + 1] += 1
          hist[b3] += gi
          hist[b3 + 1] += 1
        }
      } else {
        for (let k = hStart; k < hStop; k++) {
          const i = part[k]!
          const gi = g[gOff + i]!
          const hi = h[gOff + i]!
          const b0 = o0 + bins[c0 + i]! * 3
          const b1 = o1 + bins[c1 + i]! * 3
          const b2 = o2 + bins[c2 + i]! * 3
          const b3 = o3 + bins[c3 + i]! * 3
          hist[b0] += gi
          hist[b0 + 1] += hi
          hist[b0 + 2] += 1
          hist[b1] += gi
          hist[b1 + 1] += hi
          hist[b1 + 2] += 1
          hist[b2] += gi
          hist[b2 + 1] += hi
          hist[b2 + 2] += 1
          hist[b3] += gi
          hist[b3 + 1] += hi
          hist[b3 + 2] += 1
        }
      }
    }
    for (; f < fHi; f++) {
      const co = f * n
      const o = histOffset[f]!
      if (S === 2) {
        for (let k = hStart; k < hStop; k++) {
          const i = part[k]!
          const b = o + bins[co + i]! * 2
          hist[b] += g[gOff + i]!
          hist[b + 1] += 1
        }
      } else {
        for (let k = hStart; k < hStop; k++) {
          const i = part[k]!
          const b = o + bins[co + i]! * 3
          hist[b] += g[gOff + i]!
          hist[b + 1] += h[gOff + i]!
          hist[b + 2] += 1
        }
      }
    }
    return
  }
  if (op === 3) {
    const len = stop - start
    const lo = start + Math.floor((thread * len) / threads)
    const hi = start + Math.floor(((thread + 1) * len) / threads)
    const rawOff = args[7]!
    const nLeaves = args[9]!
    const raw = s.raw
    const leafStart = s.leafStart
    const leafValue = s.leafValue
    // the leaves' rows are scattered over raw: only raw is touched here (one random access per row);
    // the gradients follow in a second, sequential pass over the rows (OP_GRADIENTS)
    for (let j = 0; j < nLeaves; j++) {
      const a = Math.max(lo, leafStart[j]!)
      const b = Math.min(hi, leafStart[j + 1]!)
      if (a >= b) continue
      const v = leafValue[j]!
      for (let q = a; q < b; q++) raw[rawOff + part[q]!] += v
    }
    return
  }
  if (op === 6) {
    // rows [start, stop) shared out by thread, in row order
    const len = stop - start
    const lo = start + Math.floor((thread * len) / threads)
    const hi = start + Math.floor(((thread + 1) * len) / threads)
    const gradients = args[10]!
    const raw = s.raw
    const g = s.grad
    const h = s.hess
    const y = s.y
    // the partition back to every row in order, ready for the next tree's root (the leaves pass, which
    // read it, is done)
    for (let i = lo; i < hi; i++) part[i] = i
    if (gradients === 1) {
      for (let i = lo; i < hi; i++) g[i] = raw[i]! - y[i]!
    } else {
      for (let i = lo; i < hi; i++) {
        const r = raw[i]!
        const yt = y[i]!
        if (r > 0) {
          const e = Math.exp(-r)
          const d = 1 + e
          g[i] = (1 - yt - yt * e) / d
          h[i] = e / (d * d)
        } else {
          const e = Math.exp(r)
          const d = 1 + e
          g[i] = ((1 - yt) * e - yt) / d
          h[i] = e / (d * d)
        }
      }
    }
    return
  }
  if (op === 4) {
    const len = stop - start
    const lo = start + Math.floor((thread * len) / threads)
    const hi = start + Math.floor(((thread + 1) * len) / threads)
    const rawOff = args[7]!
    const vb = s.valBins
    const rawVal = s.rawVal
    const t = s.tree
    const value = s.treeValue
    const nbnm = s.nBinsNonMissing
    for (let i = lo; i < hi; i++) {
      let node = 0
      let f = t[0]!
      const rowBase = i * nFeatures
      while (f >= 0) {
        const b = vb[rowBase + f]!
        const q = 5 * node
        // left child at q + 3, right at q + 4 (the missing bin is above every threshold). A jump here, not
        // +(boolean): a predicted jump lets the next node's loads start early; measured faster on this walk
        const goLeft = (b <= t[q + 1]! ? 1 : 0) | (b === nbnm[f]! ? t[q + 2]! : 0)
        node = t[q + 4 - goLeft]!
        f = t[5 * node]!
      }
      rawVal[rawOff + i] += value[node]!
    }
    return
  }
  throw new Error(`hgbKernel: unknown op ${op}`)
}
