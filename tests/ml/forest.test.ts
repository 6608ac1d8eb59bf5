import { describe, expect, it } from "vitest"
import { rng } from "../../src/domain/random.js"
import { randomForest, type RandomForestModel } from "../../src/ml/forest.js"
import { compileTrees, sumLeafValues, type TreeArrays } from "../../src/ml/tree/predict.js"
import { fromRows, LearnerInputError, takeRows } from "../../src/ml/matrix.js"
import { accuracy, r2Score } from "../../src/ml/metrics.js"
import { stratifiedSplit, trainTestSplit } from "../../src/ml/split.js"
import { breastCancer, californiaHousing, wine } from "./data.js"

const bc = breastCancer()
const bcSplit = stratifiedSplit(bc.y, 0.3, 42)
const bcTrain = { x: takeRows(bc.x, bcSplit.train), y: Float64Array.from(bcSplit.train, (i) => bc.y[i]!) }
const bcTest = { x: takeRows(bc.x, bcSplit.test), y: Float64Array.from(bcSplit.test, (i) => bc.y[i]!) }
const fitBc = (params: object, seed = 42): RandomForestModel =>
  randomForest.fit(bcTrain.x, bcTrain.y, {
    task: "classification",
    params: { n_estimators: 20, ...params },
    seed,
    nClasses: 2
  })

describe("random forest", () => {
  it("same seed → byte-identical JSON; another seed → another forest", () => {
    const a = JSON.stringify(fitBc({}, 1))
    expect(JSON.stringify(fitBc({}, 1))).toBe(a)
    expect(JSON.stringify(fitBc({}, 2).trees)).not.toBe(JSON.stringify(JSON.parse(a).trees))
  })

  it("n_jobs=2 gives a byte-identical model to n_jobs=1", () => {
    expect(JSON.stringify(fitBc({ n_jobs: 2 }, 3))).toBe(JSON.stringify(fitBc({ n_jobs: 1 }, 3)))
    expect(JSON.stringify(fitBc({ n_jobs: -1 }, 3))).toBe(JSON.stringify(fitBc({}, 3)))
  })

  it("JSON round trip gives identical probabilities on 1,000 rows", () => {
    const m = fitBc({})
    const back = JSON.parse(JSON.stringify(m)) as RandomForestModel
    const r = rng(9)
    const rows = takeRows(
      bc.x,
      Int32Array.from({ length: 1000 }, () => r.int(bc.x.rows))
    )
    expect(Array.from(randomForest.predictProba!(back, rows))).toEqual(Array.from(randomForest.predictProba!(m, rows)))
  })

  it("probabilities are the mean of the trees' and sum to 1; importances sum to 1", () => {
    const m = fitBc({ n_estimators: 7 })
    expect(m.trees).toHaveLength(7)
    const p = randomForest.predictProba!(m, bcTest.x)
    for (let i = 0; i < bcTest.x.rows; i++) expect(p[2 * i]! + p[2 * i + 1]!).toBeCloseTo(1, 12)
    expect(m.featureImportances.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12)
    expect(m.params).toEqual({
      criterion: "gini",
      max_depth: null,
      min_samples_split: 2,
      min_samples_leaf: 1,
      max_features: "sqrt",
      n_estimators: 7,
      bootstrap: true,
      max_samples: null
    })
  })

  it("quality floor: breast_cancer 70/30 stratified, 30 trees, accuracy ≥ 0.93", () => {
    const m = fitBc({ n_estimators: 30 })
    expect(accuracy(bcTest.y, randomForest.predict(m, bcTest.x))).toBeGreaterThanOrEqual(0.93)
  })

  it("quality floor: wine (3 classes), 30 trees, accuracy ≥ 0.9", () => {
    const d = wine()
    const s = stratifiedSplit(d.y, 0.3, 42)
    const m = randomForest.fit(
      takeRows(d.x, s.train),
      Float64Array.from(s.train, (i) => d.y[i]!),
      { task: "classification", params: { n_estimators: 30 }, seed: 42, nClasses: 3 }
    )
    expect(
      accuracy(
        Float64Array.from(s.test, (i) => d.y[i]!),
        randomForest.predict(m, takeRows(d.x, s.test))
      )
    ).toBeGreaterThanOrEqual(0.9)
  })

  it("quality floor: regression on 3,000 california rows, 20 trees, R² ≥ 0.6", () => {
    const d = californiaHousing()
    const sub = trainTestSplit(d.x.rows, 3000 / d.x.rows, 1).test
    const s = trainTestSplit(sub.length, 0.25, 42)
    const rows = (idx: Int32Array) => Int32Array.from(idx, (k) => sub[k]!)
    const tr = rows(s.train),
      te = rows(s.test)
    const m = randomForest.fit(
      takeRows(d.x, tr),
      Float64Array.from(tr, (i) => d.y[i]!),
      { task: "regression", params: { n_estimators: 20 }, seed: 42 }
    )
    expect(m.params.max_features).toBe(1)
    expect(
      r2Score(
        Float64Array.from(te, (i) => d.y[i]!),
        randomForest.predict(m, takeRows(d.x, te))
      )
    ).toBeGreaterThanOrEqual(0.6)
  })

  it("without bootstrap and with all features, every tree fits the training set exactly", () => {
    const x = fromRows([
      [1, 0],
      [2, 1],
      [3, 0],
      [4, 1],
      [5, 0]
    ])
    const y = Float64Array.of(0, 1, 1, 0, 1)
    const m = randomForest.fit(x, y, {
      task: "classification",
      params: { n_estimators: 3, bootstrap: false, max_features: null },
      seed: 0,
      nClasses: 2
    })
    expect(Array.from(randomForest.predict(m, x))).toEqual([0, 1, 1, 0, 1])
  })

  it("bad input: NaN names the column, a single class is rejected, predictProba needs a classifier", () => {
    const x = fromRows([
      [1, 2],
      [3, 4],
      [Infinity, 6]
    ])
    expect(() =>
      randomForest.fit(x, Float64Array.of(0, 1, 0), {
        task: "classification",
        params: {},
        seed: 0,
        nClasses: 2,
        featureNames: ["a", "b"]
      })
    ).toThrow(/feature a/)
    expect(() =>
      randomForest.fit(fromRows([[1], [2]]), Float64Array.of(0, 0), {
        task: "classification",
        params: {},
        seed: 0,
        nClasses: 2
      })
    ).toThrow(LearnerInputError)
    expect(() =>
      randomForest.fit(fromRows([[1], [2]]), Float64Array.of(0, 1), {
        task: "classification",
        params: { n_estimators: 0 },
        seed: 0,
        nClasses: 2
      })
    ).toThrow(LearnerInputError)
    const reg = randomForest.fit(fromRows([[1], [2], [3]]), Float64Array.of(1, 2, 3), {
      task: "regression",
      params: { n_estimators: 2 },
      seed: 0
    })
    expect(() => randomForest.predictProba!(reg, fromRows([[1]]))).toThrow(LearnerInputError)
  })

  it("a large batch predicted on worker threads gives the same bytes as one thread", () => {
    // 70,000 rows (threads forced: the default shares out only larger jobs), breast-cancer-like
    const m = fitBc({ n_estimators: 8 }, 5)
    const r = rng(9)
    const rows = 70_000
    const data = new Float64Array(rows * bc.x.cols)
    for (let i = 0; i < rows; i++) {
      const src = r.int(bc.x.rows)
      for (let j = 0; j < bc.x.cols; j++)
        data[i * bc.x.cols + j] = bc.x.data[src * bc.x.cols + j]! * (0.9 + 0.2 * r.next())
    }
    const x = { rows, cols: bc.x.cols, data }
    const c = compileTrees(m, m.trees, 2)
    const one = sumLeafValues(c, x, 1)
    for (const threads of [2, 3])
      expect(Buffer.from(sumLeafValues(c, x, threads).buffer).equals(Buffer.from(one.buffer))).toBe(true)
    expect(Array.from(randomForest.predictProba!(m, x).subarray(0, 10))).toEqual(
      Array.from(one.subarray(0, 10), (v) => v / 8)
    )
  })

  it("the fixed-depth walk (balanced trees) and the walk to the leaf (lopsided ones) reach the leaves the stored trees name", () => {
    // the stored layout (feature -1 at leaves, left/right) walked one row at a time is the reference
    const walk = (t: TreeArrays, row: ArrayLike<number>): number => {
      let node = 0
      while (t.feature[node]! >= 0) node = row[t.feature[node]!]! <= t.threshold[node]! ? t.left[node]! : t.right[node]!
      return node
    }
    // a depth-3 balanced tree and a lopsided chain (depth 20, a leaf at every level): two outputs per leaf
    const balanced: TreeArrays = {
      nodeCount: 11,
      feature: [0, 1, 1, 2, -1, 0, -1, -1, -1, -1, -1],
      threshold: [0.5, 0.3, 0.7, 0.2, 0, 0.9, 0, 0, 0, 0, 0],
      left: [1, 3, 5, 7, -1, 9, -1, -1, -1, -1, -1],
      right: [2, 4, 6, 8, -1, 10, -1, -1, -1, -1, -1],
      value: Array.from({ length: 22 }, (_, i) => i * 0.25 - 1)
    }
    const chainNodes = 41
    const lopsided: TreeArrays = {
      nodeCount: chainNodes,
      feature: Array.from({ length: chainNodes }, (_, i) => (i % 2 === 0 && i < chainNodes - 1 ? i % 3 : -1)),
      threshold: Array.from({ length: chainNodes }, (_, i) => 0.15 * (i % 5)),
      left: Array.from({ length: chainNodes }, (_, i) => (i % 2 === 0 && i < chainNodes - 1 ? i + 1 : -1)),
      right: Array.from({ length: chainNodes }, (_, i) => (i % 2 === 0 && i < chainNodes - 1 ? i + 2 : -1)),
      value: Array.from({ length: 2 * chainNodes }, (_, i) => Math.sin(i))
    }
    const trees = [balanced, lopsided, balanced]
    const compiled = compileTrees({}, trees, 2)
    expect(Array.from(compiled.steps)).toEqual([3, -1, 3])
    const r = rng(3)
    const rows = 1_031 // not a multiple of four: the last rows take the per-row walk
    const data = new Float64Array(rows * 3)
    for (let i = 0; i < data.length; i++) data[i] = r.next() < 0.05 ? Number.NaN : r.next()
    const x = { rows, cols: 3, data }
    for (const threads of [1, 2]) {
      const got = sumLeafValues(compiled, x, threads)
      for (let i = 0; i < rows; i++) {
        const row = data.subarray(i * 3, i * 3 + 3)
        for (let k = 0; k < 2; k++) {
          let want = 0
          for (const t of trees) want += t.value[walk(t, row) * 2 + k]!
          expect(got[i * 2 + k]).toBe(want)
        }
      }
    }
    // one output (regression, the four-row walk's own branch), and a tree that is a single leaf
    const oneOutput = (t: TreeArrays): TreeArrays => ({
      ...t,
      value: Array.from({ length: t.nodeCount }, (_, i) => t.value[2 * i]! * 3 + i)
    })
    const leaf: TreeArrays = { nodeCount: 1, feature: [-1], threshold: [0], left: [-1], right: [-1], value: [0.125] }
    const single = [oneOutput(balanced), leaf, oneOutput(lopsided), oneOutput(balanced)]
    const compiledSingle = compileTrees({}, single, 1)
    expect(Array.from(compiledSingle.steps)).toEqual([3, 0, -1, 3])
    for (const threads of [1, 2]) {
      const got = sumLeafValues(compiledSingle, x, threads)
      for (let i = 0; i < rows; i++) {
        const row = data.subarray(i * 3, i * 3 + 3)
        let want = 0
        for (const t of single) want += t.value[walk(t, row)]!
        expect(got[i]).toBe(want)
      }
    }
  })
})
