import { describe, expect, it } from "vitest"
import { rng } from "../../src/domain/random.js"
import { fitAndBin } from "../../src/ml/hgb-binning.js"
import { HistGrower, type GrowerOptions, type LeafPassGradients } from "../../src/ml/hgb-grower.js"
import { hgbKernel, type HgbShared } from "../../src/ml/hgb-kernel.js"
import { startTeam } from "../../src/ml/parallel.js"
import { meanLoss, updateGradients, type HgbLossKind } from "../../src/ml/hgb-loss.js"

// The grower's leaf pass computes the next gradients on the worker threads (squared error, binary
// log-loss); the reference is hgb-loss.ts's updateGradients, run on the raw predictions the pass left.

const rows = 3000
const cols = 5
const data = (() => {
  const r = rng(11)
  const x = new Float64Array(rows * cols)
  for (let i = 0; i < x.length; i++) x[i] = r.next() < 0.05 ? NaN : r.next() * 10 - 5
  return x
})()
const target = (loss: HgbLossKind): Float64Array =>
  Float64Array.from({ length: rows }, (_, i) => {
    const v = Math.sin(data[i * cols]! || 0) + 0.3 * (data[i * cols + 1]! || 0)
    return loss === "squared_error" ? v : v > 0 ? 1 : 0
  })

const grower = (
  loss: "squared_error" | "log_loss_binary",
  threads: number,
  opts: Partial<GrowerOptions> = {},
  wasm = true
) => {
  const all = Uint32Array.from({ length: rows }, (_, i) => i)
  const { thresholds, train } = fitAndBin({ rows, cols, data }, all, null, 255, 200_000, 3, threads)
  const y = target(loss)
  const pass: LeafPassGradients = { loss, y }
  // every worker joins every step, so that the pieces are really shared
  const team = threads > 1 ? startTeam<HgbShared>(hgbKernel, threads, { everyWorker: true }) : null
  const g = new HistGrower(
    train,
    Int32Array.from(thresholds, (t) => t.length + 1),
    {
      maxLeafNodes: 31,
      maxDepth: null,
      minSamplesLeaf: 20,
      l2Regularization: 0,
      minHessianToSplit: 1e-3,
      minGainToSplit: 0,
      shrinkage: 0.1,
      hessiansAreConstant: loss === "squared_error",
      ...opts
    },
    1,
    team,
    { minRows: 1, pieceRows: 64, wasm },
    pass
  )
  return { g, y, close: () => team?.close() }
}

describe("HistGrower: gradients computed in the leaf pass", () => {
  for (const loss of ["squared_error", "log_loss_binary"] as const) {
    for (const threads of [1, 2]) {
      it(`${loss}, ${threads} thread(s): equal updateGradients' on the raw predictions after each tree`, () => {
        const { g, y, close } = grower(loss, threads)
        try {
          expect(g.gradientsInLeafPass).toBe(true)
          g.raw.fill(loss === "squared_error" ? 0.5 : -0.2)
          updateGradients(loss, y, g.raw, g.grad, g.hess, 0)
          const grad = new Float32Array(rows)
          const hess = loss === "squared_error" ? null : new Float32Array(rows)
          for (let t = 0; t < 3; t++) {
            const tree = g.grow(0)
            expect(tree.nNodes).toBeGreaterThan(1)
            updateGradients(loss, y, g.raw, grad, hess, 0)
            expect(Array.from(g.grad)).toEqual(Array.from(grad))
            if (hess !== null) expect(Array.from(g.hess!)).toEqual(Array.from(hess))
            // and the training loss early stopping records, added up piece by piece: meanLoss's, to rounding
            const reference = meanLoss(loss, y, g.raw, 0)
            expect(Math.abs(g.trainLoss! - reference)).toBeLessThanOrEqual(1e-12 * Math.abs(reference))
          }
        } finally {
          close()
        }
      })
    }
  }

  it("with more than 64 leaves (max_leaf_nodes unbounded) the leaf pass goes by positions: the same raw predictions and gradients", () => {
    for (const loss of ["squared_error", "log_loss_binary"] as const) {
      const results = [1, 2].map((threads) => {
        const { g, y, close } = grower(loss, threads, { maxLeafNodes: null, minSamplesLeaf: 5 })
        const inner = g as unknown as { readonly bins: Uint8Array; readonly nBinsNonMissing: Int32Array }
        try {
          g.raw.fill(0.1)
          updateGradients(loss, y, g.raw, g.grad, g.hess, 0)
          const trees = []
          for (let t = 0; t < 2; t++) {
            const before = Float64Array.from(g.raw)
            const tree = g.grow(0)
            expect(tree.nNodes).toBeGreaterThan(2 * 64)
            trees.push(JSON.stringify(tree))
            // every row got its own leaf's value: the tree's walk from the bins says which
            for (let i = 0; i < rows; i++) {
              let node = 0
              for (let f = tree.feature[0]!; f >= 0; f = tree.feature[node]!) {
                const b = inner.bins[f * rows + i]!
                const left =
                  b === inner.nBinsNonMissing[f] ? tree.missingLeft[node] === 1 : b <= tree.binThreshold[node]!
                node = left ? tree.left[node]! : tree.right[node]!
              }
              expect(g.raw[i]).toBe(before[i]! + tree.value[node]!)
            }
            const grad = new Float32Array(rows)
            const hess = loss === "squared_error" ? null : new Float32Array(rows)
            updateGradients(loss, y, g.raw, grad, hess, 0)
            expect(Array.from(g.grad)).toEqual(Array.from(grad))
            const reference = meanLoss(loss, y, g.raw, 0)
            expect(Math.abs(g.trainLoss! - reference)).toBeLessThanOrEqual(1e-12 * Math.abs(reference))
          }
          return { trees, raw: Array.from(g.raw) }
        } finally {
          close()
        }
      })
      expect(results[1]).toEqual(results[0])
    }
  })

  it("histograms (the root's rows in order, first and later, a node's through the partition; 5 features: one pass of four, one alone; WebAssembly and JavaScript loops) equal a plain count", () => {
    for (const [loss, threads, wasm] of [
      ...(["squared_error", "log_loss_binary"] as const).flatMap((l) => [1, 2].map((t) => [l, t, true] as const)),
      ["squared_error", 1, false],
      ["log_loss_binary", 2, false]
    ] as const) {
      {
        const { g, close } = grower(loss, threads, {}, wasm)
        expect((g as unknown as { shared: { wasm: unknown } }).shared.wasm !== null).toBe(wasm)
        const inner = g as unknown as {
          readonly bins: Uint8Array
          readonly part: Uint32Array
          readonly histOffset: Int32Array
          readonly histLength: number
          buildHistogram(start: number, stop: number, hist: Float64Array, inOrder?: boolean): void
        }
        try {
          for (let i = 0; i < rows; i++) {
            g.grad[i] = Math.sin(i)
            if (g.hess !== null) g.hess[i] = 0.25 + 0.1 * Math.cos(i)
          }
          const S = loss === "squared_error" ? 2 : 3
          const plain = (positions: ArrayLike<number>): Float64Array => {
            const out = new Float64Array(inner.histLength)
            for (let k = 0; k < positions.length; k++) {
              const i = positions[k]!
              for (let f = 0; f < cols; f++) {
                const b = inner.histOffset[f]! + inner.bins[f * rows + i]! * S
                out[b] += g.grad[i]!
                if (S === 3) out[b + 1] += g.hess![i]!
                out[b + S - 1] += 1
              }
            }
            return out
          }
          const hist = new Float64Array(inner.histLength)
          inner.buildHistogram(0, rows, hist, true)
          expect(Array.from(hist)).toEqual(Array.from(plain(Array.from({ length: rows }, (_, i) => i))))
          // a node's rows through the partition: every third row, in decreasing order
          const picked = Array.from({ length: 1000 }, (_, k) => rows - 1 - 3 * k)
          inner.part.set(picked, 500)
          inner.buildHistogram(500, 1500, hist)
          expect(Array.from(hist)).toEqual(Array.from(plain(picked)))
          // a later root (new gradients): its counts come from the first root's, the sums are summed again
          for (let i = 0; i < rows; i++) {
            g.grad[i] = Math.cos(3 * i)
            if (g.hess !== null) g.hess[i] = 0.2 + 0.1 * Math.sin(i)
          }
          inner.buildHistogram(0, rows, hist, true)
          expect(Array.from(hist)).toEqual(Array.from(plain(Array.from({ length: rows }, (_, i) => i))))
        } finally {
          close()
        }
      }
    }
  })

  it("a tree's root takes its rows in order, whatever the last tree left in the partition", () => {
    for (const threads of [1, 2]) {
      const plain = grower("squared_error", threads)
      const scrambled = grower("squared_error", threads)
      try {
        for (const g of [plain.g, scrambled.g]) {
          g.raw.fill(0.5)
          updateGradients("squared_error", plain.y, g.raw, g.grad, null, 0)
        }
        const partOf = (g: HistGrower) => (g as unknown as { readonly part: Uint32Array }).part
        for (let t = 0; t < 3; t++) {
          // one in row order, the other in reverse row order
          partOf(plain.g).forEach((_, i, a) => (a[i] = i))
          partOf(scrambled.g).forEach((_, i, a) => (a[i] = rows - 1 - i))
          expect(JSON.stringify(scrambled.g.grow(0))).toBe(JSON.stringify(plain.g.grow(0)))
          expect(Array.from(scrambled.g.raw)).toEqual(Array.from(plain.g.raw))
        }
      } finally {
        plain.close()
        scrambled.close()
      }
    }
  })

  it("a tree that is only its root (value 0, as scikit-learn's) still updates every row's gradient", () => {
    for (const threads of [1, 2]) {
      // a fresh grower has never partitioned: the leaf pass must still reach every row (without the index array)
      const { g, y, close } = grower("squared_error", threads, { minSamplesLeaf: rows })
      try {
        for (let i = 0; i < rows; i++) g.raw[i] = i * 0.001
        g.grad.fill(123)
        const tree = g.grow(0)
        expect(tree.nNodes).toBe(1)
        expect(tree.value[0]).toBe(0)
        expect(Array.from(g.raw)).toEqual(Array.from({ length: rows }, (_, i) => i * 0.001))
        const grad = new Float32Array(rows)
        updateGradients("squared_error", y, g.raw, grad, null, 0)
        expect(Array.from(g.grad)).toEqual(Array.from(grad))
      } finally {
        close()
      }
    }
  })
})

describe("HistGrower: validation rows", () => {
  // early stopping's validation pass (four rows in lock step, a row at a time for the rest) against a plain
  // walk of each grown tree on the validation rows' bins: NaN is the missing-value bin, above every threshold
  for (const threads of [1, 2]) {
    it(`${threads} thread(s): rawVal after each tree is the plain walk's sum, missing values going both ways`, () => {
      const trainRows = Uint32Array.from({ length: 2000 }, (_, i) => i)
      // pieces of 7 rows: four walked in lock step, three one at a time
      const valRows = Uint32Array.from({ length: 999 }, (_, i) => 2000 + i)
      const { thresholds, train, valBins } = fitAndBin(
        { rows, cols, data },
        trainRows,
        valRows,
        255,
        200_000,
        3,
        threads
      )
      const nBinsNonMissing = Int32Array.from(thresholds, (t) => t.length + 1)
      const y = target("squared_error").subarray(0, 2000)
      const team = threads > 1 ? startTeam<HgbShared>(hgbKernel, threads, { everyWorker: true }) : null
      try {
        const g = new HistGrower(
          train,
          nBinsNonMissing,
          {
            maxLeafNodes: 31,
            maxDepth: null,
            minSamplesLeaf: 5,
            l2Regularization: 0,
            minHessianToSplit: 1e-3,
            minGainToSplit: 0,
            shrinkage: 0.1,
            hessiansAreConstant: true
          },
          1,
          team,
          { minRows: 1, pieceRows: 7 },
          { loss: "squared_error", y },
          { rows: valRows.length, bins: valBins! }
        )
        g.raw.fill(0)
        updateGradients("squared_error", y, g.raw, g.grad, g.hess, 0)
        const expected = new Float64Array(valRows.length)
        const directions = new Set<number>()
        for (let t = 0; t < 8; t++) {
          const tree = g.grow(0)
          g.addValidation(tree, 0)
          for (let i = 0; i < valRows.length; i++) {
            let j = 0
            while (tree.feature[j]! >= 0) {
              const f = tree.feature[j]!
              const b = valBins![i * cols + f]!
              const left = b === nBinsNonMissing[f] ? tree.missingLeft[j] === 1 : b <= tree.binThreshold[j]!
              j = left ? tree.left[j]! : tree.right[j]!
            }
            expected[i] += tree.value[j]!
          }
          for (let j = 0; j < tree.nNodes; j++) if (tree.feature[j]! >= 0) directions.add(tree.missingLeft[j]!)
          expect(Array.from(g.rawVal)).toEqual(Array.from(expected))
        }
        expect(directions).toEqual(new Set([0, 1]))
      } finally {
        team?.close()
      }
    })
  }
})
