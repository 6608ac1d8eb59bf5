/**
 * Kolmogorov–Smirnov distributions, re-implemented from SciPy 1.10:
 *  - kolmogorov(x): survival function of the limiting Kolmogorov distribution
 *    (scipy.special.kolmogorov, cephes kolmogorov.c),
 *  - smirnov(n, x): survival function of the exact one-sided statistic D+_n
 *    (scipy.special.smirnov; Birnbaum–Tingey sum in double-double arithmetic, van Mulbregt 2018),
 *  - kstwoSf(x, n): survival function of the exact two-sided one-sample statistic D_n
 *    (scipy.stats.kstwo.sf, i.e. scipy.stats._ksstats.kolmogn: Simard & L'Ecuyer's choice between
 *    Ruben–Gambino, Durbin/Marsaglia–Tsang–Wang, Pomeranz, Pelz–Good and 2 * smirnov).
 * ks_2samp's asymptotic p-value is kstwoSf(d, round(m n / (m + n))).
 */
import * as DDM from "./doubleDouble.js"
import type { DD } from "./doubleDouble.js"
import * as FB from "./floatBits.js"
import { pairwiseSum } from "./summation.js"

// Bind the helpers to locals once: module-namespace access can go through getters under some
// loaders (tsx, vitest), which costs more than the arithmetic in these loops.
const {
  add,
  addD,
  addDD,
  dd,
  DD_ONE,
  DD_ZERO,
  div,
  divD,
  divDD,
  floorDD,
  frexpDD,
  inv,
  isFiniteDD,
  isZero,
  ldexpDD,
  mul,
  mulD,
  mulDD,
  sub,
  toDouble
} = DDM
const { ldexp } = FB

const clip01 = (p: number): number => (p < 0 ? 0 : p > 1 ? 1 : p)
const PI2 = Math.PI * Math.PI
const PI4 = PI2 * PI2
const PI6 = PI4 * PI2
const SQRT2PI = Math.sqrt(2 * Math.PI)
const LOG_2PI = Math.log(2 * Math.PI)
const SQRT3 = Math.sqrt(3)
const EP128 = 3.402823669209385e38 // 2^128
const EM128 = 2.938735877055719e-39 // 2^-128
const DBL_EPSILON = 2.220446049250313e-16
const MINLOG = -7.451332191019412076235e2 // cephes: log(2^-1075)

// ───────────────────────────── limiting distribution ─────────────────────────────

/** Survival function of the Kolmogorov distribution: P(sqrt(n) D_n > x) as n -> infinity. */
export const kolmogorov = (x: number): number => {
  if (Number.isNaN(x)) return x
  if (x <= 0) return 1
  if (x <= Math.PI / Math.sqrt(746 * 8)) return 1
  if (x <= 0.82) {
    // P = w u (1 + u^8 + u^24 + u^48), u = exp(-pi^2 / 8x^2), w = sqrt(2pi) / x; cdf = P
    const w = SQRT2PI / x
    const logu8 = -PI2 / (x * x)
    const u = Math.exp(logu8 / 8)
    let P: number
    if (u === 0) {
      P = Math.exp(logu8 / 8 + Math.log(w))
    } else {
      const u8 = Math.exp(logu8)
      const u8cub = Math.pow(u8, 3)
      P = 1 + u8cub * 1
      P = 1 + u8 * u8 * P
      P = 1 + u8 * P
      P = w * u * P
    }
    return clip01(1 - P)
  }
  // sf = 2 (v - v^4 + v^9 - v^16), v = exp(-2x^2)
  const v = Math.exp(-2 * x * x)
  const vsq = v * v
  const v3 = Math.pow(v, 3)
  let P = 1
  P = 1 - v3 * v3 * v * P
  P = 1 - v3 * vsq * P
  P = 1 - v3 * P
  return clip01(2 * v * P)
}

// ───────────────────────────── one-sided exact (Smirnov) ─────────────────────────────

const powD = (a: DD, m: number): DD => {
  if (m <= 0) {
    if (m === 0) return DD_ONE
    return inv(powD(a, -m))
  }
  if (isZero(a)) return DD_ZERO
  const ans = Math.pow(a.hi, m)
  const r = a.lo / a.hi
  let adj = m * r
  if (Math.abs(adj) > 1e-8) {
    if (Math.abs(adj) < 1e-4) adj += m * r * (((m - 1) / 2.0) * r)
    else adj = Math.expm1(m * Math.log1p(r))
  }
  return addDD(ans, ans * adj)
}

const MAX_EXPONENT = 960

const nextPowerOf2 = (x: number): number => {
  // SciPy's helper, reproduced as written (it rounds x up by an ulp rather than to a power of two)
  const q = ldexp(x, 1 - 53)
  let L = Math.abs(q + x)
  if (L === 0) L = Math.abs(x)
  else {
    const Lint = Math.trunc(L)
    if (Lint === L) L = Lint
  }
  return L
}

/** a^m as (significand, exponent) so that huge and tiny powers stay representable. */
const pow2ScaledD = (a: DD, m: number): { v: DD; e: number } => {
  if (m <= 0) {
    if (m === 0) return { v: DD_ONE, e: 0 }
    const r = pow2ScaledD(a, -m)
    const f = frexpDD(inv(r.v))
    return { v: f.man, e: -r.e + f.exponent }
  }
  const fy = frexpDD(a)
  const y = fy.man
  const yE = fy.exponent
  if (m === 1) return { v: y, e: yE }
  let maxExpt = MAX_EXPONENT
  if ((m * (y.hi - 1)) / y.hi < -MAX_EXPONENT * Math.LN2) {
    const lg2y = Math.log(y.hi) / Math.LN2
    const lgAns = m * lg2y
    if (lgAns <= -MAX_EXPONENT) maxExpt = Math.trunc(nextPowerOf2(-MAX_EXPONENT / lg2y + 1) / 2)
  }
  if (m <= maxExpt) {
    const f = frexpDD(powD(y, m))
    return { v: f.man, e: f.exponent + m * yE }
  }
  const q = Math.trunc(m / maxExpt)
  const r = m % maxExpt
  const y2r = pow2ScaledD(y, r)
  const y2m = pow2ScaledD(y, maxExpt)
  const y2mq = pow2ScaledD(y2m.v, q)
  const f = frexpDD(mul(y2r.v, y2mq.v))
  return { v: f.man, e: f.exponent + (y2mq.e + y2m.e * q) + y2r.e + m * yE }
}

/** ((a + b) / (c + d))^m in double-double. */
const pow4D = (a: number, b: number, c: number, d: number, m: number): DD => {
  if (m <= 0) {
    if (m === 0) return DD_ONE
    return pow4D(c, d, a, b, -m)
  }
  const A = addDD(a, b)
  const C = addDD(c, d)
  if (isZero(A)) return isZero(C) ? dd(Number.NaN) : DD_ZERO
  if (isZero(C)) return A.hi < 0 ? dd(-Infinity) : dd(Infinity)
  return powD(div(A, C), m)
}

/** Survival function of the one-sided KS statistic: P(D+_n >= x) (scipy.special.smirnov). */
export const smirnov = (n: number, x: number): number => {
  if (Number.isNaN(x)) return x
  if (!(n > 0 && x >= 0 && x <= 1)) return Number.NaN
  if (n === 1) return 1 - x
  if (x === 0) return 1
  if (x === 1) return 0

  // floor(n x) and its fractional part, exactly
  const nxD = mulDD(n, x)
  const nxfloorD = floorDD(nxD)
  let alpha = sub(nxD, nxfloorD).hi
  let nxfl = Math.trunc(nxfloorD.hi) + Math.trunc(nxfloorD.lo)
  if (alpha === 1) {
    nxfl += 1
    alpha = 0
  }
  let n1mxfl = n - nxfl - (alpha === 0 ? 0 : 1)
  let n1mxceil = n - nxfl
  if (alpha === 0) {
    n1mxfl -= 1
    n1mxceil += 1
  }

  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) {
    const t = toDouble(pow4D(1, x, 1, 0, n - 1))
    return clip01(1 - x * t)
  }
  if (-2 * n * x * x < MINLOG) return 0
  if (nxfl >= n - 1) return clip01(toDouble(pow4D(1, -x, 1, 0, n)))
  if (n > 1_000_000) {
    // SciPy's approximation for very large n: p ~ exp(-(6nx+1)^2 / 18n)
    const logp = -Math.pow(6.0 * n * x + 1, 2) / 18.0 / n
    return clip01(logp < -Math.LN2 ? Math.exp(logp) : 1 - -Math.expm1(logp))
  }

  const nUpperTerms = n - n1mxceil + 1
  const useUpper = (nUpperTerms <= 1 && x < 0.5) || (n >= 10 && nUpperTerms <= 3 && x <= 0.5 / Math.sqrt(n))

  let start = 0
  let step = 1
  let nTerms = n1mxfl + 1
  let Aj: DD
  if (useUpper) {
    start = n
    step = -1
    nTerms = n - n1mxceil + 1
    Aj = pow4D(1, x, 1, 0, n - 1)
  } else {
    Aj = divD(pow4D(1, -x, 1, 0, n), x)
  }
  let AjSum = add(DD_ZERO, Aj)
  // binomial coefficient kept as (mantissa, exponent): it overflows a double for large n
  let Cman = DD_ONE
  let Cexpt = 0
  const updateBinomial = (j: number) => {
    const f = frexpDD(mul(Cman, divDD(n - j, j + 1)))
    Cexpt += f.exponent
    Cman = f.man
  }
  updateBinomial(0)
  const vmid = Math.trunc(n / 2)
  for (let j = 1; j < nTerms; j++) {
    const v = start + j * step
    // A_v = C(n, v) (1 - x - v/n)^(n-v) (x + v/n)^(v-1)
    const t2 = pow2ScaledD(addD(divDD(n - v, n), -x), n - v)
    const t1 = pow2ScaledD(addD(divDD(v, n), x), v - 1)
    Aj = ldexpDD(mul(mul(t1.v, t2.v), Cman), Cexpt + t1.e + t2.e)
    if (isFiniteDD(Aj) && !isZero(Aj)) AjSum = add(AjSum, Aj)
    if (!isZero(Aj)) {
      if (4 * (nTerms - j) * Math.abs(toDouble(Aj)) < DBL_EPSILON * toDouble(AjSum) && j !== nTerms - 1) break
    } else if (j > vmid) {
      break
    }
    updateBinomial(j)
  }
  const prob = toDouble(mulD(AjSum, x))
  return clip01(step < 0 ? 1 - prob : prob)
}

// ───────────────────────────── two-sided exact one-sample (kstwo) ─────────────────────────────

const STIRLING_COEFFS = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
  -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2
]

const logNFactorialDivNPowN = (n: number): number => {
  const rn = 1.0 / n
  const x = rn / n
  let p = 0
  for (const c of STIRLING_COEFFS) p = p * x + c
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * p
}

/** m x m matrix product into a fresh array (row-major). */
const matmul = (a: Float64Array, b: Float64Array, m: number): Float64Array => {
  const c = new Float64Array(m * m)
  for (let i = 0; i < m; i++) {
    const ci = i * m
    for (let k = 0; k < m; k++) {
      const aik = a[ci + k]
      if (aik === 0) continue
      const bk = k * m
      for (let j = 0; j < m; j++) c[ci + j] += aik * b[bk + j]
    }
  }
  return c
}

/** CDF P(D_n <= d) by Durbin's matrix method with the Marsaglia–Tsang–Wang scaling. */
const kolmognDMTW = (n: number, d: number): number => {
  if (d >= 1) return 1
  const nd = n * d
  if (nd <= 0.5) return 0
  const k = Math.ceil(nd)
  const h = k - nd
  const m = 2 * k - 1
  const v = new Float64Array(m)
  const w = new Float64Array(m)
  for (let j = 1; j <= m; j++) v[j - 1] = 1.0 - Math.pow(h, j)
  let fac = 1.0
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac
    fac /= j
    v[j - 1] *= fac
  }
  const tt = Math.pow(Math.max(2 * h - 1.0, 0), m) - 2 * Math.pow(h, m)
  v[m - 1] = (1.0 + tt) * fac
  let H: Float64Array = new Float64Array(m * m)
  for (let i = 1; i < m; i++) {
    // H[i-1:, i] = w[:m-i+1]
    for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)]
  }
  for (let r = 0; r < m; r++) H[r * m] = v[r]
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c]

  let Hpwr: Float64Array = new Float64Array(m * m)
  for (let i = 0; i < m; i++) Hpwr[i * m + i] = 1
  let nn = n
  let expnt = 0
  let Hexpnt = 0
  while (nn > 0) {
    if (nn % 2) {
      Hpwr = matmul(Hpwr, H, m)
      expnt += Hexpnt
    }
    H = matmul(H, H, m)
    Hexpnt *= 2
    if (Math.abs(H[(k - 1) * m + (k - 1)]) > EP128) {
      for (let i = 0; i < m * m; i++) H[i] /= EP128
      Hexpnt += 128
    }
    nn = Math.floor(nn / 2)
  }
  let p = Hpwr[(k - 1) * m + (k - 1)]
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n
    if (Math.abs(p) < EM128) {
      p *= EP128
      expnt -= 128
    }
  }
  if (expnt !== 0) p = ldexp(p, expnt)
  return clip01(p)
}

const pomeranzJ1J2 = (i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] => {
  let j1: number
  let j2: number
  if (i === 0) {
    j1 = -ll - ceilf - 1
    j2 = ll + ceilf - 1
  } else {
    const ip1div2 = Math.floor((i + 1) / 2)
    const ip1mod2 = (i + 1) % 2
    if (ip1mod2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1
        j2 = n + ll + ceilf - 1
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1
        j2 = ip1div2 + ll - 1 + ceilf - 1
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1
      j2 = ip1div2 + ll + roundf - 1
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)]
}

/** CDF P(D_n <= x) by Pomeranz's recursion (used by SciPy for n <= 140). */
const kolmognPomeranz = (n: number, x: number): number => {
  const t = n * x
  const ll = Math.floor(t)
  const f = 1.0 * (t - ll)
  const g = Math.min(f, 1.0 - f)
  const ceilf = f > 0 ? 1 : 0
  const roundf = f > 0.5 ? 1 : 0
  const npwrs = 2 * (ll + 1)
  const gpower = new Float64Array(npwrs)
  const twogpower = new Float64Array(npwrs)
  const onem2gpower = new Float64Array(npwrs)
  gpower[0] = 1.0
  twogpower[0] = 1.0
  onem2gpower[0] = 1.0
  let expnt = 0
  const gOverN = g / n
  const twoGOverN = (2 * g) / n
  const oneMinusTwoGOverN = (1 - 2 * g) / n
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = (gpower[m - 1] * gOverN) / m
    twogpower[m] = (twogpower[m - 1] * twoGOverN) / m
    onem2gpower[m] = (onem2gpower[m - 1] * oneMinusTwoGOverN) / m
  }
  let V0 = new Float64Array(npwrs)
  let V1 = new Float64Array(npwrs)
  V1[0] = 1
  let V0s = 0
  let V1s = 0
  let j1 = pomeranzJ1J2(0, n, ll, ceilf, roundf)[0]
  let j2: number
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1
    const tmp = V0
    V0 = V1
    V1 = tmp
    const ts = V0s
    V0s = V1s
    V1s = ts
    V1.fill(0)
    ;[j1, j2] = pomeranzJ1J2(i, n, ll, ceilf, roundf)
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower
    const ln2 = j2 - k1 + 1
    if (ln2 > 0) {
      // full convolution of a = V0[k1-V0s : +ln2] (clipped like a slice) with pwrs[:ln2]
      const aStart = k1 - V0s
      const aLen = Math.max(0, Math.min(ln2, npwrs - aStart))
      const bLen = Math.min(ln2, npwrs)
      const convStart = j1 - k1
      const convLen = j2 - j1 + 1
      let maxV = -Infinity
      for (let c = 0; c < convLen; c++) {
        const kk = convStart + c
        let s = 0
        const lo = Math.max(0, kk - bLen + 1)
        const hi = Math.min(kk, aLen - 1)
        for (let ii = lo; ii <= hi; ii++) s += V0[aStart + ii] * pwrs[kk - ii]
        V1[c] = s
      }
      for (let c = 0; c < npwrs; c++) if (V1[c] > maxV) maxV = V1[c]
      if (0 < maxV && maxV < EM128) {
        for (let c = 0; c < npwrs; c++) V1[c] *= EP128
        expnt -= 128
      }
      V1s = V0s + j1 - k1
    }
  }
  let ans = V1[n - V1s]
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > EP128) {
      ans *= EM128
      expnt += 128
    }
    ans *= m
  }
  if (expnt !== 0) ans = ldexp(ans, expnt)
  return clip01(ans)
}

/** CDF P(D_n <= x) by the Pelz–Good asymptotic series (unclipped, as SciPy). */
const kolmognPelzGood = (n: number, x: number): number => {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const z = Math.sqrt(n) * x
  const zsquared = Math.pow(z, 2)
  const zthree = Math.pow(z, 3)
  const zfour = Math.pow(z, 4)
  const zsix = Math.pow(z, 6)
  const qlog = -PI2 / 8 / zsquared
  if (qlog < -708) return 0
  let q = Math.exp(qlog)
  const k1a = -zsquared
  const k1b = PI2 / 4
  const k2a = 6 * zsix + 2 * zfour
  const k2b = ((2 * zfour - 5 * zsquared) * PI2) / 4
  const k2c = (PI4 * (1 - 2 * zsquared)) / 16
  const k3d = (PI6 * (5 - 30 * zsquared)) / 64
  const k3c = (PI4 * (-60 * zsquared + 212 * zfour)) / 16
  const k3b = (PI2 * (135 * zfour - 96 * zsix)) / 4
  const k3a = -30 * zsix - 90 * Math.pow(z, 8)
  let K0 = 0,
    K1 = 0,
    K2 = 0,
    K3 = 0
  const maxk = Math.ceil((16 * z) / Math.PI)
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1
    const msquared = m * m
    const mfour = msquared * msquared
    const msix = mfour * msquared
    const qpower = Math.pow(q, 8 * k)
    K0 = K0 * qpower + 1.0
    K1 = K1 * qpower + (k1a + k1b * msquared)
    K2 = K2 * qpower + (k2a + k2b * msquared + k2c * mfour)
    K3 = K3 * qpower + (k3a + k3b * msquared + k3c * mfour + k3d * msix)
  }
  K0 = (K0 * q * SQRT2PI) / z
  K1 = (K1 * q * SQRT2PI) / (6 * zfour)
  K2 = (K2 * q * SQRT2PI) / (72 * Math.pow(z, 7))
  K3 = (K3 * q * SQRT2PI) / (6480 * Math.pow(z, 10))
  q = Math.exp(-PI2 / 2 / zsquared)
  const sqrt3z = SQRT3 * z
  const t2 = new Float64Array(maxk)
  const t3 = new Float64Array(maxk)
  for (let idx = 0; idx < maxk; idx++) {
    const kk = maxk - idx
    const ksq = kk * kk
    const kspi = Math.PI * kk
    const qp = Math.pow(q, ksq)
    t2[idx] = ksq * qp
    t3[idx] = (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp
  }
  K2 += pairwiseSum(t2) * ((PI2 * SQRT2PI) / (-36 * zthree))
  K3 += pairwiseSum(t3) * ((PI2 * SQRT2PI) / (216 * zsix))
  K1 /= Math.pow(n, 0.5)
  K2 /= n
  K3 /= Math.pow(n, 1.5)
  return 0 + K0 + K1 + K2 + K3
}

/** scipy.stats._ksstats._kolmogn(n, x, cdf=False): P(D_n > x) for the one-sample two-sided statistic. */
const kolmognSf = (n: number, x: number): number => {
  if (x >= 1.0) return 0
  if (x <= 0.0) return 1
  const t = n * x
  if (t <= 1.0) {
    if (t <= 0.5) return 1
    let prob: number
    if (n <= 140) {
      prob = 1
      const r = 1.0 / n
      const s = 2 * t - 1
      for (let i = 1; i <= n; i++) prob *= i * r * s
    } else {
      prob = Math.exp(logNFactorialDivNPowN(n) + n * Math.log(2 * t - 1))
    }
    return clip01(1.0 - prob)
  }
  if (t >= n - 1) return clip01(2 * Math.pow(1.0 - x, n))
  if (x >= 0.5) return clip01(2 * smirnov(n, x))
  const nxsquared = t * x
  if (n <= 140) {
    if (nxsquared <= 0.754693) return clip01(1.0 - kolmognDMTW(n, x))
    if (nxsquared <= 4) return clip01(1.0 - kolmognPomeranz(n, x))
    return clip01(2 * smirnov(n, x))
  }
  if (nxsquared >= 370.0) return 0
  if (nxsquared >= 2.2) return clip01(2 * smirnov(n, x))
  const cdfprob = n <= 100000 && n * Math.pow(x, 1.5) <= 1.4 ? kolmognDMTW(n, x) : kolmognPelzGood(n, x)
  return clip01(1.0 - cdfprob)
}

/**
 * scipy.stats.kstwo.sf(x, n): survival function of the exact distribution of the two-sided
 * one-sample KS statistic D_n (n a positive integer).
 */
export const kstwoSf = (x: number, n: number): number => {
  if (Number.isNaN(x) || !(n >= 1) || Math.round(n) !== n) return Number.NaN
  if (x <= 0.5 / n) return 1
  if (x >= 1) return 0
  return kolmognSf(n, x)
}

/** Which algorithm kstwoSf uses at (x, n): for tests and diagnostics. */
export const kstwoSfMethod = (x: number, n: number): string => {
  if (x <= 0.5 / n) return "support-low"
  if (x >= 1) return "support-high"
  const t = n * x
  if (t <= 1) return "ruben-gambino-low"
  if (t >= n - 1) return "ruben-gambino-high"
  if (x >= 0.5) return "smirnov"
  const nx2 = t * x
  if (n <= 140) return nx2 <= 0.754693 ? "dmtw" : nx2 <= 4 ? "pomeranz" : "smirnov"
  if (nx2 >= 370) return "zero"
  if (nx2 >= 2.2) return "smirnov"
  return n <= 100000 && n * Math.pow(x, 1.5) <= 1.4 ? "dmtw" : "pelz-good"
}
