import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { fitNumericImputer, nthSmallest } from "../../src/ml/preprocess.js"
import { rng } from "../../src/domain/random.js"

// The median imputer selects instead of sorting; its value must be the sorted array's middle, bit for bit
// (the transform, and so every model trained after it, depends on it).
const sortedMedian = (values: Float64Array): number => {
  let k = 0
  const p = new Float64Array(values.length)
  for (const v of values) if (!Number.isNaN(v)) p[k++] = v
  p.subarray(k).fill(Infinity)
  p.sort()
  const m = k >> 1
  return k % 2 === 1 ? p[m]! : (p[m - 1]! + p[m]!) / 2
}

describe("median imputer by selection", () => {
  it("equals the sorted middle on any values (duplicates, ±0, NaN, infinities)", () => {
    const value = fc.oneof(
      fc.double({ noNaN: false }),
      fc.constantFrom(0, -0, 1, -1, 2.5, NaN),
      fc.integer({ min: -3, max: 3 })
    )
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 60 }), (xs) => {
        const v = Float64Array.from(xs)
        fc.pre(v.some((x) => !Number.isNaN(x)))
        expect(Object.is(fitNumericImputer(v, "median").value, sortedMedian(v))).toBe(true)
      }),
      { numRuns: 3000 }
    )
  })

  it("a middle pair whose sum rounds to -0 stays -0 (subnormals): the sign fix applies to zeros, not to a zero mean", () => {
    // found by the property above: sorted -7e-323, -7e-323, 6.4e-323, 1 → (-7e-323 + 6.4e-323) / 2 = -0
    const v = Float64Array.from([1, 6.4e-323, -7e-323, -7e-323])
    expect(Object.is(fitNumericImputer(v, "median").value, sortedMedian(v))).toBe(true)
    expect(Object.is(sortedMedian(v), -0)).toBe(true)
    for (const zeros of [
      [-0, 0, -0, 0],
      [-0, -0, 0, 1],
      [0, 0, -0, -1],
      [-0, 0, 0]
    ]) {
      const z = Float64Array.from(zeros)
      expect(Object.is(fitNumericImputer(z, "median").value, sortedMedian(z))).toBe(true)
    }
  })

  it("on 1,000,001 and 1,000,000 values with many ties, and on sorted and reversed input", () => {
    const r = rng(5)
    for (const n of [1_000_001, 1_000_000]) {
      const v = new Float64Array(n)
      for (let i = 0; i < n; i++) v[i] = Math.floor(r.next() * 1000) / 10
      expect(fitNumericImputer(v, "median").value).toBe(sortedMedian(v))
      const asc = v.slice().sort()
      expect(fitNumericImputer(asc, "median").value).toBe(sortedMedian(v))
      expect(fitNumericImputer(asc.slice().reverse(), "median").value).toBe(sortedMedian(v))
    }
  })

  it("nthSmallest partitions around the k-th value", () => {
    const r = rng(11)
    const v = Float64Array.from({ length: 5001 }, () => Math.floor(r.next() * 50))
    const sorted = v.slice().sort()
    for (const k of [0, 1, 2500, 4999, 5000]) {
      const a = v.slice()
      expect(nthSmallest(a, k)).toBe(sorted[k])
      for (let i = 0; i < k; i++) expect(a[i]! <= a[k]!).toBe(true)
      for (let i = k + 1; i < a.length; i++) expect(a[i]! >= a[k]!).toBe(true)
    }
  })
})
