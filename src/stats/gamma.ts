/**
 * Log-gamma and the regularised incomplete gamma functions P(a, x) and Q(a, x) = 1 - P(a, x),
 * plus erf/erfc built on them. Accuracy target: 1e-13 relative against SciPy's cephes
 * (`gammainc`, `gammaincc`, `chdtrc`), checked against bench/scipy_reference.json.
 *
 * The prefactor x^a e^-x / Gamma(a) is the usual source of error; for a >= 10 it is computed as
 * exp(a * log1pmx((x - a) / a)) * sqrt(a / 2pi) * exp(-stirling(a)), which keeps the error at the
 * size that is inherent to the exponent instead of growing with a * log(x).
 */

const LOG_SQRT_2PI = 0.91893853320467274178
const EPS = 2.220446049250313e-16
const MAX_ITER = 200_000

/** Stirling series correction: lgamma(a) - ((a - 0.5) ln a - a + ln sqrt(2pi)), for a >= 10. */
const stirlingCorrection = (a: number): number => {
  const r = 1 / a
  const r2 = r * r
  // Bernoulli terms B_2k / (2k (2k-1) a^(2k-1)), enough for 1e-17 at a = 10
  return (
    r *
    (1 / 12 -
      r2 *
        (1 / 360 -
          r2 *
            (1 / 1260 -
              r2 * (1 / 1680 - r2 * (1 / 1188 - r2 * (691 / 360360 - r2 * (1 / 156 - r2 * (3617 / 122400))))))))
  )
}

/** log(1 + t) - t, accurate near t = 0. */
export const log1pmx = (t: number): number => {
  if (Math.abs(t) < 0.5) {
    // log(1+t) = 2 atanh(u) with u = t / (2 + t); 2u - t = -t^2 / (2 + t)
    const u = t / (2 + t)
    const u2 = u * u
    let term = u * u2
    let s = 0
    for (let k = 3; k < 200; k += 2) {
      const c = term / k
      s += c
      if (Math.abs(c) <= EPS * Math.abs(s) * 0.25) break
      term *= u2
    }
    return -(t * t) / (2 + t) + 2 * s
  }
  return Math.log1p(t) - t
}

/** ln |Gamma(a)| for a > 0. */
export const lgamma = (a: number): number => {
  if (!(a > 0)) return Number.NaN
  if (!Number.isFinite(a)) return Infinity
  if (a >= 10) return (a - 0.5) * Math.log(a) - a + LOG_SQRT_2PI + stirlingCorrection(a)
  // shift up with Gamma(a) = Gamma(a + k) / (a (a+1) ... (a+k-1))
  let prod = 1
  let z = a
  while (z < 10) {
    prod *= z
    z += 1
  }
  return (z - 0.5) * Math.log(z) - z + LOG_SQRT_2PI + stirlingCorrection(z) - Math.log(prod)
}

/** log(x^a e^-x / Gamma(a)). */
const logPrefactor = (a: number, x: number): number => {
  if (a >= 10) {
    // near x = a the log1pmx form avoids cancellation; far from it log(x / a) is the accurate one
    const t = (x - a) / a
    const main = Math.abs(t) < 0.5 ? a * log1pmx(t) : a * Math.log(x / a) + (a - x)
    return main + 0.5 * Math.log(a) - LOG_SQRT_2PI - stirlingCorrection(a)
  }
  return a * Math.log(x) - x - lgamma(a)
}

/** Series for P(a, x) (DLMF 8.11.4), without the prefactor. */
const pSeries = (a: number, x: number): number => {
  let r = a
  let c = 1
  let sum = 1
  for (let i = 0; i < MAX_ITER; i++) {
    r += 1
    c *= x / r
    sum += c
    if (c <= EPS * sum * 0.5) break
  }
  return sum / a
}

/** Continued fraction for Q(a, x) (modified Lentz), without the prefactor. */
const qContinuedFraction = (a: number, x: number): number => {
  const TINY = 1e-300
  let b = x + 1 - a
  let c = 1 / TINY
  let d = 1 / b
  let h = d
  for (let i = 1; i < MAX_ITER; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < TINY) d = TINY
    c = b + an / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    const del = d * c
    h *= del
    if (Math.abs(del - 1) <= EPS * 0.5) break
  }
  return h
}

/** Regularised lower incomplete gamma P(a, x) (scipy.special.gammainc). */
export const gammainc = (a: number, x: number): number => {
  if (Number.isNaN(a) || Number.isNaN(x) || a < 0 || x < 0) return Number.NaN
  if (a === 0) return x > 0 ? 1 : Number.NaN
  if (x === 0) return 0
  if (!Number.isFinite(x)) return 1
  if (x < a + 1) return Math.exp(logPrefactor(a, x)) * pSeries(a, x)
  return 1 - Math.exp(logPrefactor(a, x)) * qContinuedFraction(a, x)
}

/** Regularised upper incomplete gamma Q(a, x) (scipy.special.gammaincc). */
export const gammaincc = (a: number, x: number): number => {
  if (Number.isNaN(a) || Number.isNaN(x) || a < 0 || x < 0) return Number.NaN
  if (a === 0) return x > 0 ? 0 : Number.NaN
  if (x === 0) return 1
  if (!Number.isFinite(x)) return 0
  if (x < a + 1) return 1 - Math.exp(logPrefactor(a, x)) * pSeries(a, x)
  const lp = logPrefactor(a, x)
  if (lp < -745.2) return 0
  return Math.exp(lp) * qContinuedFraction(a, x)
}

const TWO_OVER_SQRT_PI = 1.1283791670955126

/** erf(x); a short Maclaurin series near 0, the incomplete gamma elsewhere. */
export const erf = (x: number): number => {
  if (Number.isNaN(x)) return x
  const z = Math.abs(x)
  if (z < 0.5) {
    const x2 = x * x
    let term = x
    let sum = x
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n
      const c = term / (2 * n + 1)
      sum += c
      if (Math.abs(c) <= EPS * Math.abs(sum) * 0.25) break
    }
    return TWO_OVER_SQRT_PI * sum
  }
  const r = gammainc(0.5, z * z)
  return x < 0 ? -r : r
}

/** erfc(x) = 1 - erf(x), without cancellation for large x. */
export const erfc = (x: number): number => {
  if (Number.isNaN(x)) return x
  if (x < 0.5) return 1 - erf(x)
  return gammaincc(0.5, x * x)
}
