/**
 * L-BFGS (unconstrained) with a strong-Wolfe line search, following scipy's L-BFGS-B defaults as
 * scikit-learn calls it: memory 10, line search c1 = 1e-3, c2 = 0.9, at most 20 evaluations per
 * search, stop when max|g| ≤ gtol or the relative decrease of f ≤ ftol.
 */

/** Writes the gradient at x into `grad` and returns f(x). Must not keep references to x or grad. */
export type Objective = (x: Float64Array, grad: Float64Array) => number

export interface LbfgsOptions {
  readonly maxIter: number
  /** Stop when the largest gradient component is ≤ gtol. */
  readonly gtol: number
  /** Stop when (f_k - f_k+1) / max(|f_k|, |f_k+1|, 1) ≤ ftol (scipy's default 2.22e-9). */
  readonly ftol?: number
  readonly memory?: number
  readonly maxLineSearch?: number
}

export interface LbfgsResult {
  readonly x: Float64Array
  readonly f: number
  readonly iterations: number
  readonly converged: boolean
  /** "gradient", "relative_reduction", "max_iter" or "line_search". */
  readonly reason: "gradient" | "relative_reduction" | "max_iter" | "line_search"
  readonly evaluations: number
}

const C1 = 1e-3
const C2 = 0.9

const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!
  return s
}

const maxAbs = (a: Float64Array): number => {
  let m = 0
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!)
    if (v > m) m = v
  }
  return m
}

export const minimizeLbfgs = (fg: Objective, x0: Float64Array, options: LbfgsOptions): LbfgsResult => {
  const n = x0.length
  const mem = options.memory ?? 10
  const ftol = options.ftol ?? 2.220446049250313e-9
  const maxLs = options.maxLineSearch ?? 20
  const x = Float64Array.from(x0)
  const g = new Float64Array(n)
  const xt = new Float64Array(n)
  const gt = new Float64Array(n)
  const d = new Float64Array(n)
  const S = Array.from({ length: mem }, () => new Float64Array(n))
  const Y = Array.from({ length: mem }, () => new Float64Array(n))
  const rho = new Float64Array(mem)
  const alphaBuf = new Float64Array(mem)
  let stored = 0,
    head = 0
  let evaluations = 1
  let f = fg(x, g)
  if (!Number.isFinite(f)) throw new RangeError(`objective is not finite at the starting point (${f})`)
  if (maxAbs(g) <= options.gtol) {
    return { x, f, iterations: 0, converged: true, reason: "gradient", evaluations }
  }

  // phi(alpha) = f(x + alpha d): evaluates into xt/gt
  let ft = 0
  const evalAt = (alpha: number): number => {
    for (let i = 0; i < n; i++) xt[i] = x[i]! + alpha * d[i]!
    ft = fg(xt, gt)
    evaluations++
    return dot(gt, d)
  }

  // Strong-Wolfe line search (Nocedal & Wright, algorithms 3.5 and 3.6); true when xt/gt/ft hold the accepted point.
  const lineSearch = (alphaInit: number, f0: number, dphi0: number): boolean => {
    let evals = 0
    const zoom = (lo: number, hi: number, flo: number, fhi: number, dlo: number, dhi: number): boolean => {
      while (evals < maxLs) {
        // cubic interpolation, safeguarded to the inner 80% of the bracket
        const d1 = dlo + dhi - (3 * (flo - fhi)) / (lo - hi)
        const disc = d1 * d1 - dlo * dhi
        let a = NaN
        if (disc >= 0) {
          const d2 = Math.sign(hi - lo) * Math.sqrt(disc)
          a = hi - (hi - lo) * ((dhi + d2 - d1) / (dhi - dlo + 2 * d2))
        }
        const lo2 = Math.min(lo, hi),
          hi2 = Math.max(lo, hi),
          w = hi2 - lo2
        if (!Number.isFinite(a) || a < lo2 + 0.1 * w || a > hi2 - 0.1 * w) a = (lo + hi) / 2
        const da = evalAt(a)
        evals++
        if (!Number.isFinite(ft) || ft > f0 + C1 * a * dphi0 || ft >= flo) {
          hi = a
          fhi = ft
          dhi = da
        } else {
          if (Math.abs(da) <= -C2 * dphi0) return true
          if (da * (hi - lo) >= 0) {
            hi = lo
            fhi = flo
            dhi = dlo
          }
          lo = a
          flo = ft
          dlo = da
        }
        if (Math.abs(hi - lo) < 1e-16 * Math.max(1, Math.abs(lo))) break
      }
      // no point met the curvature condition: accept the best point with sufficient decrease
      if (lo > 0 && flo <= f0 + C1 * lo * dphi0) {
        evalAt(lo)
        return true
      }
      return false
    }
    let prev = 0,
      fprev = f0,
      dprev = dphi0
    let a = alphaInit
    while (evals < maxLs) {
      const da = evalAt(a)
      evals++
      if (!Number.isFinite(ft) || ft > f0 + C1 * a * dphi0 || (evals > 1 && ft >= fprev)) {
        return zoom(prev, a, fprev, ft, dprev, da)
      }
      if (Math.abs(da) <= -C2 * dphi0) return true
      if (da >= 0) return zoom(a, prev, ft, fprev, da, dprev)
      prev = a
      fprev = ft
      dprev = da
      a *= 2
    }
    return false
  }

  let iterations = 0
  for (;;) {
    if (iterations >= options.maxIter) {
      return { x, f, iterations, converged: false, reason: "max_iter", evaluations }
    }
    // two-loop recursion: d = -H g
    for (let i = 0; i < n; i++) d[i] = -g[i]!
    for (let k = 0; k < stored; k++) {
      const j = (head - 1 - k + mem) % mem
      const a = rho[j]! * dot(S[j]!, d)
      alphaBuf[j] = a
      const y = Y[j]!
      for (let i = 0; i < n; i++) d[i] = d[i]! - a * y[i]!
    }
    if (stored > 0) {
      const j = (head - 1 + mem) % mem
      const gamma = dot(S[j]!, Y[j]!) / dot(Y[j]!, Y[j]!)
      for (let i = 0; i < n; i++) d[i] = d[i]! * gamma
    }
    for (let k = stored - 1; k >= 0; k--) {
      const j = (head - 1 - k + mem) % mem
      const b = rho[j]! * dot(Y[j]!, d)
      const s = S[j]!
      const a = alphaBuf[j]!
      for (let i = 0; i < n; i++) d[i] = d[i]! + (a - b) * s[i]!
    }
    let dphi0 = dot(g, d)
    if (!(dphi0 < 0)) {
      // not a descent direction (numerical trouble): restart from steepest descent
      stored = 0
      for (let i = 0; i < n; i++) d[i] = -g[i]!
      dphi0 = dot(g, d)
    }
    const alphaInit = stored === 0 ? Math.min(1, 1 / Math.sqrt(dot(d, d))) : 1
    if (!lineSearch(alphaInit, f, dphi0)) {
      return { x, f, iterations, converged: false, reason: "line_search", evaluations }
    }
    iterations++
    // update memory with s = xt - x, y = gt - g
    const s = S[head]!,
      y = Y[head]!
    for (let i = 0; i < n; i++) {
      s[i] = xt[i]! - x[i]!
      y[i] = gt[i]! - g[i]!
    }
    const sy = dot(s, y)
    if (sy > 2.220446049250313e-16 * dot(y, y)) {
      rho[head] = 1 / sy
      head = (head + 1) % mem
      if (stored < mem) stored++
    }
    const fOld = f
    x.set(xt)
    g.set(gt)
    f = ft
    if ((fOld - f) / Math.max(Math.abs(fOld), Math.abs(f), 1) <= ftol) {
      return { x, f, iterations, converged: true, reason: "relative_reduction", evaluations }
    }
    if (maxAbs(g) <= options.gtol) {
      return { x, f, iterations, converged: true, reason: "gradient", evaluations }
    }
  }
}
