import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { fitNumericImputer, orderStatistic, orderStatisticPair } from "../../src/ml/preprocess.js"
import { rng } from "../../src/domain/random.js"
import { sortsInWasm } from "../../src/domain/sort.js"

// The median imputer selects instead of sorting (from 4,096 values it sorts a copy with the compiled radix
// sort); its value must be the sorted array's middle, bit for bit (the transform, and so every model trained
// after it, depends on it).
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

  it("from 4,096 values (a compiled sort of a copy): the same middle, bit for bit, and the column left as it was", () => {
    const value = fc.oneof(
      fc.double({ noNaN: false }),
      fc.constantFrom(0, -0, 1, -1, 2.5, NaN, 6.4e-323, -7e-323),
      fc.integer({ min: -3, max: 3 })
    )
    fc.assert(
      fc.property(fc.array(value, { minLength: 4096, maxLength: 6000 }), (xs) => {
        const v = Float64Array.from(xs)
        fc.pre(v.some((x) => !Number.isNaN(x)))
        const before = v.slice()
        expect(Object.is(fitNumericImputer(v, "median").value, sortedMedian(v))).toBe(true)
        for (let i = 0; i < v.length; i++) expect(Object.is(v[i], before[i])).toBe(true)
      }),
      { numRuns: 25, seed: 3 }
    )
    // distinct values (no ties to hide a wrong neighbour), even and odd counts, with and without NaN
    const r = rng(9)
    for (const n of [10_000, 10_001]) {
      for (const withNaN of [false, true]) {
        const v = Float64Array.from({ length: n }, (_, i) => ((i * 7919) % n) + 0.25 * Math.sin(i))
        if (withNaN) for (let i = 0; i < n; i += 97) v[i] = NaN
        for (let i = n - 1; i > 0; i--) {
          const j = Math.floor(r.next() * (i + 1))
          const t = v[i]!
          v[i] = v[j]!
          v[j] = t
        }
        const before = sortsInWasm()
        expect(Object.is(fitNumericImputer(v, "median").value, sortedMedian(v))).toBe(true)
        expect(sortsInWasm() - before).toBe(1)
      }
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

  it("orderStatistic gives the sorted array's k-th value, bit for bit, and leaves the input as it was", () => {
    const value = fc.oneof(
      fc.double({ noNaN: true }),
      fc.constantFrom(0, -0, 1, -1, 2.5, Infinity, -Infinity, 5e-324, -5e-324),
      fc.integer({ min: -3, max: 3 })
    )
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 300 }), fc.nat(), (xs, r) => {
        const a = Float64Array.from(xs)
        const before = a.slice()
        const sorted = a.slice().sort()
        const k = r % a.length
        expect(Object.is(orderStatistic(a, k), sorted[k])).toBe(true)
        if (k + 1 < a.length) {
          // the pair: ranks k and k + 1, also when they fall in different buckets of a pass
          const [lo, hi] = orderStatisticPair(a, k)
          expect(Object.is(lo, sorted[k]) && Object.is(hi, sorted[k + 1])).toBe(true)
        }
        expect(a).toEqual(before)
      }),
      { numRuns: 2000 }
    )
    // every rank of a large array whose values share their high bits (one bucket after the first pass)
    const r = rng(11)
    const near = Float64Array.from({ length: 5000 }, () => 1 + r.next() * 1e-9)
    const sorted = near.slice().sort()
    for (let k = 0; k < near.length - 1; k += 97) {
      expect(orderStatistic(near, k)).toBe(sorted[k])
      expect(orderStatisticPair(near, k)).toEqual([sorted[k], sorted[k + 1]])
    }
    expect(() => orderStatistic(near, near.length)).toThrow(RangeError)
  })
})
