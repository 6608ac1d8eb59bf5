import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { rng, shuffleInPlace } from "../../src/domain/random.js"
import { linearRegression, ridge, type LinearRegressionModel } from "../../src/ml/linear.js"
import { fromRows, LearnerInputError, takeRows } from "../../src/ml/matrix.js"
import { californiaHousing } from "./data.js"
import { parity } from "./parityReference.js"

const reg = { task: "regression" as const, seed: 0 }

describe("linear regression", () => {
  it("2-feature OLS on an orthogonal design matches the hand-computed solution", () => {
    // centred columns x1 = (-1, 1, -1, 1), x2 = (-1, -1, 1, 1) are orthogonal with squared norm 4:
    // coef_j = Σ x_j·y / 4 → 6/4 = 1.5 and 8/4 = 2; intercept = mean(y) = 4 (residuals ±0.5)
    const x = fromRows([
      [-1, -1],
      [1, -1],
      [-1, 1],
      [1, 1]
    ])
    const m = linearRegression.fit(x, Float64Array.of(1, 3, 4, 8), { ...reg, params: {} })
    expect(m.coef[0]).toBeCloseTo(1.5, 14)
    expect(m.coef[1]).toBeCloseTo(2, 14)
    expect(m.intercept).toBeCloseTo(4, 14)
    expect(Array.from(linearRegression.predict(m, x)).map((v) => +v.toFixed(12))).toEqual([0.5, 3.5, 4.5, 7.5])
  })

  it("without an intercept, solves through the origin", () => {
    const m = linearRegression.fit(fromRows([[1], [2], [3]]), Float64Array.of(2, 4, 7), {
      ...reg,
      params: { fit_intercept: false }
    })
    // coef = Σxy / Σx² = (2 + 8 + 21) / 14
    expect(m.coef[0]).toBeCloseTo(31 / 14, 14)
    expect(m.intercept).toBe(0)
  })

  it("equals scikit-learn's coefficients to 1e-6 on all of california_housing", () => {
    // tests/ml/parity_reference.py: LinearRegression().fit(X, y) on data/raw/california_housing (sklearn 1.2.1)
    const { coef, intercept } = parity.linear.california_ols
    const d = californiaHousing()
    const m = linearRegression.fit(d.x, d.y, { ...reg, params: {} })
    m.coef.forEach((c, j) => expect(Math.abs(c - coef[j]!)).toBeLessThan(1e-6))
    expect(Math.abs(m.intercept - intercept)).toBeLessThan(1e-6)
  })

  it("property: permuting rows gives the same coefficients", () => {
    fc.assert(
      fc.property(
        // integer features keep the designs well scaled; near-singular ones are rejected or compared relatively
        fc.array(
          fc.tuple(
            fc.integer({ min: -50, max: 50 }),
            fc.integer({ min: -50, max: 50 }),
            fc.double({ min: -100, max: 100, noNaN: true })
          ),
          { minLength: 12, maxLength: 40 }
        ),
        fc.integer(),
        (rows, seed) => {
          const fit = (rs: Array<[number, number, number]>): LinearRegressionModel =>
            linearRegression.fit(
              fromRows(rs.map((r) => [r[0], r[1]])),
              Float64Array.from(rs, (r) => r[2]),
              { ...reg, params: {} }
            )
          let a: LinearRegressionModel
          try {
            a = fit(rows)
          } catch (e) {
            expect(e).toBeInstanceOf(LearnerInputError)
            return
          }
          const b = fit(shuffleInPlace(rows.slice(), rng(seed)))
          const close = (u: number, v: number) =>
            expect(Math.abs(u - v)).toBeLessThanOrEqual(1e-8 * Math.max(1, Math.abs(u)))
          a.coef.forEach((c, j) => close(c, b.coef[j]!))
          close(a.intercept, b.intercept)
        }
      ),
      { numRuns: 100 }
    )
  })

  it("property: finite inputs → finite predictions; a constant target → zero slopes", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e4, max: 1e4, noNaN: true }), fc.integer(), (c, seed) => {
        const r = rng(seed)
        const x = fromRows(Array.from({ length: 20 }, () => [r.normal(), r.normal() * 10, r.next()]))
        const m = linearRegression.fit(x, new Float64Array(20).fill(c), { ...reg, params: {} })
        m.coef.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-9 * Math.max(1, Math.abs(c))))
        expect(m.intercept).toBeCloseTo(c, 8)
        expect(linearRegression.predict(m, x).every(Number.isFinite)).toBe(true)
      }),
      { numRuns: 50 }
    )
  })

  it("rank-deficient X → LearnerInputError naming the column", () => {
    const x = fromRows([
      [1, 2, 5],
      [2, 4, 1],
      [3, 6, 2],
      [4, 8, 0]
    ])
    expect(() =>
      linearRegression.fit(x, Float64Array.of(1, 2, 3, 5), { ...reg, params: {}, featureNames: ["a", "twice_a", "c"] })
    ).toThrow(/feature twice_a is a linear combination/)
    const constant = fromRows([
      [1, 7],
      [2, 7],
      [3, 7]
    ])
    expect(() => linearRegression.fit(constant, Float64Array.of(1, 2, 4), { ...reg, params: {} })).toThrow(
      /#1 is constant/
    )
    expect(() => linearRegression.fit(fromRows([[1, 2]]), Float64Array.of(1), { ...reg, params: {} })).toThrow(
      LearnerInputError
    )
  })

  it("NaN → LearnerInputError naming the column; classification is not supported", () => {
    expect(() =>
      linearRegression.fit(
        fromRows([
          [1, NaN],
          [2, 3]
        ]),
        Float64Array.of(1, 2),
        { ...reg, params: {}, featureNames: ["u", "v"] }
      )
    ).toThrow(/feature v/)
    expect(() =>
      linearRegression.fit(fromRows([[1], [2]]), Float64Array.of(0, 1), {
        task: "classification",
        nClasses: 2,
        seed: 0,
        params: {}
      })
    ).toThrow(LearnerInputError)
  })

  it("JSON round trip gives identical predictions on 1,000 rows", () => {
    const d = californiaHousing()
    const m = linearRegression.fit(d.x, d.y, { ...reg, params: {} })
    const rows = takeRows(
      d.x,
      Int32Array.from({ length: 1000 }, (_, i) => i * 7)
    )
    const back = JSON.parse(JSON.stringify(m)) as LinearRegressionModel
    expect(Array.from(linearRegression.predict(back, rows))).toEqual(Array.from(linearRegression.predict(m, rows)))
  })
})

describe("ridge", () => {
  it("orthogonal design: coef_j = Σ x_j·y / (4 + alpha), intercept not penalised", () => {
    const x = fromRows([
      [-1, -1],
      [1, -1],
      [-1, 1],
      [1, 1]
    ])
    const m = ridge.fit(x, Float64Array.of(1, 3, 4, 8), { ...reg, params: { alpha: 1 } })
    expect(m.coef[0]).toBeCloseTo(6 / 5, 14)
    expect(m.coef[1]).toBeCloseTo(8 / 5, 14)
    expect(m.intercept).toBeCloseTo(4, 14)
  })

  it("equals scikit-learn's Ridge(alpha=10) to 1e-6 on all of california_housing", () => {
    // /usr/bin/python3: Ridge(alpha=10.0).fit(X, y) on data/raw/california_housing (sklearn 1.2.1)
    const coef = [
      0.4357188124457232, 0.009451896547417803, -0.10545641093292751, 0.635173670222908, -3.9161330448867415e-6,
      -0.0037847496944185027, -0.4211557507516876, -0.4342167889332597
    ]
    const d = californiaHousing()
    const m = ridge.fit(d.x, d.y, { ...reg, params: { alpha: 10 } })
    m.coef.forEach((c, j) => expect(Math.abs(c - coef[j]!)).toBeLessThan(1e-6))
    expect(Math.abs(m.intercept - -36.90812557111567)).toBeLessThan(1e-6)
  })

  it("handles collinear features (alpha > 0) and rejects a singular system with alpha = 0", () => {
    const x = fromRows([
      [1, 2],
      [2, 4],
      [3, 6],
      [4, 8]
    ])
    const m = ridge.fit(x, Float64Array.of(1, 2, 3, 4), { ...reg, params: {} })
    expect(m.coef[0]! * 1 + m.coef[1]! * 2).toBeGreaterThan(0.9)
    expect(m.coef.every(Number.isFinite)).toBe(true)
    expect(() => ridge.fit(x, Float64Array.of(1, 2, 3, 4), { ...reg, params: { alpha: 0 } })).toThrow(LearnerInputError)
    expect(() => ridge.fit(x, Float64Array.of(1, 2, 3, 4), { ...reg, params: { alpha: -1 } })).toThrow(
      LearnerInputError
    )
  })
})
