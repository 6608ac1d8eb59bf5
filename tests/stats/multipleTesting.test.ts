import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { benjaminiHochberg } from "../../src/stats/multipleTesting.js"
import { expectRel, ref } from "./scipyReference.js"

describe("Benjamini–Hochberg adjusted p-values", () => {
  it("match the statsmodels fdr_bh formula computed with NumPy", () => {
    for (const c of ref.bh) {
      const q = benjaminiHochberg(c.p)
      c.adjusted.forEach((e: number, i: number) => expectRel(q[i], e, 1e-14, 1e-300, `q[${i}]`))
    }
  })
  it("worked example", () => {
    // sorted p: 0.01, 0.02, 0.03, 0.04, 0.05 with m = 5 -> all become 0.05
    for (const q of benjaminiHochberg([0.05, 0.01, 0.03, 0.02, 0.04])) expect(q).toBeCloseTo(0.05, 15)
    const two = benjaminiHochberg([0.001, 0.5])
    expect(two[0]).toBeCloseTo(0.002, 15)
    expect(two[1]).toBe(0.5)
    const q = benjaminiHochberg([0.2, Number.NaN, 0.9])
    expect(q[1]).toBeNaN()
    expect(q[0]).toBeCloseTo(0.4, 15)
  })
  it("adjusted >= raw, <= 1, and monotone in the raw order", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 40 }), (p) => {
        const q = benjaminiHochberg(p)
        const order = p.map((_, i) => i).sort((a, b) => p[a] - p[b])
        for (let k = 0; k < p.length; k++) {
          expect(q[k]).toBeGreaterThanOrEqual(p[k])
          expect(q[k]).toBeLessThanOrEqual(1)
        }
        for (let k = 1; k < order.length; k++) expect(q[order[k]]).toBeGreaterThanOrEqual(q[order[k - 1]])
      })
    )
  })
})
