import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { LearnerInputError } from "../../src/ml/matrix.js"
import { stratifiedSplit, trainTestSplit } from "../../src/ml/split.js"

const cover = (n: number, s: { train: Int32Array; test: Int32Array }) =>
  expect([...s.train, ...s.test].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i))

describe("splits", () => {
  it("stratified: keeps class proportions, rounds the test size up, disjoint cover, seeded", () => {
    const y = [...new Array(212).fill(1), ...new Array(357).fill(0)] // breast_cancer's class counts
    const s = stratifiedSplit(y, 0.3, 42)
    expect(s.test.length).toBe(171) // ceil(0.3 · 569), as scikit-learn
    expect(s.test.filter((i) => y[i] === 1).length).toBe(64) // 212 · 171 / 569 = 63.7
    cover(569, s)
    expect(stratifiedSplit(y, 0.3, 42)).toEqual(s)
    expect(stratifiedSplit(y, 0.3, 43)).not.toEqual(s)
  })

  it("property: any labels → a disjoint cover with per-class counts within 1 of the quota", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 200 }),
        fc.double({ min: 0.1, max: 0.5, noNaN: true }),
        fc.integer(),
        (y, frac, seed) => {
          const s = stratifiedSplit(y, frac, seed)
          cover(y.length, s)
          expect(s.test.length).toBe(Math.ceil(frac * y.length))
          for (const c of new Set(y)) {
            const nc = y.filter((v) => v === c).length
            const tc = [...s.test].filter((i) => y[i] === c).length
            expect(Math.abs(tc - (nc * s.test.length) / y.length)).toBeLessThanOrEqual(1)
          }
        }
      ),
      { numRuns: 100 }
    )
  })

  it("random split: sizes, cover, seeded; bad fractions are rejected", () => {
    const s = trainTestSplit(100, 0.2, 1)
    expect(s.test.length).toBe(20)
    cover(100, s)
    expect(trainTestSplit(100, 0.2, 1)).toEqual(s)
    expect(() => trainTestSplit(100, 1.5, 1)).toThrow(LearnerInputError)
    expect(() => trainTestSplit(1, 0.5, 1)).toThrow(LearnerInputError)
  })
})
