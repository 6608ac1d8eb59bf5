/**
 * The data-sized steps of histogram gradient boosting, written as one self-contained kernel so that
 * worker threads can run it from its source text (see parallel.ts's startTeam). The calling thread
 * runs the same function, alone or as thread 0 of a team, so results cannot depend on the thread
 * count: in a team, threads claim fixed pieces of a step (an Atomics.add on a counter in args) — a
 * histogram's features four at a time (each bin still sums its rows in order), a partition's or a pass's
 * rows PIECE_ROWS at a time, a partition's outputs concatenated in piece order — whichever thread takes
 * them, and however many joined.
 *
 * The kernel must not reference anything outside its body: no imports, no module constants.
 *
 * The row loops — histograms, the partition, the leaf pass (leaf values added, squared error's gradients and
 * loss) and the validation walk — run as WebAssembly (hgb-wasm.ts) when the data live on a WebAssembly.Memory
 * (hgbArena): the same operations in the same order, compiled before the first row. Binary log-loss's
 * gradients stay JavaScript.
 */
import type { WasmMemory, WasmModule } from "../domain/wasm.js"

export interface HgbShared {
  /**
   * [rows, features, doubles per histogram bin (2: gradient, count; 3: gradient, hessian, count), rows per
   * piece (PIECE_ROWS)].
   */
  readonly dims: Int32Array
  /** Binned features, column-major: bins[f * rows + i]. */
  readonly bins: Uint8Array
  /** Row indices, grouped by node. */
  readonly part: Uint32Array
  /** Partition scratch: the left and right rows of each piece, at the piece's place (alone, the left rows stay in part). */
  readonly left: Uint32Array
  readonly right: Uint32Array
  /** Gradients and hessians, class-major (k * rows + i); hess has length 1 when hessians are constant. */
  readonly grad: Float32Array
  readonly hess: Float32Array
  /** Offset of feature f's histogram in doubles. */
  readonly histOffset: Int32Array
  /** The histogram being built. */
  readonly hist: Float64Array
  /** Per piece (alone: in [0], [1]): left and right row counts of the last partition. */
  readonly counts: Int32Array
  /** Raw predictions of the training rows, class-major. */
  readonly raw: Float64Array
  /** The leaves of the tree just grown, in partition order: leaf j holds part[leafStart[j] .. leafStart[j + 1]). */
  readonly leafStart: Int32Array
  readonly leafValue: Float64Array
  /** Per piece of OP_ADD_LEAVES with gradients: the sum of its rows' losses (the caller sums the pieces in order). */
  readonly pieceLoss: Float64Array
  /** Training targets (for the gradients computed in the leaf pass). */
  readonly y: Float64Array
  /** Per feature: bins that are not the missing-value bin (the missing bin is this number). */
  readonly nBinsNonMissing: Int32Array
  /** Validation rows' bins, row-major (i * features + f), and their raw predictions, class-major. */
  readonly valBins: Uint8Array
  readonly rawVal: Float64Array
  /**
   * The tree just grown, for the validation rows: per node feature, bin threshold, missing-left, left, right; a leaf
   * is its own child (feature 0, threshold 0, missing-left 0, left = right = its index).
   */
  readonly tree: Int32Array
  readonly treeValue: Float64Array
  /**
   * The root's count per histogram bin (feature f's bin b at histOffset[f] / stride + b): every tree's root
   * holds every training row, so its counts are those of the first tree's root.
   */
  readonly rootCount: Float64Array
  /**
   * hgb-wasm.ts's compiled loops and the memory every array above lives on, or both null (the loops then
   * run as JavaScript).
   */
  readonly wasm: WasmModule | null
  readonly memory: WasmMemory | null
}

/** A compiled loop of hgb-wasm.ts (byte addresses and counts in; the partition's left count out). */
type Loop = (...args: Array<number>) => number

/** Rows per piece of a team step (a partition's, a pass's): small enough to share out, large enough to amortise a claim. */
export const PIECE_ROWS = 16_384
/** Counters in args the caller zeroes before every step: pieces claimed and pieces done, per phase. */
export const ARG_CLAIMS = 16
export const ARG_CLAIMS_END = 22

export const OP_HISTOGRAM = 1
export const OP_PARTITION = 2
export const OP_ADD_LEAVES = 3
export const OP_VALIDATION = 4

/**
 * args: [op, start, stop, gradient offset, feature, split bin, missing bin (-1: none goes left), raw offset,
 * 1 when the rows are start..stop - 1 in order (the root: part is not read)].
 * OP_HISTOGRAM: histogram of part[start..stop) into hist, four features a piece. For the root's rows in order,
 * args[11] = 1 also keeps each bin's count in rootCount, args[11] = 2 takes the counts from there (the loop
 * then sums only the gradients, and hessians).
 * OP_PARTITION: splits part[start..stop), keeping each side's previous order. Alone: left rows compacted
 * in part, right rows to right[start..]. In a team: each piece's left rows to left[], right rows to
 * right[] at the piece's place; once every piece is done, each piece's rows are copied to their place in
 * part[start..stop) (all left rows in piece order, then all right rows). Then, if args[13] is 1 (the
 * children may split) and a child has args[15] rows or more (twice min_samples_leaf), the smaller
 * child's histogram in the same step, once every row is in place: the grower's next step, without its
 * wake-up.
 * OP_ADD_LEAVES: for rows i in [start, stop) (every row): raw[raw offset + i] += the value of the leaf
 * holding row i (args[9] leaves); then, if args[10] is 1 (squared error) or 2 (binary log-loss), the next
 * iteration's gradient (and hessian) of row i from its raw prediction, as hgb-loss.ts's updateGradients,
 * and each piece's summed loss to pieceLoss.
 * OP_VALIDATION: rawVal[raw offset + i] += the tree's prediction of validation row i for i in [start, stop).
 * args[16..21]: claim and done counters (zeroed by the caller); args[31]: set by a worker whose kernel
 * failed (parallel.ts's TEAM_ABORT), so that no thread waits for its pieces.
 */
export const hgbKernel = (s: HgbShared, args: Int32Array, thread: number, threads: number): void => {
  const op = args[0]!
  const start = args[1]!
  const stop = args[2]!
  const n = s.dims[0]!
  const nFeatures = s.dims[1]!
  const S = s.dims[2]!
  const P = s.dims[3]!
  const bins = s.bins
  const part = s.part
  const team = threads > 1
  // the compiled loops, instantiated once per thread and memory (exports f0, f1, … in hgb-wasm.ts's order)
  let loops: ReadonlyArray<Loop> | null = null
  if (s.wasm !== null && s.memory !== null) {
    const global = globalThis as unknown as {
      __driftgateHgbLoops?: WeakMap<object, ReadonlyArray<Loop>>
      readonly WebAssembly: {
        readonly Instance: new (module: WasmModule, imports: object) => { readonly exports: Record<string, Loop> }
      }
    }
    const cache = global.__driftgateHgbLoops ?? (global.__driftgateHgbLoops = new WeakMap())
    loops = cache.get(s.memory) ?? null
    if (loops === null) {
      const e = new global.WebAssembly.Instance(s.wasm, { m: { memory: s.memory } }).exports
      const found: Array<Loop> = []
      for (let j = 0; e[`f${j}`] !== undefined; j++) found.push(e[`f${j}`]!)
      cache.set(s.memory, found)
      loops = found
    }
  }
  // waits until args[index] reaches target: pieces another thread claimed, and is running
  const waitFor = (index: number, target: number): void => {
    for (let spin = 0; Atomics.load(args, index) < target; spin++) {
      if (Atomics.load(args, 31) !== 0) throw new Error("hgbKernel: a worker thread failed")
      if (spin >= 2_000) {
        const v = Atomics.load(args, index)
        if (v < target) Atomics.wait(args, index, v, 5)
      }
    }
  }
  // one piece done: the last one wakes a thread waiting for all
  const pieceDone = (index: number, pieces: number): void => {
    if (Atomics.add(args, index, 1) === pieces - 1) Atomics.notify(args, index)
  }
  // args[8] = 1: the rows are start..stop - 1 in order (the root), whatever part holds
  let inOrder = args[8] === 1
  let hStart = start
  let hStop = stop
  if (op === 2) {
    const co = args[4]! * n
    const splitBin = args[5]!
    const missingBin = args[6]!
    const right = s.right
    const counts = s.counts
    // positions [lo, hi) split: left rows to out[lo ..], right rows to right[lo ..], both in their order;
    // returns the left count. Branch-free: both outputs are written, only one cursor moves (the split is
    // unpredictable; +(boolean) is a flag without a branch, a ternary a jump mispredicted half the time). The
    // root's in-order rows have a loop of their own: a ternary per row choosing k or part[k] costs ~9 %.
    // Everything comes in as arguments (nothing captured): the loops read locals.
    const split = (
      src: Uint32Array,
      out: Uint32Array,
      rr: Uint32Array,
      b8: Uint8Array,
      co: number,
      splitBin: number,
      missingBin: number,
      lo: number,
      hi: number,
      ordered: boolean
    ): number => {
      let nl = 0
      let nr = 0
      if (ordered) {
        for (let i = lo; i < hi; i++) {
          const b = b8[co + i]!
          const goLeft = +(b <= splitBin) | +(b === missingBin)
          out[lo + nl] = i
          rr[lo + nr] = i
          nl += goLeft
          nr += 1 - goLeft
        }
      } else {
        for (let k = lo; k < hi; k++) {
          const i = src[k]!
          const b = b8[co + i]!
          const goLeft = +(b <= splitBin) | +(b === missingBin)
          out[lo + nl] = i
          rr[lo + nr] = i
          nl += goLeft
          nr += 1 - goLeft
        }
      }
      return nl
    }
    if (!team) {
      // alone: left rows compacted in place (position start + nl <= k was already read)
      const nl =
        loops !== null
          ? loops[inOrder ? 25 : 24]!(
              part.byteOffset,
              part.byteOffset,
              right.byteOffset,
              bins.byteOffset + co,
              splitBin,
              missingBin,
              start,
              stop
            )
          : split(part, part, right, bins, co, splitBin, missingBin, start, stop, inOrder)
      counts[0] = nl
      counts[1] = stop - start - nl
      return
    }
    const left = s.left
    const pieces = Math.ceil((stop - start) / P)
    for (let c = Atomics.add(args, 16, 1); c < pieces; c = Atomics.add(args, 16, 1)) {
      const lo = start + c * P
      const hi = Math.min(stop, lo + P)
      const nl =
        loops !== null
          ? loops[inOrder ? 25 : 24]!(
              part.byteOffset,
              left.byteOffset,
              right.byteOffset,
              bins.byteOffset + co,
              splitBin,
              missingBin,
              lo,
              hi
            )
          : split(part, left, right, bins, co, splitBin, missingBin, lo, hi, inOrder)
      const nr = hi - lo - nl
      counts[2 * c] = nl
      counts[2 * c + 1] = nr
      pieceDone(17, pieces)
    }
    waitFor(17, pieces)
    let nLeft = 0
    for (let c = 0; c < pieces; c++) nLeft += counts[2 * c]!
    // each claimed piece's rows to their place: the pieces before it, in order, give its offsets
    let before = 0
    let beforeLeft = 0
    let beforeRight = 0
    for (let c = Atomics.add(args, 18, 1); c < pieces; c = Atomics.add(args, 18, 1)) {
      for (; before < c; before++) {
        beforeLeft += counts[2 * before]!
        beforeRight += counts[2 * before + 1]!
      }
      const lo = start + c * P
      part.set(left.subarray(lo, lo + counts[2 * c]!), start + beforeLeft)
      part.set(right.subarray(lo, lo + counts[2 * c + 1]!), start + nLeft + beforeRight)
      pieceDone(19, pieces)
    }
    const nRight = stop - start - nLeft
    if (args[13] !== 1 || (nLeft < args[15]! && nRight < args[15]!)) return
    waitFor(19, pieces)
    // the child's rows are in part now
    inOrder = false
    if (nLeft < nRight) hStop = start + nLeft
    else hStart = start + nLeft
  }
  if (op === 1 || op === 2) {
    const gOff = args[3]!
    const g = s.grad
    const h = s.hess
    const hist = s.hist
    const histOffset = s.histOffset
    // four features a piece: each row's index and gradient are loaded once per piece
    const units = Math.ceil(nFeatures / 4)
    // the root's counts: 0 counted, 1 counted and kept, 2 from rootCount (not counted)
    const rootCounts = inOrder ? args[11]! : 0
    const cached = rootCounts === 2
    // features [fLo, fHi): counts kept in (1), or copied from (2), rootCount
    const keepCounts = (fLo: number, fHi: number): void => {
      const rootCount = s.rootCount
      const nbnm = s.nBinsNonMissing
      for (let f = fLo; f < fHi; f++) {
        const o = histOffset[f]!
        const c = o / S
        const last = o + S - 1
        for (let b = 0; b <= nbnm[f]!; b++) {
          if (cached) hist[last + b * S] = rootCount[c + b]!
          else rootCount[c + b] = hist[last + b * S]!
        }
      }
    }
    for (let u = Atomics.add(args, 20, 1); u < units; u = Atomics.add(args, 20, 1)) {
      const fLo = u * 4
      const fHi = Math.min(nFeatures, fLo + 4)
      hist.fill(0, histOffset[fLo]!, fHi < nFeatures ? histOffset[fHi]! : hist.length)
      if (loops !== null) {
        // hgb-wasm.ts's histogram loop for this stride, mode (0 part, 1 in order, 2 in order with the counts
        // cached) and number of features (hgbHistogramExport)
        const nf = fHi - fLo
        const loop = loops[(S - 2) * 12 + (cached ? 2 : inOrder ? 1 : 0) * 4 + nf - 1]!
        const c = bins.byteOffset + fLo * n
        const o = hist.byteOffset
        const gb = g.byteOffset + gOff * 4
        const hb = h.byteOffset + gOff * 4
        const p = part.byteOffset
        if (nf === 4)
          loop(
            p,
            hStart,
            hStop,
            gb,
            hb,
            c,
            c + n,
            c + 2 * n,
            c + 3 * n,
            o + histOffset[fLo]! * 8,
            o + histOffset[fLo + 1]! * 8,
            o + histOffset[fLo + 2]! * 8,
            o + histOffset[fLo + 3]! * 8
          )
        else if (nf === 3)
          loop(
            p,
            hStart,
            hStop,
            gb,
            hb,
            c,
            c + n,
            c + 2 * n,
            o + histOffset[fLo]! * 8,
            o + histOffset[fLo + 1]! * 8,
            o + histOffset[fLo + 2]! * 8
          )
        else if (nf === 2)
          loop(p, hStart, hStop, gb, hb, c, c + n, o + histOffset[fLo]! * 8, o + histOffset[fLo + 1]! * 8)
        else loop(p, hStart, hStop, gb, hb, c, o + histOffset[fLo]! * 8)
        if (rootCounts !== 0) keepCounts(fLo, fHi)
        continue
      }
      if (fHi - fLo === 4) {
        const f = fLo
        const c0 = f * n
        const c1 = c0 + n
        const c2 = c1 + n
        const c3 = c2 + n
        const o0 = histOffset[f]!
        const o1 = histOffset[f + 1]!
        const o2 = histOffset[f + 2]!
        const o3 = histOffset[f + 3]!
        if (S === 2 && cached) {
          // the root after the first tree: rows in order, gradients only
          for (let i = hStart; i < hStop; i++) {
            const gi = g[gOff + i]!
            hist[o0 + bins[c0 + i]! * 2] += gi
            hist[o1 + bins[c1 + i]! * 2] += gi
            hist[o2 + bins[c2 + i]! * 2] += gi
            hist[o3 + bins[c3 + i]! * 2] += gi
          }
        } else if (S === 3 && cached) {
          for (let i = hStart; i < hStop; i++) {
            const gi = g[gOff + i]!
            const hi = h[gOff + i]!
            const b0 = o0 + bins[c0 + i]! * 3
            const b1 = o1 + bins[c1 + i]! * 3
            const b2 = o2 + bins[c2 + i]! * 3
            const b3 = o3 + bins[c3 + i]! * 3
            hist[b0] += gi
            hist[b0 + 1] += hi
            hist[b1] += gi
            hist[b1 + 1] += hi
            hist[b2] += gi
            hist[b2 + 1] += hi
            hist[b3] += gi
            hist[b3 + 1] += hi
          }
        } else if (S === 2 && inOrder) {
          // the root: rows in order, no indirection
          for (let i = hStart; i < hStop; i++) {
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
        } else if (S === 2) {
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
        } else if (inOrder) {
          for (let i = hStart; i < hStop; i++) {
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
        if (rootCounts !== 0) keepCounts(fLo, fHi)
        continue
      }
      // the features left over (fewer than four), one at a time; the root's in-order rows with a loop of
      // their own (a ternary per row costs more than the loop)
      for (let f = fLo; f < fHi; f++) {
        const co = f * n
        const o = histOffset[f]!
        if (cached) {
          // the root after the first tree: gradients (and hessians) only
          if (S === 2) for (let i = hStart; i < hStop; i++) hist[o + bins[co + i]! * 2] += g[gOff + i]!
          else
            for (let i = hStart; i < hStop; i++) {
              const b = o + bins[co + i]! * 3
              hist[b] += g[gOff + i]!
              hist[b + 1] += h[gOff + i]!
            }
        } else if (S === 2 && inOrder) {
          for (let i = hStart; i < hStop; i++) {
            const b = o + bins[co + i]! * 2
            hist[b] += g[gOff + i]!
            hist[b + 1] += 1
          }
        } else if (S === 2) {
          for (let k = hStart; k < hStop; k++) {
            const i = part[k]!
            const b = o + bins[co + i]! * 2
            hist[b] += g[gOff + i]!
            hist[b + 1] += 1
          }
        } else if (inOrder) {
          for (let i = hStart; i < hStop; i++) {
            const b = o + bins[co + i]! * 3
            hist[b] += g[gOff + i]!
            hist[b + 1] += h[gOff + i]!
            hist[b + 2] += 1
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
      if (rootCounts !== 0) keepCounts(fLo, fHi)
    }
    return
  }
  const pieces = Math.ceil((stop - start) / P)
  if (op === 3) {
    const rawOff = args[7]!
    const nLeaves = args[9]!
    const gradients = args[10]!
    const raw = s.raw
    const leafStart = s.leafStart
    const leafValue = s.leafValue
    const g = s.grad
    const h = s.hess
    const y = s.y
    const pieceLoss = s.pieceLoss
    // pieces of rows (row indices [lo, hi)), so that a thread writes only its own rows of raw: every leaf's
    // rows are in increasing order in part (partitions are stable, the root's rows in order), so the
    // leaf's rows in [lo, hi) are one run of its positions, found by two binary searches
    const lowerBound = (rows: Uint32Array, from: number, to: number, row: number): number => {
      let l = from
      let r = to
      while (l < r) {
        const m = (l + r) >>> 1
        if (rows[m]! < row) l = m + 1
        else r = m
      }
      return l
    }
    // the next iteration's gradients of rows [lo, hi); returns the piece's loss as hgb-loss.ts's meanLoss adds
    // it up (for early stopping's training score). The caller stores it: a store after the loop, here, had no
    // type feedback when the loop was first optimised (on its first call) and deoptimised every later call.
    const gradientsOf = (lo: number, hi: number): number => {
      if (gradients === 1 && loops !== null) return loops[27]!(raw.byteOffset, y.byteOffset, g.byteOffset, lo, hi)
      let loss = 0
      if (gradients === 1) {
        for (let i = lo; i < hi; i++) {
          const d = raw[i]! - y[i]!
          g[i] = d
          loss += 0.5 * d * d
        }
      } else {
        for (let i = lo; i < hi; i++) {
          const r = raw[i]!
          const yt = y[i]!
          if (r > 0) {
            const e = Math.exp(-r)
            const d = 1 + e
            g[i] = (1 - yt - yt * e) / d
            h[i] = e / (d * d)
            loss += r <= 18 ? Math.log1p(Math.exp(r)) - yt * r : r <= 33.3 ? r + e - yt * r : r - yt * r
          } else {
            const e = Math.exp(r)
            const d = 1 + e
            g[i] = ((1 - yt) * e - yt) / d
            h[i] = e / (d * d)
            loss += r <= -37 ? e - yt * r : Math.log1p(e) - yt * r
          }
        }
      }
      return loss
    }
    if (nLeaves > 64) {
      // many leaves (max_leaf_nodes unbounded): a piece of rows would search every leaf; instead pieces of
      // positions add each leaf's value to its rows (each row once, so the order does not matter), then,
      // once every piece is done, pieces of rows compute the gradients
      for (let c = Atomics.add(args, 16, 1); c < pieces; c = Atomics.add(args, 16, 1)) {
        const lo = start + c * P
        const hi = Math.min(stop, lo + P)
        // the last leaf starting at or before lo
        let l = 0
        let r = nLeaves - 1
        while (l < r) {
          const m = (l + r + 1) >>> 1
          if (leafStart[m]! <= lo) l = m
          else r = m - 1
        }
        for (let j = l; j < nLeaves && leafStart[j]! < hi; j++) {
          const a = Math.max(lo, leafStart[j]!)
          const b = Math.min(hi, leafStart[j + 1]!)
          const v = leafValue[j]!
          if (loops !== null) loops[26]!(part.byteOffset, raw.byteOffset + rawOff * 8, a, b, v)
          else for (let q = a; q < b; q++) raw[rawOff + part[q]!] += v
        }
        pieceDone(17, pieces)
      }
      if (gradients === 0) return
      waitFor(17, pieces)
      for (let c = Atomics.add(args, 18, 1); c < pieces; c = Atomics.add(args, 18, 1)) {
        const lo = start + c * P
        pieceLoss[c] = gradientsOf(lo, Math.min(stop, lo + P))
      }
      return
    }
    for (let c = Atomics.add(args, 16, 1); c < pieces; c = Atomics.add(args, 16, 1)) {
      const lo = start + c * P
      const hi = Math.min(stop, lo + P)
      // a tree that is only its root: every row, and part (never partitioned) is not read
      if (nLeaves === 1) for (let i = lo; i < hi; i++) raw[rawOff + i] += leafValue[0]!
      for (let j = 0; j < nLeaves && nLeaves > 1; j++) {
        const a = lowerBound(part, leafStart[j]!, leafStart[j + 1]!, lo)
        const b = lowerBound(part, a, leafStart[j + 1]!, hi)
        const v = leafValue[j]!
        if (loops !== null) loops[26]!(part.byteOffset, raw.byteOffset + rawOff * 8, a, b, v)
        else for (let q = a; q < b; q++) raw[rawOff + part[q]!] += v
      }
      // the next iteration's gradients of these rows, while their raw predictions are in cache
      if (gradients !== 0) pieceLoss[c] = gradientsOf(lo, hi)
    }
    return
  }
  if (op === 4) {
    const rawOff = args[7]!
    // rows [lo, hi): four rows walk in lock step until all four are on their leaves (a leaf is its own child),
    // four independent chains of loads; the child without a branch: left when the bin is at most the
    // threshold, or is the missing-value bin (above every threshold) and missing values go left
    const walkFour = (s: HgbShared, rawOff: number, nFeatures: number, lo: number, hi: number): number => {
      const { valBins: vb, tree: t, nBinsNonMissing: nbnm, treeValue: value, rawVal } = s
      let i = lo
      for (; i + 4 <= hi; i += 4) {
        const r0 = i * nFeatures
        const r1 = r0 + nFeatures
        const r2 = r1 + nFeatures
        const r3 = r2 + nFeatures
        let n0 = 0
        let n1 = 0
        let n2 = 0
        let n3 = 0
        // node j: t[5j] feature, t[5j + 1] bin threshold, t[5j + 2] missing-left, t[5j + 3] / t[5j + 4] children
        while (t[5 * n0 + 3]! !== n0 || t[5 * n1 + 3]! !== n1 || t[5 * n2 + 3]! !== n2 || t[5 * n3 + 3]! !== n3) {
          const q0 = 5 * n0
          const q1 = 5 * n1
          const q2 = 5 * n2
          const q3 = 5 * n3
          const f0 = t[q0]!
          const f1 = t[q1]!
          const f2 = t[q2]!
          const f3 = t[q3]!
          const b0 = vb[r0 + f0]!
          const b1 = vb[r1 + f1]!
          const b2 = vb[r2 + f2]!
          const b3 = vb[r3 + f3]!
          n0 = t[q0 + 4 - (+(b0 <= t[q0 + 1]!) | (+(b0 === nbnm[f0]!) & t[q0 + 2]!))]!
          n1 = t[q1 + 4 - (+(b1 <= t[q1 + 1]!) | (+(b1 === nbnm[f1]!) & t[q1 + 2]!))]!
          n2 = t[q2 + 4 - (+(b2 <= t[q2 + 1]!) | (+(b2 === nbnm[f2]!) & t[q2 + 2]!))]!
          n3 = t[q3 + 4 - (+(b3 <= t[q3 + 1]!) | (+(b3 === nbnm[f3]!) & t[q3 + 2]!))]!
        }
        rawVal[rawOff + i] += value[n0]!
        rawVal[rawOff + i + 1] += value[n1]!
        rawVal[rawOff + i + 2] += value[n2]!
        rawVal[rawOff + i + 3] += value[n3]!
      }
      return i
    }
    // the same for rows [lo, hi) a row at a time
    const walkEach = (s: HgbShared, rawOff: number, nFeatures: number, lo: number, hi: number): void => {
      const { valBins: vb, tree: t, nBinsNonMissing: nbnm, treeValue: value, rawVal } = s
      for (let i = lo; i < hi; i++) {
        const rowBase = i * nFeatures
        let node = 0
        while (t[5 * node + 3]! !== node) {
          const q = 5 * node
          const f = t[q]!
          const b = vb[rowBase + f]!
          node = t[q + 4 - (+(b <= t[q + 1]!) | (+(b === nbnm[f]!) & t[q + 2]!))]!
        }
        rawVal[rawOff + i] += value[node]!
      }
    }
    for (let c = Atomics.add(args, 16, 1); c < pieces; c = Atomics.add(args, 16, 1)) {
      const lo = start + c * P
      const hi = Math.min(stop, lo + P)
      if (loops !== null)
        loops[28]!(
          s.valBins.byteOffset,
          s.tree.byteOffset,
          s.nBinsNonMissing.byteOffset,
          s.treeValue.byteOffset,
          s.rawVal.byteOffset + rawOff * 8,
          nFeatures,
          lo,
          hi
        )
      else walkEach(s, rawOff, nFeatures, walkFour(s, rawOff, nFeatures, lo, hi), hi)
    }
    return
  }
  throw new Error(`hgbKernel: unknown op ${op}`)
}
