import { describe, expect, it } from "vitest"
import { binnedNumericShares, histogramBinEdges } from "../../src/stats/binning.js"
import { chiSquare, chiSquareCategories } from "../../src/stats/chi2.js"
import {
  jensenShannonCategories,
  jensenShannonDistance,
  jensenShannonNumericSorted
} from "../../src/stats/jensenShannon.js"
import { sortedFinite } from "../../src/stats/ks.js"
import { psiCategories, psiNumericSorted } from "../../src/stats/psi.js"
import { twoProportionZTest, zTestCategories } from "../../src/stats/ztest.js"
import { countsMap, expectP, expectRel, ref, sample } from "./scipyReference.js"

describe("Evidently's categorical tests (chi-square, Z, PSI, Jensen-Shannon) vs the SciPy reference", () => {
  for (const c of ref.categorical) {
    it(c.name, () => {
      const r = countsMap(c.ref)
      const cur = countsMap(c.cur)
      if (c.chisquare !== undefined) {
        const x = chiSquareCategories(r, cur)
        expectRel(x.statistic, c.chisquare.statistic, 1e-12, 1e-300, "chi-square statistic")
        expectP(x.pValue, c.chisquare.pvalue, "chi-square p")
      }
      const z = zTestCategories(r, cur)
      expectRel(z.statistic, c.ztest.statistic, 1e-12, 1e-300, "z statistic")
      expectP(z.pValue, c.ztest.pvalue, "z p")
      expectRel(psiCategories(r, cur), c.psi, 1e-12, 1e-300, "psi")
      expectRel(jensenShannonCategories(r, cur), c.jensenshannon, 1e-12, 1e-300, "js")
    })
  }
  it("a category unseen in the reference gives an infinite statistic and p = 0", () => {
    const x = chiSquareCategories(
      new Map([
        ["a", 10],
        ["b", 5]
      ]),
      new Map([
        ["a", 3],
        ["c", 4]
      ])
    )
    expect(x.statistic).toBe(Infinity)
    expect(x.pValue).toBe(0)
  })
  it("scipy.stats.chisquare checks that the totals agree", () => {
    expect(() => chiSquare([1, 2], [1, 1])).toThrow(/same total/)
    expect(chiSquare([2, 2], [2, 2]).pValue).toBe(1)
  })
  it("two-proportion z statistic by hand", () => {
    // p1 = 0.3, p2 = 0.5, pooled 0.4: z = -0.2 / sqrt(0.24 * (1/100 + 1/100))
    const r = twoProportionZTest(30, 100, 50, 100)
    expectRel(r.statistic, -0.2 / Math.sqrt(0.24 * 0.02), 1e-14)
  })
})

describe("Evidently's binned numeric PSI and Jensen-Shannon vs the reference", () => {
  for (const c of ref.numeric) {
    it(c.name, () => {
      const r = sortedFinite(sample(c.ref))
      const cur = sortedFinite(sample(c.cur))
      if (c.ref_unique > 20) {
        const b = binnedNumericShares(r, cur)
        expect(Array.from(b.edges ?? [])).toEqual(c.bin_edges)
        expectRel(psiNumericSorted(r, cur), c.psi, 1e-12, 1e-300, "psi")
        expectRel(jensenShannonNumericSorted(r, cur), c.jensenshannon, 1e-12, 1e-300, "js")
      } else {
        const count = (a: Float64Array) => {
          const m = new Map<number, number>()
          for (const v of a) m.set(v, (m.get(v) ?? 0) + 1)
          return m
        }
        expectRel(psiCategories(count(r), count(cur)), c.psi, 1e-12, 1e-300, "psi")
        expectRel(jensenShannonCategories(count(r), count(cur)), c.jensenshannon, 1e-12, 1e-300, "js")
      }
    })
  }
  it("scipy.spatial.distance.jensenshannon on raw vectors, base e and base 2", () => {
    for (const c of ref.jensenshannon_vectors) {
      expectRel(jensenShannonDistance(c.p, c.q), c.js, 1e-12, 1e-15, "js")
      expectRel(jensenShannonDistance(c.p, c.q, 2), c.js_base2, 1e-12, 1e-15, "js base 2")
    }
  })
  it("constant data gets one bin of width 1 like NumPy", () => {
    expect(Array.from(histogramBinEdges(5, 5, 70))).toEqual([4.5, 5.5])
  })
})
