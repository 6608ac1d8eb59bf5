import { describe, expect, it } from "vitest"
import { chi2Sf, normCdf } from "../../src/stats/distributions.js"
import { erf, erfc, gammainc, gammaincc, lgamma } from "../../src/stats/gamma.js"
import { kolmogorov, kstwoSf, kstwoSfMethod, smirnov } from "../../src/stats/kolmogorov.js"
import { expectRel, ref } from "./scipyReference.js"

describe("incomplete gamma vs scipy.special.gammainc / gammaincc", () => {
  // Both implementations carry an error of about |ln value| * 2.2e-16 from the exponential prefactor,
  // so below 1e-100 we allow 1e-11 (mpmath at a = 5000, x = 8000: ours 2e-15 off, SciPy's 3.7e-12).
  const tol = (v: number) => (v < 1e-100 ? 1e-11 : 1e-12)
  it("matches on a grid of a and x to 1e-12 relative", () => {
    for (const c of ref.gamma) {
      expectRel(gammaincc(c.a, c.x), c.q, tol(c.q), 1e-300, `gammaincc(${c.a}, ${c.x})`)
      expectRel(gammainc(c.a, c.x), c.p, tol(c.p), 1e-300, `gammainc(${c.a}, ${c.x})`)
    }
  })
  it("lgamma at integers and half-integers", () => {
    expectRel(lgamma(1), 0, 0, 1e-14)
    expectRel(lgamma(5), Math.log(24), 1e-14)
    expectRel(lgamma(0.5), 0.5 * Math.log(Math.PI), 1e-14)
    expectRel(lgamma(100), 359.13420536957539878, 1e-14)
  })
})

describe("chi-square survival function vs scipy.stats.chi2.sf", () => {
  it("matches to 1e-12 relative", () => {
    for (const c of ref.chi2) expectRel(chi2Sf(c.x, c.df), c.sf, 1e-12, 1e-300, `chi2.sf(${c.x}, ${c.df})`)
  })
  it("is NaN for df = 0 and 0 at infinity", () => {
    expect(chi2Sf(3, 0)).toBeNaN()
    expect(chi2Sf(Infinity, 3)).toBe(0)
    expect(chi2Sf(0, 3)).toBe(1)
  })
})

describe("normal CDF and erf vs scipy.special", () => {
  it("ndtr", () => {
    for (const c of ref.ndtr) expectRel(normCdf(c.x), c.cdf, 1e-13, 1e-300, `ndtr(${c.x})`)
  })
  it("erf / erfc", () => {
    for (const c of ref.erf) {
      expectRel(erf(c.x), c.erf, 1e-13, 1e-300, `erf(${c.x})`)
      expectRel(erfc(c.x), c.erfc, 1e-12, 1e-300, `erfc(${c.x})`)
    }
  })
})

describe("Kolmogorov–Smirnov distributions", () => {
  it("kolmogorov(x) matches scipy.special.kolmogorov", () => {
    for (const c of ref.kolmogorov) expectRel(kolmogorov(c.x), c.sf, 1e-13, 1e-300, `kolmogorov(${c.x})`)
  })
  it("smirnov(n, x) matches scipy.special.smirnov", () => {
    for (const c of ref.smirnov) expectRel(smirnov(c.n, c.x), c.sf, 1e-11, 1e-300, `smirnov(${c.n}, ${c.x})`)
  })
  it("kstwo.sf(x, n) matches SciPy on every branch of kolmogn", () => {
    const branches = new Set<string>()
    for (const c of ref.kstwo) {
      expect(kstwoSfMethod(c.x, c.n)).toBe(c.branch)
      branches.add(c.branch)
      expectRel(kstwoSf(c.x, c.n), c.sf, 1e-10, 1e-15, `kstwo.sf(${c.x}, ${c.n}) [${c.branch}]`)
    }
    expect([...branches].sort()).toEqual([
      "dmtw",
      "pelz-good",
      "pomeranz",
      "ruben-gambino-high",
      "ruben-gambino-low",
      "smirnov",
      "support-high",
      "support-low",
      "zero"
    ])
  })
})
