import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ks2samp, ks2sampSorted, probOutsideBand, probOutsideSquare, sortedFinite } from "../../src/stats/ks.js"
import { expectP, expectRel, ref, sample } from "./scipyReference.js"

describe("ks2samp vs scipy.stats.ks_2samp (two-sided, method auto)", () => {
  for (const c of ref.ks) {
    it(`${c.name} [${c.method}/${c.branch}]`, () => {
      const r = ks2samp(sample(c.x), sample(c.y))
      expect(r.method).toBe(c.method)
      expectRel(r.statistic, c.statistic, 1e-12, 0, "statistic")
      expectP(r.pValue, c.pvalue, "p-value")
      expect(r.statisticLocation).toBe(c.location)
      expect(r.statisticSign).toBe(c.sign)
    })
  }
  it("covers the exact (square and band) and every asymptotic branch", () => {
    const branches = new Set(ref.ks.map((c: { branch: string }) => c.branch))
    for (const b of ["square", "band", "dmtw", "pomeranz", "pelz-good", "smirnov", "zero", "ruben-gambino-low"]) {
      expect(branches.has(b), b).toBe(true)
    }
  })
})

describe("exact lattice-path probabilities vs SciPy's private helpers", () => {
  it("_compute_outer_prob_inside_method (n1 != n2)", () => {
    for (const c of ref.ks_band) expectP(probOutsideBand(c.m, c.n, c.g, c.h), c.p, `band(${c.m}, ${c.n}, ${c.h})`)
  })
  it("skips the recursion far in the tail, where SciPy's answer is 0", () => {
    // SciPy: _compute_outer_prob_inside_method(10000, 9999, 1, lcm) == 0.0 and ks_2samp gives D = 1, p = 0.0
    const r = ks2samp(
      Float64Array.from({ length: 10000 }, (_, i) => i),
      Float64Array.from({ length: 9999 }, (_, i) => i + 20000)
    )
    expect(r.statistic).toBe(1)
    expect(r.pValue).toBe(0)
  })
  it("_compute_prob_outside_square (n1 == n2)", () => {
    for (const c of ref.ks_square) expectP(probOutsideSquare(c.n, c.h), c.p, `square(${c.n}, ${c.h})`)
  })
})

describe("ks2sampSorted on a pre-sorted reference", () => {
  it("does not modify or re-sort its inputs and equals ks2samp", () => {
    const a = sortedFinite(sample("n1000_a"))
    const b = sortedFinite(sample("n1000_b"))
    const aCopy = a.slice()
    const r = ks2sampSorted(a, b)
    expect(a).toEqual(aCopy)
    expect(r).toEqual(ks2samp(sample("n1000_a"), sample("n1000_b")))
  })
  it("drops NaN in ks2samp and rejects empty samples", () => {
    const r = ks2samp(Float64Array.of(1, Number.NaN, 2), Float64Array.of(1, 2))
    expect(r.n1).toBe(2)
    expect(r.statistic).toBe(0)
    expect(() => ks2samp([], [1])).toThrow(/at least one value/)
  })
  it("method asymp and exact can be forced", () => {
    const x = sample("n200")
    const y = sample("n317_shift")
    expect(ks2samp(x, y, "asymp").method).toBe("asymp")
    expect(ks2samp(x, y, "exact").method).toBe("exact")
  })
})

describe("properties", () => {
  const sampleArb = fc.array(
    fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
    {
      minLength: 1,
      maxLength: 60
    }
  )
  it("statistic and p-value lie in [0, 1]; identical samples give D = 0, p = 1", () => {
    fc.assert(
      fc.property(sampleArb, sampleArb, (x, y) => {
        const r = ks2samp(x, y)
        expect(r.statistic).toBeGreaterThanOrEqual(0)
        expect(r.statistic).toBeLessThanOrEqual(1)
        expect(r.pValue).toBeGreaterThanOrEqual(0)
        expect(r.pValue).toBeLessThanOrEqual(1)
        const s = ks2samp(x, x)
        expect(s.statistic).toBe(0)
        expect(s.pValue).toBe(1)
      }),
      { numRuns: 300 }
    )
  })
  it("is symmetric in its two samples (statistic and p-value)", () => {
    fc.assert(
      fc.property(sampleArb, sampleArb, (x, y) => {
        const a = ks2samp(x, y)
        const b = ks2samp(y, x)
        expect(b.statistic).toBe(a.statistic)
        expectRel(b.pValue, a.pValue, 1e-12, 1e-300)
      }),
      { numRuns: 200 }
    )
  })
})
