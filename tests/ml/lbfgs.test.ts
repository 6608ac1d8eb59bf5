import { describe, expect, it } from "vitest"
import { minimizeLbfgs } from "../../src/ml/lbfgs.js"

describe("L-BFGS", () => {
  it("minimises the Rosenbrock function to (1, 1)", () => {
    const res = minimizeLbfgs(
      (x, g) => {
        const a = x[0]!,
          b = x[1]!
        g[0] = -2 * (1 - a) - 400 * a * (b - a * a)
        g[1] = 200 * (b - a * a)
        return (1 - a) ** 2 + 100 * (b - a * a) ** 2
      },
      Float64Array.of(-1.2, 1),
      { maxIter: 200, gtol: 1e-8, ftol: 0 }
    )
    expect(res.converged).toBe(true)
    expect(res.reason).toBe("gradient")
    expect(res.x[0]).toBeCloseTo(1, 6)
    expect(res.x[1]).toBeCloseTo(1, 6)
  })

  it("solves a quadratic exactly and reports zero iterations at a stationary start", () => {
    // f = ½ Σ d_i (x_i - i)²
    const fg = (x: Float64Array, g: Float64Array) => {
      let f = 0
      for (let i = 0; i < x.length; i++) {
        const d = i + 1
        g[i] = d * (x[i]! - i)
        f += 0.5 * d * (x[i]! - i) ** 2
      }
      return f
    }
    const res = minimizeLbfgs(fg, new Float64Array(6), { maxIter: 100, gtol: 1e-10, ftol: 0 })
    expect(res.converged).toBe(true)
    res.x.forEach((v, i) => expect(v).toBeCloseTo(i, 8))
    const at = minimizeLbfgs(fg, Float64Array.of(0, 1, 2, 3, 4, 5), { maxIter: 100, gtol: 1e-10 })
    expect(at.iterations).toBe(0)
    expect(at.converged).toBe(true)
  })

  it("stops at max_iter without claiming convergence", () => {
    const res = minimizeLbfgs(
      (x, g) => {
        const a = x[0]!,
          b = x[1]!
        g[0] = -2 * (1 - a) - 400 * a * (b - a * a)
        g[1] = 200 * (b - a * a)
        return (1 - a) ** 2 + 100 * (b - a * a) ** 2
      },
      Float64Array.of(-1.2, 1),
      { maxIter: 3, gtol: 1e-12, ftol: 0 }
    )
    expect(res.converged).toBe(false)
    expect(res.reason).toBe("max_iter")
    expect(res.iterations).toBe(3)
  })
})
