import { readFileSync } from "node:fs"
import { parse } from "csv-parse/sync"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { rng, shuffleInPlace } from "../../src/domain/random.js"
import {
  hgbRawPredict,
  histGradientBoosting,
  lastHgbFit,
  type HgbFitOptions,
  type HgbModel,
  type HgbParams
} from "../../src/ml/hgb.js"
import { LearnerInputError, takeRows, type Matrix } from "../../src/ml/matrix.js"

const hgb = histGradientBoosting

interface Dataset {
  readonly x: Matrix
  readonly labels: ReadonlyArray<string>
}

const loadCsv = (name: string, target: string): Dataset => {
  const records = parse(readFileSync(`data/raw/${name}/data.csv`, "utf8"), { columns: true }) as Record<
    string,
    string
  >[]
  const names = Object.keys(records[0]!).filter((c) => c !== target)
  const data = new Float64Array(records.length * names.length)
  records.forEach((r, i) => names.forEach((c, j) => (data[i * names.length + j] = Number(r[c]))))
  return { x: { rows: records.length, cols: names.length, data }, labels: records.map((r) => r[target]!) }
}

const classIndices = (labels: ReadonlyArray<string>): { y: Float64Array; classes: string[] } => {
  const classes = [...new Set(labels)].sort()
  return { y: Float64Array.from(labels, (l) => classes.indexOf(l)), classes }
}

const pick = (y: Float64Array, idx: ArrayLike<number>) => Float64Array.from(idx, (i) => y[i]!)
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i)
const accuracy = (pred: Float64Array, y: Float64Array) => pred.filter((p, i) => p === y[i]).length / y.length
const r2 = (pred: Float64Array, y: Float64Array) => {
  const mean = y.reduce((a, b) => a + b, 0) / y.length
  let ssr = 0
  let sst = 0
  for (let i = 0; i < y.length; i++) {
    ssr += (y[i]! - pred[i]!) ** 2
    sst += (y[i]! - mean) ** 2
  }
  return 1 - ssr / sst
}
const seededSplit = (n: number, testFrac: number, seed: number) => {
  const idx = shuffleInPlace(range(0, n), rng(seed))
  const nTest = Math.round(testFrac * n)
  return { test: idx.slice(0, nTest), train: idx.slice(nTest) }
}

const california = loadCsv("california_housing", "MedHouseVal")
const calY = Float64Array.from(california.labels, Number)
const breastCancer = loadCsv("breast_cancer", "diagnosis")
const bcY = Float64Array.from(breastCancer.labels, (l) => (l === "malignant" ? 1 : 0))
const iris = loadCsv("iris", "species")
const irisY = classIndices(iris.labels).y

/** California with MedInc missing on every 7th row (as the scikit-learn reference run). */
const californiaWithNaN = (): Matrix => {
  const data = Float64Array.from(california.x.data)
  for (let i = 0; i < california.x.rows; i += 7) data[i * california.x.cols] = NaN
  return { ...california.x, data }
}

describe("histGradientBoosting: scikit-learn 1.2.1 parity (no early stopping, so fully deterministic)", () => {
  // reference numbers: HistGradientBoosting{Classifier,Regressor} from scikit-learn 1.2.1 on the same rows

  it("binary log-loss on breast_cancer matches predict_proba", () => {
    const train = range(0, bcY.length).filter((i) => i % 3 !== 0)
    const test = range(0, bcY.length).filter((i) => i % 3 === 0)
    const model = hgb.fit(takeRows(breastCancer.x, train), pick(bcY, train), {
      task: "classification",
      params: { early_stopping: false, max_iter: 20 },
      seed: 0,
      nClasses: 2
    })
    expect(model.baseline[0]).toBeCloseTo(-0.5804065576044964, 12)
    const proba = hgb.predictProba!(model, takeRows(breastCancer.x, test))
    const expected = [
      0.7101615006548332, 0.7330054758580759, 0.9153204927560195, 0.7391510302840624, 0.9128906954515709
    ]
    expected.forEach((p, i) => expect(proba[i * 2 + 1]).toBeCloseTo(p, 9))
    expect(accuracy(hgb.predict(model, takeRows(breastCancer.x, test)), pick(bcY, test))).toBeCloseTo(
      0.9421052631578948,
      12
    )
  })

  it("squared error with NaN in a feature matches predict", () => {
    const x = californiaWithNaN()
    const model = hgb.fit(takeRows(x, range(0, 2000)), calY.subarray(0, 2000), {
      task: "regression",
      params: { early_stopping: false, max_iter: 30 },
      seed: 0
    })
    expect(model.baseline[0]).toBeCloseTo(1.91953414, 7)
    const pred = hgb.predict(model, takeRows(x, range(2000, 2500)))
    const expected = [
      1.2356932701495864, 1.0240768800534197, 1.3040201220562575, 1.2050481350658448, 1.1663864352208793
    ]
    expected.forEach((p, i) => expect(pred[i]).toBeCloseTo(p, 9))
    expect(pred.reduce((a, b) => a + b, 0)).toBeCloseTo(758.6690903858091, 7)
  })

  it("multiclass (one tree per class, softmax) on iris matches predict_proba", () => {
    const train = range(0, 150).filter((i) => i % 2 === 0)
    const test = range(0, 150).filter((i) => i % 2 === 1)
    const model = hgb.fit(takeRows(iris.x, train), pick(irisY, train), {
      task: "classification",
      params: { early_stopping: false, max_iter: 10, min_samples_leaf: 5 },
      seed: 0,
      nClasses: 3
    })
    expect(model.treesPerIteration).toBe(3)
    expect(model.trees).toHaveLength(30)
    const proba = hgb.predictProba!(model, takeRows(iris.x, test))
    const expected: Record<number, number[]> = {
      0: [0.8976597726325966, 0.051170113802544645, 0.05117011356485879],
      30: [0.06109264486103581, 0.8776273706136855, 0.0612799845252787],
      60: [0.06937435398787262, 0.2615989637315232, 0.6690266822806042]
    }
    for (const [row, ps] of Object.entries(expected))
      ps.forEach((p, k) => expect(proba[Number(row) * 3 + k]).toBeCloseTo(p, 9))
    expect(accuracy(hgb.predict(model, takeRows(iris.x, test)), pick(irisY, test))).toBeCloseTo(0.9733333333333334, 12)
  })
})

describe("histGradientBoosting: model state", () => {
  const calSub = seededSplit(california.x.rows, 0.05, 7).test // ~1,000 rows

  it("is deterministic: the same seed gives byte-identical JSON (early stopping's split and binning are seeded)", () => {
    const x = takeRows(californiaWithNaN(), range(0, 12_000))
    const y = calY.subarray(0, 12_000)
    const params: HgbParams = { max_iter: 15 }
    const a = hgb.fit(x, y, { task: "regression", params, seed: 11 })
    const b = hgb.fit(x, y, { task: "regression", params, seed: 11 })
    expect(a.earlyStopping).toBe(true)
    expect(a.validationScore).toHaveLength(16)
    expect(JSON.stringify(a)).toBe(JSON.stringify(b))
    const c = hgb.fit(x, y, { task: "regression", params, seed: 12 })
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a))
  })

  it("round-trips through JSON with identical predictions on 1,000 rows, NaN included", () => {
    const x = californiaWithNaN()
    const train = range(0, 3000)
    const model = hgb.fit(takeRows(x, train), pick(calY, train), {
      task: "regression",
      params: { max_iter: 20 },
      seed: 3
    })
    const copy = JSON.parse(JSON.stringify(model)) as HgbModel
    expect(copy.format).toBe("driftgate.hgb/1")
    const rows = takeRows(x, calSub)
    expect(rows.rows).toBeGreaterThanOrEqual(1000)
    expect(Array.from(hgb.predict(copy, rows))).toEqual(Array.from(hgb.predict(model, rows)))

    const clf = hgb.fit(takeRows(iris.x, range(0, 150)), irisY, {
      task: "classification",
      params: { max_iter: 10 },
      seed: 3,
      nClasses: 3
    })
    const clfCopy = JSON.parse(JSON.stringify(clf)) as HgbModel
    expect(Array.from(hgb.predictProba!(clfCopy, iris.x))).toEqual(Array.from(hgb.predictProba!(clf, iris.x)))
  })

  it("stores bin thresholds, flat trees and the baseline; predicts from raw thresholds", () => {
    const model = hgb.fit(takeRows(california.x, range(0, 2000)), calY.subarray(0, 2000), {
      task: "regression",
      params: { max_iter: 3, max_bins: 16 },
      seed: 0
    })
    expect(model.binThresholds).toHaveLength(8)
    for (const t of model.binThresholds) {
      expect(t.length).toBeLessThanOrEqual(15)
      for (let i = 1; i < t.length; i++) expect(t[i]).toBeGreaterThanOrEqual(t[i - 1]!)
    }
    expect(model.nIter).toBe(3)
    const tree = model.trees[0]!
    expect(tree.feature.filter((f) => f < 0).length).toBeLessThanOrEqual(31)
    expect(tree.count[0]).toBe(2000)
    // a value equal to the root's threshold goes left, the next double above it goes right
    const f = tree.feature[0]!
    const thr = tree.threshold[0]!
    const rowWith = (v: number) => {
      const data = Float64Array.from(california.x.data.subarray(0, 8))
      data[f] = v
      return data
    }
    const walk = (row: Float64Array): { first: number; value: number } => {
      let j = 0
      let first = -1
      while (tree.feature[j]! >= 0) {
        j = row[tree.feature[j]!]! <= tree.threshold[j]! ? tree.left[j]! : tree.right[j]!
        if (first < 0) first = j
      }
      return { first, value: tree.value[j]! }
    }
    const above = thr + Math.max(Number.EPSILON, Math.abs(thr) * Number.EPSILON)
    const single = { ...model, trees: [tree], nIter: 1 }
    for (const v of [thr, above]) {
      expect(hgbRawPredict(single, { rows: 1, cols: 8, data: rowWith(v) })[0]).toBe(
        model.baseline[0]! + walk(rowWith(v)).value
      )
    }
    expect(walk(rowWith(thr)).first).toBe(tree.left[0])
    expect(walk(rowWith(above)).first).toBe(tree.right[0])
  })
})

describe("histGradientBoosting: worker threads", () => {
  // parallelMinRows: 1 shares out every histogram and partition, so small data covers the threaded path
  const fitWith = (x: Matrix, y: Float64Array, opts: Omit<HgbFitOptions, "threads">, threads: number) => {
    const model = hgb.fit(x, y, { ...opts, threads, parallelMinRows: 1 } as HgbFitOptions)
    return { json: JSON.stringify(model), info: lastHgbFit()! }
  }
  const x = californiaWithNaN()

  it("gives byte-identical models with 1, 2 and 3 threads (squared error, NaN, early stopping)", () => {
    const opts = { task: "regression", params: { max_iter: 8 }, seed: 4 } as const
    const one = fitWith(x, calY, opts, 1)
    expect(one.info).toEqual({ threads: 1, workerSteps: 0 })
    for (const threads of [2, 3]) {
      const many = fitWith(x, calY, opts, threads)
      expect(many.info.threads).toBe(threads)
      expect(many.info.workerSteps).toBeGreaterThan(0)
      expect(many.json).toBe(one.json)
    }
  })

  it("gives byte-identical models with 1 and 2 threads for binary and multiclass log-loss (hessians)", () => {
    const yBin = Float64Array.from(calY, (v) => (v > 2 ? 1 : 0))
    const yMulti = Float64Array.from(calY, (v) => (v > 3 ? 2 : v > 1.5 ? 1 : 0))
    const bin = { task: "classification", params: { max_iter: 5 }, seed: 9, nClasses: 2 } as const
    const multi = { task: "classification", params: { max_iter: 3, max_leaf_nodes: 15 }, seed: 5, nClasses: 3 } as const
    expect(fitWith(x, yBin, bin, 2).json).toBe(fitWith(x, yBin, bin, 1).json)
    const m2 = fitWith(x, yMulti, multi, 2)
    expect(m2.info.workerSteps).toBeGreaterThan(0)
    expect(m2.json).toBe(fitWith(x, yMulti, multi, 1).json)
  })

  it("uses no worker threads below 65,536 training rows unless asked", () => {
    hgb.fit(takeRows(x, range(0, 3000)), calY.subarray(0, 3000), {
      task: "regression",
      params: { max_iter: 2 },
      seed: 0
    })
    expect(lastHgbFit()).toEqual({ threads: 1, workerSteps: 0 })
  })
})

describe("histGradientBoosting: quality floors on the shipped datasets", () => {
  it("california_housing: R² well above chance on a 6,000-row subsample", () => {
    const { train, test } = seededSplit(california.x.rows, 0.2, 42)
    const tr = train.slice(0, 6000)
    const model = hgb.fit(takeRows(california.x, tr), pick(calY, tr), {
      task: "regression",
      params: { max_iter: 60 },
      seed: 42
    })
    const score = r2(hgb.predict(model, takeRows(california.x, test)), pick(calY, test))
    expect(score).toBeGreaterThan(0.75)
  })

  it("breast_cancer: accuracy on a seeded 70/30 split", () => {
    const { train, test } = seededSplit(bcY.length, 0.3, 42)
    const model = hgb.fit(takeRows(breastCancer.x, train), pick(bcY, train), {
      task: "classification",
      params: {},
      seed: 42,
      nClasses: 2
    })
    expect(accuracy(hgb.predict(model, takeRows(breastCancer.x, test)), pick(bcY, test))).toBeGreaterThan(0.9)
  })

  it("iris (multiclass): accuracy on a 70/30 split", () => {
    const { train, test } = seededSplit(150, 0.3, 42)
    const model = hgb.fit(takeRows(iris.x, train), pick(irisY, train), {
      task: "classification",
      params: {},
      seed: 42,
      nClasses: 3
    })
    expect(accuracy(hgb.predict(model, takeRows(iris.x, test)), pick(irisY, test))).toBeGreaterThan(0.85)
    const proba = hgb.predictProba!(model, takeRows(iris.x, test))
    for (let i = 0; i < test.length; i++)
      expect(proba[i * 3]! + proba[i * 3 + 1]! + proba[i * 3 + 2]!).toBeCloseTo(1, 12)
  })

  it("early stopping ('auto' above 10,000 rows) stops before max_iter when the validation loss stalls", () => {
    const x = takeRows(california.x, range(0, 12_000))
    const model = hgb.fit(x, calY.subarray(0, 12_000), {
      task: "regression",
      params: { max_iter: 300, learning_rate: 0.5, n_iter_no_change: 3 },
      seed: 5
    })
    expect(model.earlyStopping).toBe(true)
    expect(model.nIter).toBeLessThan(300)
    expect(model.validationScore).toHaveLength(model.nIter + 1)
    expect(model.trees).toHaveLength(model.nIter)
  })
})

describe("histGradientBoosting: missing values", () => {
  const n = 2000
  const r = rng(99)
  // feature 1 is missing for rows of class 1 (and a few of class 0): missingness itself is the signal
  const data = new Float64Array(n * 2)
  const y = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    y[i] = r.next() < 0.5 ? 1 : 0
    data[i * 2] = r.normal()
    const missing = y[i] === 1 ? r.next() < 0.95 : r.next() < 0.05
    data[i * 2 + 1] = missing ? NaN : r.normal()
  }
  const x: Matrix = { rows: n, cols: 2, data }

  it("learns from missingness itself, with a learned NaN direction", () => {
    const train = range(0, 1500)
    const test = range(1500, n)
    const model = hgb.fit(takeRows(x, train), pick(y, train), {
      task: "classification",
      params: { max_iter: 20 },
      seed: 1,
      nClasses: 2
    })
    expect(accuracy(hgb.predict(model, takeRows(x, test)), pick(y, test))).toBeGreaterThan(0.9)
    const root = model.trees[0]!
    expect(root.feature[0]).toBe(1)
    // the NaN rows (mostly class 1) must land in the child with the positive leaf values
    const nanRow: Matrix = { rows: 1, cols: 2, data: Float64Array.of(0, NaN) }
    const valueRow: Matrix = { rows: 1, cols: 2, data: Float64Array.of(0, 0) }
    expect(hgb.predictProba!(model, nanRow)[1]).toBeGreaterThan(0.8)
    expect(hgb.predictProba!(model, valueRow)[1]).toBeLessThan(0.2)
  })

  it("routes NaN at predict time even when training had none (to the larger child)", () => {
    const train = range(0, 1500)
    const clean = takeRows(x, train)
    const cleanData = Float64Array.from(clean.data, (v) => (Number.isNaN(v) ? 0 : v))
    const model = hgb.fit({ ...clean, data: cleanData }, pick(y, train), {
      task: "classification",
      params: { max_iter: 5 },
      seed: 1,
      nClasses: 2
    })
    const proba = hgb.predictProba!(model, { rows: 1, cols: 2, data: Float64Array.of(NaN, NaN) })
    expect(Number.isFinite(proba[0])).toBe(true)
    for (const t of model.trees) {
      t.feature.forEach((f, j) => {
        if (f >= 0) expect(t.missingLeft[j]).toBe(t.count[t.left[j]!]! > t.count[t.right[j]!]! ? 1 : 0)
      })
    }
  })
})

describe("histGradientBoosting: edge cases and input errors", () => {
  it("constant target gives constant predictions equal to it", () => {
    const x = takeRows(california.x, range(0, 500))
    const model = hgb.fit(x, new Float64Array(500).fill(2.5), { task: "regression", params: {}, seed: 0 })
    const pred = hgb.predict(model, takeRows(california.x, range(500, 700)))
    expect(new Set(pred).size).toBe(1)
    expect(pred[0]).toBe(2.5)
  })

  it("a single-class training set is a LearnerInputError with a clear message", () => {
    const x = takeRows(iris.x, range(0, 50))
    const fit = () => hgb.fit(x, new Float64Array(50), { task: "classification", params: {}, seed: 0, nClasses: 3 })
    expect(fit).toThrow(LearnerInputError)
    expect(fit).toThrow(/at least two classes/)
  })

  it("rejects bad parameters, infinite features, mismatched shapes and predictProba on a regressor", () => {
    const x = takeRows(iris.x, range(0, 100))
    const y = irisY.subarray(0, 100)
    const opts = (params: HgbParams) => ({ task: "classification" as const, params, seed: 0, nClasses: 3 })
    expect(() => hgb.fit(x, y, opts({ max_bins: 256 }))).toThrow(/max_bins/)
    expect(() => hgb.fit(x, y, opts({ learning_rate: 0 }))).toThrow(/learning_rate/)
    expect(() => hgb.fit(x, y, opts({ learning_rat: 0.1 } as HgbParams))).toThrow(/unknown parameter learning_rat/)
    expect(() => hgb.fit(x, y.subarray(0, 50), opts({}))).toThrow(LearnerInputError)
    const inf = Float64Array.from(x.data)
    inf[5] = Infinity
    expect(() => hgb.fit({ ...x, data: inf }, y, { ...opts({}), featureNames: ["a", "b", "c", "d"] })).toThrow(
      /feature b .*infinite/
    )
    const reg = hgb.fit(x, y, { task: "regression", params: { max_iter: 2 }, seed: 0 })
    expect(() => hgb.predictProba!(reg, x)).toThrow(/classification/)
    expect(() => hgb.predict(reg, { rows: 1, cols: 3, data: new Float64Array(3) })).toThrow(/4 features/)
  })

  it("property: finite inputs give finite predictions and probabilities that sum to 1", () => {
    const finite = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true })
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.array(finite, { minLength: 240, maxLength: 240 }),
        fc.array(finite, { minLength: 60, maxLength: 60 }),
        (rows, cols, seed, values, targets) => {
          const data = Float64Array.from({ length: rows * cols }, (_, i) => values[i % values.length]!)
          const x: Matrix = { rows, cols, data }
          const y = Float64Array.from({ length: rows }, (_, i) => targets[i % targets.length]!)
          const params: HgbParams = { max_iter: 5, min_samples_leaf: 1 + (seed % 5) }
          const reg = hgb.fit(x, y, { task: "regression", params, seed })
          for (const v of hgb.predict(reg, x)) expect(Number.isFinite(v)).toBe(true)
          const cls = Float64Array.from({ length: rows }, (_, i) => i % 3)
          const clf = hgb.fit(x, cls, { task: "classification", params, seed, nClasses: rows === 2 ? 2 : 3 })
          const k = clf.nClasses
          const proba = hgb.predictProba!(clf, x)
          for (let i = 0; i < rows; i++) {
            let s = 0
            for (let c = 0; c < k; c++) {
              expect(Number.isFinite(proba[i * k + c]!)).toBe(true)
              s += proba[i * k + c]!
            }
            expect(s).toBeCloseTo(1, 9)
          }
        }
      ),
      { numRuns: 60, seed: 20240611 }
    )
  })
})
