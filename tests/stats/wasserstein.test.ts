import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { sortedFinite } from "../../src/stats/ks.js"
import { npStd, pairwiseSum } from "../../src/stats/summation.js"
import { referenceStd, wassersteinDistance, wassersteinNormed, wassersteinSorted } from "../../src/stats/wasserstein.js"
import { expectRel, ref, sample } from "./scipyReference.js"

describe("wasserstein_distance vs SciPy", () => {
  for (const c of ref.numeric) {
    it(`${c.name}: distance and Evidently's normed form`, () => {
      const r = sample(c.ref)
      const cur = sample(c.cur)
      expectRel(wassersteinDistance(r, cur), c.wasserstein, 1e-12, 1e-300, "distance")
      expectRel(wassersteinSorted(sortedFinite(r), sortedFinite(cur)), c.wasserstein, 1e-12, 1e-300, "sorted")
      expectRel(referenceStd(r), c.ref_std, 1e-13, 1e-300, "std")
      expectRel(
        wassersteinNormed(wassersteinDistance(r, cur), referenceStd(r)),
        c.wasserstein_normed,
        1e-12,
        1e-300,
        "normed"
      )
    })
  }
  it("weighted distances", () => {
    for (const c of ref.wasserstein_weighted) {
      const d = wassersteinDistance(c.u, c.v, c.uw ?? undefined, c.vw ?? undefined)
      expectRel(d, c.distance, 1e-12, 1e-15, "weighted")
    }
  })
  it("NumPy-order sums and std", () => {
    for (const c of ref.std) {
      expectRel(npStd(sample(c.sample)), c.std, 1e-15, 0, `std ${c.sample}`)
      expectRel(pairwiseSum(sample(c.sample)), c.sum, 1e-15, 1e-13, `sum ${c.sample}`)
    }
  })
  it("rejects empty samples and bad weights", () => {
    expect(() => wassersteinDistance([], [1])).toThrow(/at least one value/)
    expect(() => wassersteinDistance([1, 2], [1], [1, -1])).toThrow(/non-negative/)
    expect(() => wassersteinDistance([1, 2], [1], [0, 0])).toThrow(/positive sum/)
  })
})

describe("properties", () => {
  const arb = fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 50 })
  it("is symmetric and zero for identical samples", () => {
    fc.assert(
      fc.property(arb, arb, (x, y) => {
        const a = wassersteinDistance(x, y)
        const b = wassersteinDistance(y, x)
        expect(a).toBeGreaterThanOrEqual(0)
        expectRel(b, a, 1e-12, 1e-12)
        expect(wassersteinDistance(x, x)).toBe(0)
      }),
      { numRuns: 300 }
    )
  })
  it("shifting one sample by c moves the distance by exactly |c| when the other is a copy", () => {
    fc.assert(
      fc.property(arb, fc.double({ min: -10, max: 10, noNaN: true }), (x, c) => {
        const y = x.map((v) => v + c)
        expectRel(wassersteinDistance(x, y), Math.abs(c), 1e-9, 1e-9)
      }),
      { numRuns: 200 }
    )
  })
})
