import { runInNewContext } from "node:vm"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { rng } from "../../src/domain/random.js"
import { fromRows, LearnerInputError, takeRows, toColumnMajor, type Matrix } from "../../src/ml/matrix.js"
import { accuracy } from "../../src/ml/metrics.js"
import { stratifiedSplit } from "../../src/ml/split.js"
import { decisionTree, decisionTreeDefaults, type DecisionTreeModel } from "../../src/ml/decisionTree.js"
import { growTree } from "../../src/ml/tree/grower.js"
import { makeGrowJob, resolveMaxFeatures } from "../../src/ml/tree/params.js"
import { breastCancer, californiaHousing, iris } from "./data.js"
import { parity } from "./parityReference.js"

const x6 = fromRows([[1], [2], [3], [4], [5], [6]])
const clf = (x: Matrix, y: number[], params = {}, seed = 0, nClasses = 2): DecisionTreeModel =>
  decisionTree.fit(x, Float64Array.from(y), { task: "classification", params, seed, nClasses })

describe("decision tree: exact small cases", () => {
  it("splits 6 rows at the hand-computed gini threshold (ties keep the first threshold)", () => {
    // y = 0 0 1 0 1 1: weighted gini is 0.25 at 2.5 and at 4.5 (a tie), 0.4 at 1.5/5.5, 4/9 at 3.5
    const m = clf(x6, [0, 0, 1, 0, 1, 1], { max_depth: 1 })
    expect(m.tree).toEqual({
      nodeCount: 3,
      feature: [0, -1, -1],
      threshold: [2.5, 0, 0],
      left: [1, -1, -1],
      right: [2, -1, -1],
      value: [0, 0, 1, 0, 0.25, 0.75] // internal nodes store 0: prediction reads leaves only
    })
    expect(Array.from(decisionTree.predictProba!(m, fromRows([[0], [2.5], [2.6], [9]])))).toEqual([
      1, 0, 1, 0, 0.25, 0.75, 0.25, 0.75
    ])
  })

  it("grows the full 6-row tree depth-first, left subtree numbered first", () => {
    // right child {3:1, 4:0, 5:1, 6:1}: best split 4.5 (weighted gini 0.25), then {3, 4} at 3.5
    const m = clf(x6, [0, 0, 1, 0, 1, 1])
    expect(m.tree.feature).toEqual([0, -1, 0, 0, -1, -1, -1])
    expect(m.tree.threshold).toEqual([2.5, 0, 4.5, 3.5, 0, 0, 0])
    expect(m.tree.left).toEqual([1, -1, 3, 4, -1, -1, -1])
    expect(m.tree.right).toEqual([2, -1, 6, 5, -1, -1, -1])
    expect(Array.from(decisionTree.predict(m, x6))).toEqual([0, 0, 1, 0, 1, 1])
    expect(m.featureImportances).toEqual([1])
  })

  it("regression splits at the midpoint and stores leaf means", () => {
    const m = decisionTree.fit(x6, Float64Array.of(1, 1, 1, 5, 5, 7), {
      task: "regression",
      params: { max_depth: 1 },
      seed: 0
    })
    expect(m.tree.threshold[0]).toBe(3.5)
    expect(m.tree.value).toEqual([0, 1, 17 / 3]) // the root (mean 20 / 6) is internal: stored as 0
    expect(Array.from(decisionTree.predict(m, fromRows([[3.5], [3.6]])))).toEqual([1, 17 / 3])
  })

  it("entropy picks the split with the largest information gain", () => {
    // y = 0 0 0 0 1 1 with a second, useless feature: both criteria split feature 0 at 4.5
    const x = fromRows([
      [1, 5],
      [2, 5],
      [3, 6],
      [4, 5],
      [5, 6],
      [6, 5]
    ])
    for (const criterion of ["gini", "entropy"] as const) {
      const m = clf(x, [0, 0, 0, 0, 1, 1], { criterion })
      expect(m.tree.feature[0]).toBe(0)
      expect(m.tree.threshold[0]).toBe(4.5)
      expect(m.tree.nodeCount).toBe(3)
    }
  })

  it("respects min_samples_leaf and min_samples_split", () => {
    const y = [0, 1, 0, 1, 0, 1]
    expect(clf(x6, y, { min_samples_split: 7 }).tree.nodeCount).toBe(1)
    const m = clf(x6, y, { min_samples_leaf: 3 })
    expect(m.tree.threshold[0]).toBe(3.5)
    expect(m.tree.nodeCount).toBe(3)
  })
})

describe("decision tree: against scikit-learn 1.2.1", () => {
  // tests/ml/parity_reference.py: DecisionTree{Classifier,Regressor}(random_state=s).fit(X, y) on all rows; tree_.node_count,
  // tree_.threshold, tree_.feature. scikit-learn stores thresholds as float32, hence the 1e-6 tolerance.
  it("breast_cancer, gini and entropy: same node count and root split", () => {
    const d = breastCancer()
    for (const criterion of ["gini", "entropy"] as const) {
      const { node_count: nodes, threshold, feature } = parity.tree.breast_cancer_root[criterion]
      const m = decisionTree.fit(d.x, d.y, { task: "classification", params: { criterion }, seed: 0, nClasses: 2 })
      expect(m.tree.nodeCount).toBe(nodes)
      expect(m.tree.feature[0]).toBe(feature)
      expect(Math.abs(m.tree.threshold[0]! - threshold)).toBeLessThan(1e-6 * threshold)
    }
  })

  it("california_housing regression, max_depth=6: same structure", () => {
    const d = californiaHousing()
    const m = decisionTree.fit(d.x, d.y, { task: "regression", params: { max_depth: 6 }, seed: 0 })
    const ref = parity.tree.california_depth6
    expect(m.tree.nodeCount).toBe(ref.node_count)
    expect(m.tree.feature.slice(0, 7)).toEqual(ref.feature_first7)
    const sk = ref.threshold_first6
    sk.forEach((t, i) => expect(Math.abs(m.tree.threshold[i]! - t)).toBeLessThan(1e-6 * Math.abs(t)))
  })
})

describe("decision tree: internals", () => {
  it("the grower's inlined PRNG is the same stream as rng() in src/domain/random.ts", () => {
    // the root's value is the bootstrap-weighted mean of y = row index, so it pins the bootstrap draws
    for (const seed of [0, 1, 42, 2 ** 31 + 5, 123456789012]) {
      const n = 50
      const x = new Float64Array(n).map((_, i) => i)
      const y = new Float64Array(n).map((_, i) => i)
      const job = makeGrowJob(
        x,
        n,
        1,
        y,
        0,
        "regression",
        { ...decisionTreeDefaults("regression"), max_depth: 1 },
        Float64Array.of(seed),
        true,
        n
      )
      const grown = growTree(job, 0)
      // expected bootstrap counts from the domain rng
      const r = rng(seed)
      const w = new Float64Array(n)
      for (let i = 0; i < n; i++) w[r.int(n)] += 1
      let sw = 0,
        swy = 0
      for (let i = 0; i < n; i++) {
        sw += w[i]!
        swy += w[i]! * i
      }
      expect(grown.value[0]).toBe(swy / sw)
    }
  })

  it("growTree is self-contained (forests run its source text in worker threads)", () => {
    const job = makeGrowJob(
      toColumnMajor(x6),
      6,
      1,
      Float64Array.of(0, 1, 0, 1, 1, 1),
      2,
      "classification",
      decisionTreeDefaults("classification"),
      Float64Array.of(11),
      true,
      6
    )
    // a fresh global scope holding only the helper esbuild's keepNames may insert, as in parallel.ts
    const isolated = runInNewContext(`(${growTree.toString()})`, {
      __name: (t: unknown) => t,
      Math,
      Float64Array,
      Int32Array,
      Uint8Array,
      Infinity,
      NaN
    })
    expect(JSON.stringify(Object.entries(isolated(job, 0)))).toBe(JSON.stringify(Object.entries(growTree(job, 0))))
  })

  it("resolves max_features like scikit-learn", () => {
    expect(resolveMaxFeatures("sqrt", 30)).toBe(5)
    expect(resolveMaxFeatures("log2", 30)).toBe(4)
    expect(resolveMaxFeatures(null, 30)).toBe(30)
    expect(resolveMaxFeatures(1, 30)).toBe(30)
    expect(resolveMaxFeatures(0.5, 30)).toBe(15)
    expect(resolveMaxFeatures(0.01, 30)).toBe(1)
    expect(resolveMaxFeatures(7, 30)).toBe(7)
    expect(() => resolveMaxFeatures(31, 30)).toThrow(LearnerInputError)
  })

  it("toColumnMajor + growTree give finite leaf values", () => {
    const job = makeGrowJob(
      toColumnMajor(x6),
      6,
      1,
      Float64Array.of(0, 1, 0, 1, 1, 1),
      2,
      "classification",
      decisionTreeDefaults("classification"),
      Float64Array.of(3),
      true,
      6
    )
    const g = growTree(job, 0)
    expect(g.value.every(Number.isFinite)).toBe(true)
  })
})

describe("decision tree: determinism, round trip, properties", () => {
  const bc = breastCancer()

  it("same seed → byte-identical model; max_features < all with another seed → another tree", () => {
    const fit = (seed: number) =>
      decisionTree.fit(bc.x, bc.y, { task: "classification", params: { max_features: "sqrt" }, seed, nClasses: 2 })
    expect(JSON.stringify(fit(7))).toBe(JSON.stringify(fit(7)))
    expect(JSON.stringify(fit(7).tree)).not.toBe(JSON.stringify(fit(8).tree))
  })

  it("JSON round trip gives identical predictions on 1,000 rows", () => {
    const m = decisionTree.fit(bc.x, bc.y, { task: "classification", params: {}, seed: 1, nClasses: 2 })
    const back = JSON.parse(JSON.stringify(m)) as DecisionTreeModel
    const r = rng(5)
    const rows = takeRows(
      bc.x,
      Int32Array.from({ length: 1000 }, () => r.int(bc.x.rows))
    )
    expect(Array.from(decisionTree.predictProba!(back, rows))).toEqual(Array.from(decisionTree.predictProba!(m, rows)))
  })

  it("quality floor: iris 70/30 stratified, accuracy ≥ 0.85", () => {
    const d = iris()
    const s = stratifiedSplit(d.y, 0.3, 42)
    const m = decisionTree.fit(
      takeRows(d.x, s.train),
      Float64Array.from(s.train, (i) => d.y[i]!),
      { task: "classification", params: {}, seed: 42, nClasses: 3 }
    )
    expect(
      accuracy(
        Float64Array.from(s.test, (i) => d.y[i]!),
        decisionTree.predict(m, takeRows(d.x, s.test))
      )
    ).toBeGreaterThanOrEqual(0.85)
  })

  it("property: finite inputs → finite predictions; a constant target → a constant model", () => {
    const data = fc.integer({ min: 2, max: 30 }).chain((n) =>
      fc.record({
        x: fc.array(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 3, maxLength: 3 }), {
          minLength: n,
          maxLength: n
        }),
        y: fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: n, maxLength: n }),
        c: fc.double({ min: -1e3, max: 1e3, noNaN: true })
      })
    )
    fc.assert(
      fc.property(data, fc.integer({ min: 0, max: 1000 }), ({ x, y, c }, seed) => {
        const m = decisionTree.fit(fromRows(x), Float64Array.from(y), { task: "regression", params: {}, seed })
        expect(decisionTree.predict(m, fromRows(x)).every(Number.isFinite)).toBe(true)
        const k = decisionTree.fit(fromRows(x), new Float64Array(x.length).fill(c), {
          task: "regression",
          params: {},
          seed
        })
        expect(k.tree.nodeCount).toBe(1)
        expect(
          Array.from(decisionTree.predict(k, fromRows(x))).every(
            (v) => Math.abs(v - c) <= 1e-9 * Math.max(1, Math.abs(c))
          )
        ).toBe(true)
      }),
      { numRuns: 60 }
    )
  })
})

describe("decision tree: bad input", () => {
  it("NaN → LearnerInputError naming the column", () => {
    const x = fromRows([
      [1, 2],
      [3, NaN],
      [5, 6]
    ])
    let err: unknown
    try {
      decisionTree.fit(x, Float64Array.of(0, 1, 0), {
        task: "classification",
        params: {},
        seed: 0,
        nClasses: 2,
        featureNames: ["age", "income"]
      })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(LearnerInputError)
    expect((err as LearnerInputError).message).toContain("income")
    expect((err as LearnerInputError).column).toBe(1)
  })

  it("a single-class training set is rejected, not fitted", () => {
    expect(() => clf(x6, [1, 1, 1, 1, 1, 1])).toThrow(/single class/)
  })

  it("class indices out of range, length mismatch and bad params are rejected", () => {
    expect(() => clf(x6, [0, 1, 2, 0, 1, 0])).toThrow(LearnerInputError)
    expect(() => clf(x6, [0, 1])).toThrow(LearnerInputError)
    expect(() => clf(x6, [0, 1, 0, 1, 0, 1], { max_depth: 0 })).toThrow(LearnerInputError)
    expect(() => clf(x6, [0, 1, 0, 1, 0, 1], { criterion: "squared_error" })).toThrow(LearnerInputError)
    const m = clf(x6, [0, 1, 0, 1, 0, 1])
    expect(() => decisionTree.predict(m, fromRows([[1, 2]]))).toThrow(LearnerInputError)
    expect(() => decisionTree.predict(m, fromRows([[NaN]]))).toThrow(LearnerInputError)
  })
})
