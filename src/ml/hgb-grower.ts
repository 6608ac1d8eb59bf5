import type { Binned } from "./hgb-binning.js"
import {
  hgbKernel,
  ARG_CLAIMS,
  ARG_CLAIMS_END,
  OP_ADD_LEAVES,
  OP_HISTOGRAM,
  OP_PARTITION,
  OP_VALIDATION,
  PIECE_ROWS,
  type HgbShared
} from "./hgb-kernel.js"
import { hgbArena, hgbWasmModule } from "./hgb-wasm.js"
import { sharedArray, TEAM_ARGS, toShared, type Team } from "./parallel.js"

/** Tree-growing settings (scikit-learn's TreeGrower arguments). */
export interface GrowerOptions {
  readonly maxLeafNodes: number | null
  readonly maxDepth: number | null
  readonly minSamplesLeaf: number
  readonly l2Regularization: number
  readonly minHessianToSplit: number
  readonly minGainToSplit: number
  readonly shrinkage: number
  /** Squared error: every hessian is 1, so sample counts stand in for hessian sums. */
  readonly hessiansAreConstant: boolean
}

/** Validation rows' bins, row-major (i * features + f), whose raw predictions the grower keeps up to date. */
export interface ValidationRows {
  readonly rows: number
  readonly bins: Uint8Array
}

/**
 * Losses whose next gradients the grower computes (one tree per iteration): the pass that adds a tree's
 * leaf values to the raw predictions (on the team, by pieces of rows) writes each row's gradient (and
 * hessian) from them, and each piece's loss (trainLoss).
 */
export type LeafPassGradients = { readonly loss: "squared_error" | "log_loss_binary"; readonly y: Float64Array }

/** A grown tree, nodes in pre-order (node, left subtree, right subtree) as scikit-learn's predictor arrays. */
export interface GrownTree {
  readonly nNodes: number
  /** -1 for leaves. */
  readonly feature: Int32Array
  /** Bin index: bin <= binThreshold goes left. */
  readonly binThreshold: Int32Array
  readonly missingLeft: Uint8Array
  readonly left: Int32Array
  readonly right: Int32Array
  /** Leaf values, shrinkage applied; 0 for split nodes. */
  readonly value: Float64Array
  readonly count: Int32Array
}

class GrowNode {
  hist = -1
  isLeaf = false
  left: GrowNode | null = null
  right: GrowNode | null = null
  gain = -1
  feature = 0
  bin = 0
  missingLeft = false
  sgL = 0
  shL = 0
  nL = 0
  constructor(
    readonly start: number,
    readonly stop: number,
    readonly depth: number,
    readonly sumG: number,
    readonly sumH: number,
    public value: number
  ) {}
}

/**
 * hp -= hs, bin by bin. A function of its own: V8 then optimises it whole after a few calls (inside
 * splitNext the loop ran on-stack-replaced code: 31 ms of a first fit of 82,560 rows against 16 ms).
 */
const subtractDense = (hp: Float64Array, hs: Float64Array): void => {
  for (let i = 0; i < hp.length; i++) hp[i] = hp[i]! - hs[i]!
}

/** heapq's order: a node with a larger gain is "smaller", i.e. popped first. */
const before = (a: GrowNode, b: GrowNode): boolean => a.gain > b.gain

/** Rows at which a node's histogram, or its partition, is worth waking the worker threads for. */
const PARALLEL_HISTOGRAM_ROWS = 8192
const PARALLEL_PARTITION_ROWS = 32768

/**
 * Leaf-wise (best-first) histogram tree grower, a port of scikit-learn's TreeGrower + Splitter +
 * HistogramBuilder. One instance serves every tree of a fit: the partition, gradients and histogram
 * pool are allocated once. With a team of worker threads (`threads` > 1) the large histograms and
 * partitions are shared out; the trees are the same whatever the thread count.
 */
export class HistGrower {
  private readonly n: number
  private readonly nFeatures: number
  private readonly bins: Uint8Array
  private readonly hasMissing: Uint8Array
  private readonly nBinsNonMissing: Int32Array
  /** Doubles per bin: gradient, hessian, count; or gradient, count when hessians are constant. */
  private readonly stride: number
  /** Offset of feature f's histogram, in doubles. */
  private readonly histOffset: Int32Array
  private readonly histLength: number
  private readonly part: Uint32Array
  /** Scratch for subtractSparse: a flag per histogram bin and the list of flagged bins. */
  private readonly binMark: Uint8Array
  private readonly touched: Int32Array
  private readonly pool: Float64Array[] = []
  private readonly freeSlots: number[] = []
  private readonly shared: HgbShared
  private readonly team: Team<HgbShared> | null
  private readonly pieceRows: number
  private readonly args: Int32Array
  /** Gradients, class-major (k * rows + i), for the caller to fill before each iteration. */
  readonly grad: Float32Array
  /** Hessians, class-major; null when constant. */
  readonly hess: Float32Array | null
  /** Raw predictions of the training rows, class-major; each grown tree adds its leaf values. */
  readonly raw: Float64Array
  private readonly nVal: number
  /** 0: the caller computes gradients; 1 / 2: the leaf pass does (squared error / binary log-loss). */
  private readonly leafPassLoss: number = 0
  /** Whether shared.rootCount holds the root's counts (after the first tree's root histogram). */
  private rootCountsKept = false
  /** Whether the last partition's team step also built the smaller child's histogram (into shared.hist). */
  private histogramInPartition = false
  /** The mean training loss the last leaf pass added up (null when it computed no gradients). */
  private meanLoss: number | null = null
  private heap: GrowNode[] = []
  private nodes: GrowNode[] = []
  private nFinalizedLeaves = 0

  constructor(
    binned: Binned,
    nBinsNonMissing: Int32Array,
    private readonly opts: GrowerOptions,
    treesPerIteration: number,
    /** A started team to share the data with (its owner closes it), or null for the calling thread alone. */
    team: Team<HgbShared> | null,
    /** Tests lower these to cover small data: the smallest node a team shares out, rows per piece. */
    private readonly sharing: {
      readonly minRows?: number | undefined
      readonly pieceRows?: number | undefined
      /** false: the loops run as JavaScript (tests compare the two) */
      readonly wasm?: boolean | undefined
    } = {},
    leafPassGradients?: LeafPassGradients,
    validation?: ValidationRows
  ) {
    this.n = binned.rows
    this.pieceRows = sharing.pieceRows ?? PIECE_ROWS
    if (!Number.isInteger(this.pieceRows) || this.pieceRows < 1) {
      throw new Error(`HistGrower: pieceRows must be a positive integer, got ${this.pieceRows}`)
    }
    this.nFeatures = nBinsNonMissing.length
    this.hasMissing = binned.hasMissing
    this.nBinsNonMissing = nBinsNonMissing
    this.stride = opts.hessiansAreConstant ? 2 : 3
    let total = 0
    for (let f = 0; f < this.nFeatures; f++) total += nBinsNonMissing[f]! + 1
    this.histLength = total * this.stride
    this.binMark = new Uint8Array(total)
    this.touched = new Int32Array(total)
    const useTeam = team !== null && team.threads > 1
    const n = this.n
    const K = treesPerIteration
    // leaves of one tree: at most max_leaf_nodes, and at most one per row
    const maxLeaves = Math.max(1, Math.min(n, opts.maxLeafNodes ?? n, opts.maxDepth === null ? n : 2 ** opts.maxDepth))
    const maxNodes = validation === undefined ? 1 : 2 * maxLeaves - 1
    const pieces = Math.max(1, Math.ceil(n / this.pieceRows))
    const layout = [
      ["dims", Int32Array, 4],
      ["bins", Uint8Array, binned.bins.length],
      ["part", Uint32Array, n],
      ["left", Uint32Array, useTeam ? n : 1],
      ["right", Uint32Array, n],
      ["grad", Float32Array, K * n],
      ["hess", Float32Array, opts.hessiansAreConstant ? 1 : K * n],
      ["histOffset", Int32Array, this.nFeatures],
      ["hist", Float64Array, this.histLength],
      ["counts", Int32Array, 2 * pieces],
      ["raw", Float64Array, K * n],
      ["leafStart", Int32Array, maxLeaves + 1],
      ["leafValue", Float64Array, maxLeaves],
      ["y", Float64Array, leafPassGradients === undefined ? 1 : n],
      ["pieceLoss", Float64Array, pieces],
      ["nBinsNonMissing", Int32Array, this.nFeatures],
      ["valBins", Uint8Array, validation === undefined ? 1 : validation.bins.length],
      ["rawVal", Float64Array, K * (validation?.rows ?? 0)],
      ["tree", Int32Array, 5 * maxNodes],
      ["treeValue", Float64Array, maxNodes],
      ["rootCount", Float64Array, total]
    ] as const
    type Arrays = Omit<HgbShared, "wasm" | "memory">
    // every array on one WebAssembly.Memory, for the compiled loops (hgb-wasm.ts); else plain arrays (on
    // shared memory for a team) and the loops in JavaScript
    const arena = sharing.wasm === false ? null : hgbArena(layout)
    let shared: HgbShared
    if (arena !== null) {
      const views = arena.views as unknown as Arrays
      views.bins.set(binned.bins)
      if (validation !== undefined) views.valBins.set(validation.bins)
      shared = { ...views, wasm: hgbWasmModule(), memory: arena.memory }
    } else {
      const arrays: Record<string, unknown> = {}
      for (const [key, Ctor, length] of layout) {
        // the binned rows are used as they are (on shared memory for a team)
        if (key === "bins" || (key === "valBins" && validation !== undefined)) continue
        arrays[key] = useTeam
          ? sharedArray(Ctor as never, length)
          : new (Ctor as new (length: number) => unknown)(length)
      }
      const plain = arrays as unknown as Arrays
      shared = {
        ...plain,
        bins: useTeam ? toShared(binned.bins) : binned.bins,
        valBins: validation === undefined ? plain.valBins : useTeam ? toShared(validation.bins) : validation.bins,
        wasm: null,
        memory: null
      }
    }
    shared.nBinsNonMissing.set(nBinsNonMissing)
    this.nVal = validation?.rows ?? 0
    if (leafPassGradients !== undefined) {
      if (K !== 1) throw new Error("HistGrower: gradients in the leaf pass need one tree per iteration")
      shared.y.set(leafPassGradients.y)
      this.leafPassLoss = leafPassGradients.loss === "squared_error" ? 1 : 2
    }
    shared.dims[0] = n
    shared.dims[1] = this.nFeatures
    shared.dims[2] = this.stride
    shared.dims[3] = this.pieceRows
    let off = 0
    for (let f = 0; f < this.nFeatures; f++) {
      shared.histOffset[f] = off * this.stride
      off += nBinsNonMissing[f]! + 1
    }
    this.shared = shared
    this.bins = shared.bins
    this.part = shared.part
    this.histOffset = shared.histOffset
    this.grad = shared.grad
    this.raw = shared.raw
    this.hess = opts.hessiansAreConstant ? null : shared.hess
    this.team = useTeam ? team : null
    this.team?.share(shared)
    this.args = this.team === null ? new Int32Array(TEAM_ARGS) : this.team.args
  }

  /** Whether each grown tree's leaf pass also computes the next gradients (see LeafPassGradients). */
  get gradientsInLeafPass(): boolean {
    return this.leafPassLoss !== 0
  }

  /**
   * The mean training loss on the raw predictions after the last grown tree, when its leaf pass computed
   * the gradients (and the loss with them, piece by piece); null otherwise.
   */
  get trainLoss(): number | null {
    return this.meanLoss
  }

  /** Raw predictions of the validation rows, class-major; addValidation adds each tree's. */
  get rawVal(): Float64Array {
    return this.shared.rawVal
  }

  /** Adds a grown tree's predictions of the validation rows to rawVal[k * rows + i]. */
  addValidation(tree: GrownTree, k: number): void {
    const { tree: t, treeValue } = this.shared
    for (let j = 0; j < tree.nNodes; j++) {
      const q = 5 * j
      const leaf = tree.feature[j]! < 0
      // a leaf is its own child (feature 0, no missing-left): a walk that takes a few more steps stays on it
      t[q] = leaf ? 0 : tree.feature[j]!
      t[q + 1] = leaf ? 0 : tree.binThreshold[j]!
      t[q + 2] = leaf ? 0 : tree.missingLeft[j]!
      t[q + 3] = leaf ? j : tree.left[j]!
      t[q + 4] = leaf ? j : tree.right[j]!
      treeValue[j] = tree.value[j]!
    }
    const a = this.args
    a[0] = OP_VALIDATION
    a[1] = 0
    a[2] = this.nVal
    a[7] = k * this.nVal
    this.step(this.nVal, PARALLEL_PARTITION_ROWS)
  }

  /** Threads of the team (1 without one). */
  get threads(): number {
    return this.team === null ? 1 : this.team.threads
  }

  /** Worker steps run so far (0 without a team). */
  workerSteps(): number {
    return this.team === null ? 0 : this.team.workerSteps()
  }

  /** Runs the step described by `args` on the team when the node is large enough; returns the thread count used. */
  private step(rows: number, minRows: number): number {
    this.args.fill(0, ARG_CLAIMS, ARG_CLAIMS_END)
    if (this.team !== null && rows >= (this.sharing.minRows ?? minRows)) {
      this.team.run()
      return this.team.threads
    }
    hgbKernel(this.shared, this.args, 0, 1)
    return 1
  }

  /**
   * Grows tree k of an iteration on gradients grad[k * rows ..] (and hessians), then adds its leaf
   * values to raw[k * rows + i] for every training row i (and, with LeafPassGradients, writes the next
   * iteration's gradients from them).
   */
  grow(k: number): GrownTree {
    const n = this.n
    this.heap = []
    this.nodes = []
    this.nFinalizedLeaves = 0
    const gOff = k * n
    this.args[3] = gOff

    // the root's histogram first: its sums over feature 0's bins are the root's gradient and hessian sums
    // (each bin sums its rows in order, whatever the thread count), without a pass over every row
    const rootHist = this.acquire()
    const hr = this.pool[rootHist]!
    this.buildHistogram(0, n, hr, true)
    const S = this.stride
    const bins0 = this.nBinsNonMissing[0]! + 1
    let sumG = 0
    let sumH = 0
    for (let b = 0; b < bins0; b++) {
      sumG += hr[b * S]!
      sumH += hr[b * S + 1]!
    }
    const root = this.newNode(0, n, 0, sumG, sumH, 0)
    root.hist = rootHist
    if (n < 2 * this.opts.minSamplesLeaf || sumH < this.opts.minHessianToSplit) this.finalizeLeaf(root)
    else this.splitOrFinalize(root)
    while (this.heap.length > 0) this.splitNext()

    const shrinkage = this.opts.shrinkage
    const nodes = this.nodes
    const { leafStart, leafValue } = this.shared
    const leaves: GrowNode[] = []
    for (let j = 0; j < nodes.length; j++) {
      const node = nodes[j]!
      if (!node.isLeaf) continue
      node.value *= shrinkage
      leaves.push(node)
    }
    // in partition order: the leaves' row ranges tile [0, n)
    leaves.sort((p, q) => p.start - q.start)
    const nLeaves = leaves.length
    for (let j = 0; j < nLeaves; j++) {
      leafStart[j] = leaves[j]!.start
      leafValue[j] = leaves[j]!.value
    }
    leafStart[nLeaves] = n
    const a = this.args
    a[0] = OP_ADD_LEAVES
    a[1] = 0
    a[2] = n
    a[7] = gOff
    a[9] = nLeaves
    a[10] = this.leafPassLoss
    this.step(n, PARALLEL_PARTITION_ROWS)
    if (this.leafPassLoss !== 0) {
      const pieceLoss = this.shared.pieceLoss
      let loss = 0
      for (let c = 0; c < pieceLoss.length; c++) loss += pieceLoss[c]!
      this.meanLoss = loss / n
    } else this.meanLoss = null
    return this.emit(root)
  }

  /**
   * The histogram of part[start..stop) into `hist` (through the shared scratch histogram the kernel writes);
   * of rows start..stop - 1 themselves when `inOrder` (the root: part is not read).
   */
  private buildHistogram(start: number, stop: number, hist: Float64Array, inOrder = false): void {
    const a = this.args
    a[0] = OP_HISTOGRAM
    a[1] = start
    a[2] = stop
    a[8] = inOrder ? 1 : 0
    // the root holds every row: its counts, counted once, serve every later tree's root
    const root = inOrder && start === 0 && stop === this.n
    a[11] = root ? (this.rootCountsKept ? 2 : 1) : 0
    this.step(stop - start, PARALLEL_HISTOGRAM_ROWS)
    if (root) this.rootCountsKept = true
    hist.set(this.shared.hist)
  }

  private newNode(start: number, stop: number, depth: number, sumG: number, sumH: number, value: number): GrowNode {
    const node = new GrowNode(start, stop, depth, sumG, sumH, value)
    this.nodes.push(node)
    return node
  }

  private acquire(): number {
    const slot = this.freeSlots.pop()
    if (slot !== undefined) return slot
    this.pool.push(new Float64Array(this.histLength))
    return this.pool.length - 1
  }

  private release(node: GrowNode): void {
    if (node.hist >= 0) {
      this.freeSlots.push(node.hist)
      node.hist = -1
    }
  }

  private finalizeLeaf(node: GrowNode): void {
    node.isLeaf = true
    this.nFinalizedLeaves++
    this.release(node)
  }

  private splitOrFinalize(node: GrowNode): void {
    this.findSplit(node, this.pool[node.hist]!)
    if (node.gain <= 0) this.finalizeLeaf(node)
    else this.heapPush(node)
  }

  private splitNext(): void {
    const node = this.heapPop()
    const opts = this.opts
    const depth = node.depth + 1
    const nLeafNodes = this.nFinalizedLeaves + this.heap.length + 2
    // whether the children may split at all (below max_leaf_nodes and max_depth): then a team partition
    // builds the smaller child's histogram in the same step when a child has rows enough to split
    const childrenMaySplit =
      !(opts.maxLeafNodes !== null && nLeafNodes === opts.maxLeafNodes) &&
      !(opts.maxDepth !== null && depth === opts.maxDepth)
    const nLeft = this.partition(node, childrenMaySplit)
    const sgR = node.sumG - node.sgL
    const shR = node.sumH - node.shL
    const left = this.newNode(
      node.start,
      node.start + nLeft,
      depth,
      node.sgL,
      node.shL,
      this.nodeValue(node.sgL, node.shL)
    )
    const right = this.newNode(node.start + nLeft, node.stop, depth, sgR, shR, this.nodeValue(sgR, shR))
    node.left = left
    node.right = right
    const nL = left.stop - left.start
    const nR = right.stop - right.start
    // no NaN seen for this feature in training: at predict time NaN follows the larger child
    if (this.hasMissing[node.feature] === 0) node.missingLeft = nL > nR

    if (opts.maxLeafNodes !== null && nLeafNodes === opts.maxLeafNodes) {
      this.finalizeLeaf(left)
      this.finalizeLeaf(right)
      while (this.heap.length > 0) this.finalizeLeaf(this.heapPop())
      this.release(node)
      return
    }
    if (opts.maxDepth !== null && depth === opts.maxDepth) {
      this.finalizeLeaf(left)
      this.finalizeLeaf(right)
      this.release(node)
      return
    }
    if (nL < opts.minSamplesLeaf * 2) this.finalizeLeaf(left)
    if (nR < opts.minSamplesLeaf * 2) this.finalizeLeaf(right)

    if (!left.isLeaf || !right.isLeaf) {
      // histogram subtraction: build the smaller child, the larger one is parent − smaller (in place,
      // and only when the larger child may still split)
      const small = nL < nR ? left : right
      const large = small === left ? right : left
      small.hist = this.acquire()
      const hs = this.pool[small.hist]!
      if (this.histogramInPartition) hs.set(this.shared.hist)
      else this.buildHistogram(small.start, small.stop, hs)
      if (!large.isLeaf) {
        const hp = this.pool[node.hist]!
        if ((small.stop - small.start) * this.nFeatures * 2 < this.histLength) this.subtractSparse(small, hp, hs)
        else subtractDense(hp, hs)
        large.hist = node.hist
        node.hist = -1
      }
      if (!left.isLeaf) this.splitOrFinalize(left)
      if (!right.isLeaf) this.splitOrFinalize(right)
      if (left.isLeaf) this.release(left)
      if (right.isLeaf) this.release(right)
    }
    this.release(node)
  }

  /**
   * hp -= hs on the bins the small node's rows fall in, and only there: elsewhere hs is 0, so this
   * is the dense subtraction without the pass over thousands of empty bins.
   */
  private subtractSparse(small: GrowNode, hp: Float64Array, hs: Float64Array): void {
    const n = this.n
    const S = this.stride
    const bins = this.bins
    const part = this.part
    const mark = this.binMark
    const touched = this.touched
    let nt = 0
    for (let f = 0; f < this.nFeatures; f++) {
      const co = f * n
      const o = this.histOffset[f]! / S
      for (let k = small.start; k < small.stop; k++) {
        const gb = o + bins[co + part[k]!]!
        if (mark[gb] === 0) {
          mark[gb] = 1
          touched[nt++] = gb
        }
      }
    }
    for (let t = 0; t < nt; t++) {
      const gb = touched[t]!
      mark[gb] = 0
      const p = gb * S
      for (let q = p; q < p + S; q++) hp[q] = hp[q]! - hs[q]!
    }
  }

  private nodeValue(sumG: number, sumH: number): number {
    return -sumG / (sumH + this.opts.l2Regularization + 1e-15)
  }

  /**
   * Best split over all features (scikit-learn's Splitter.find_node_split): per feature a left-to-right
   * scan (NaN goes right) and, when the feature has NaN, a right-to-left scan (NaN goes left).
   */
  private findSplit(node: GrowNode, hist: Float64Array): void {
    const opts = this.opts
    const msl = opts.minSamplesLeaf
    const minH = opts.minHessianToSplit
    const minGain = opts.minGainToSplit
    const l2 = opts.l2Regularization
    const S = this.stride
    // the hessian sum sits at offset 1 in both layouts: with constant hessians it is the count
    const hIdx = 1
    const cIdx = S - 1
    const n = node.stop - node.start
    const sumG = node.sumG
    const sumH = node.sumH
    const lossCurrent = sumG * node.value
    let bestGain = -1
    let bestFeature = 0
    let bestBin = 0
    let bestMissingLeft = false
    let bestSgL = 0
    let bestShL = 0
    let bestNL = 0
    for (let f = 0; f < this.nFeatures; f++) {
      const nb = this.nBinsNonMissing[f]!
      const base = this.histOffset[f]!
      const hasMissing = this.hasMissing[f]!
      const end = nb - 1 + hasMissing
      let sgL = 0
      let shL = 0
      let nL = 0
      for (let b = 0; b < end; b++) {
        const p = base + b * S
        const c = hist[p + cIdx]!
        const hh = hist[p + hIdx]!
        const gg = hist[p]!
        nL += c
        const nR = n - nL
        shL += hh
        const shR = sumH - shL
        sgL += gg
        const sgR = sumG - sgL
        if (nL < msl) continue
        if (nR < msl) break
        if (shL < minH) continue
        if (shR < minH) break
        const vL = -sgL / (shL + l2 + 1e-15)
        const vR = -sgR / (shR + l2 + 1e-15)
        const gain = lossCurrent - sgL * vL - sgR * vR
        if (gain > bestGain && gain > minGain) {
          bestGain = gain
          bestFeature = f
          bestBin = b
          bestMissingLeft = false
          bestSgL = sgL
          bestShL = shL
          bestNL = nL
        }
      }
      if (hasMissing === 1) {
        let sgR = 0
        let shR = 0
        let nR = 0
        for (let b = nb - 2; b >= 0; b--) {
          const p = base + (b + 1) * S
          const c = hist[p + cIdx]!
          const hh = hist[p + hIdx]!
          const gg = hist[p]!
          nR += c
          const nL2 = n - nR
          shR += hh
          const shL2 = sumH - shR
          sgR += gg
          const sgL2 = sumG - sgR
          if (nR < msl) continue
          if (nL2 < msl) break
          if (shR < minH) continue
          if (shL2 < minH) break
          const vL = -sgL2 / (shL2 + l2 + 1e-15)
          const vR = -sgR / (shR + l2 + 1e-15)
          const gain = lossCurrent - sgL2 * vL - sgR * vR
          if (gain > bestGain && gain > minGain) {
            bestGain = gain
            bestFeature = f
            bestBin = b
            bestMissingLeft = true
            bestSgL = sgL2
            bestShL = shL2
            bestNL = nL2
          }
        }
      }
    }
    node.gain = bestGain
    node.feature = bestFeature
    node.bin = bestBin
    node.missingLeft = bestMissingLeft
    node.sgL = bestSgL
    node.shL = bestShL
    node.nL = bestNL
  }

  /** Stable partition of the node's rows: left rows first, both sides in their previous order. */
  private partition(node: GrowNode, childrenMaySplit: boolean): number {
    const missingBin = node.missingLeft ? this.nBinsNonMissing[node.feature]! : -1
    const a = this.args
    a[0] = OP_PARTITION
    a[1] = node.start
    a[2] = node.stop
    a[4] = node.feature
    a[5] = node.bin
    a[6] = missingBin
    // the root's rows are 0..n - 1 in order: part (the last tree's) is not read
    a[8] = node.depth === 0 ? 1 : 0
    a[13] = childrenMaySplit ? 1 : 0
    a[15] = 2 * this.opts.minSamplesLeaf
    const threads = this.step(node.stop - node.start, PARALLEL_PARTITION_ROWS)
    const { part, right, counts } = this.shared
    this.histogramInPartition = false
    if (threads === 1) {
      // left rows compacted in place, right rows after them
      const nl = counts[0]!
      part.set(right.subarray(node.start, node.start + counts[1]!), node.start + nl)
      return nl
    }
    // the team has moved every piece's rows into place in the same step (and perhaps built a histogram)
    let nl = 0
    const pieces = Math.ceil((node.stop - node.start) / this.pieceRows)
    for (let c = 0; c < pieces; c++) nl += counts[2 * c]!
    const nr = node.stop - node.start - nl
    this.histogramInPartition = childrenMaySplit && (nl >= a[15]! || nr >= a[15]!)
    return nl
  }

  private emit(root: GrowNode): GrownTree {
    const m = this.nodes.length
    const t = {
      nNodes: m,
      feature: new Int32Array(m),
      binThreshold: new Int32Array(m),
      missingLeft: new Uint8Array(m),
      left: new Int32Array(m),
      right: new Int32Array(m),
      value: new Float64Array(m),
      count: new Int32Array(m)
    }
    let next = 0
    const visit = (node: GrowNode): number => {
      const id = next++
      t.count[id] = node.stop - node.start
      if (node.isLeaf) {
        t.feature[id] = -1
        t.value[id] = node.value
        return id
      }
      t.feature[id] = node.feature
      t.binThreshold[id] = node.bin
      t.missingLeft[id] = node.missingLeft ? 1 : 0
      t.left[id] = visit(node.left!)
      t.right[id] = visit(node.right!)
      return id
    }
    visit(root)
    return t
  }

  private heapPush(node: GrowNode): void {
    const heap = this.heap
    heap.push(node)
    this.siftDown(0, heap.length - 1)
  }

  private heapPop(): GrowNode {
    const heap = this.heap
    const last = heap.pop()!
    if (heap.length === 0) return last
    const top = heap[0]!
    heap[0] = last
    this.siftUp(0)
    return top
  }

  // Python's heapq._siftdown / _siftup, so that ties between equal gains resolve as in scikit-learn
  private siftDown(startPos: number, pos: number): void {
    const heap = this.heap
    const item = heap[pos]!
    while (pos > startPos) {
      const parentPos = (pos - 1) >> 1
      const parent = heap[parentPos]!
      if (before(item, parent)) {
        heap[pos] = parent
        pos = parentPos
        continue
      }
      break
    }
    heap[pos] = item
  }

  private siftUp(pos: number): void {
    const heap = this.heap
    const endPos = heap.length
    const startPos = pos
    const item = heap[pos]!
    let child = 2 * pos + 1
    while (child < endPos) {
      const right = child + 1
      if (right < endPos && !before(heap[child]!, heap[right]!)) child = right
      heap[pos] = heap[child]!
      pos = child
      child = 2 * pos + 1
    }
    heap[pos] = item
    this.siftDown(startPos, pos)
  }
}
