/**
 * Double-double arithmetic (an unevaluated sum hi + lo, about 106 bits), after Dekker, Knuth and
 * the QD library that SciPy's cephes `dd_real.c` is taken from. Used where SciPy uses it (the exact
 * one-sided Smirnov distribution), so that our sums keep the same accuracy.
 * Values are plain tuples to keep this dependency-free; allocation happens per operation, which is
 * fine for the few thousand terms these sums need.
 */
import * as FB from "./floatBits.js"

const { frexp, ldexp } = FB

export interface DD {
  readonly hi: number
  readonly lo: number
}

export const dd = (hi: number, lo = 0): DD => ({ hi, lo })
export const DD_ZERO: DD = dd(0, 0)
export const DD_ONE: DD = dd(1, 0)

const SPLITTER = 134217729 // 2^27 + 1
const SPLIT_THRESH = 6.69692879491417e299

const split = (a: number): [number, number] => {
  if (a > SPLIT_THRESH || a < -SPLIT_THRESH) {
    const s = a * 3.7252902984619140625e-9 // 2^-28
    const t = SPLITTER * s
    const hi = t - (t - s)
    const lo = s - hi
    return [hi * 268435456, lo * 268435456]
  }
  const t = SPLITTER * a
  const hi = t - (t - a)
  return [hi, a - hi]
}

const quickTwoSum = (a: number, b: number): DD => {
  const s = a + b
  return dd(s, b - (s - a))
}

const twoSum = (a: number, b: number): DD => {
  const s = a + b
  const bb = s - a
  return dd(s, a - (s - bb) + (b - bb))
}

const twoProd = (a: number, b: number): DD => {
  const p = a * b
  const [ah, al] = split(a)
  const [bh, bl] = split(b)
  return dd(p, ah * bh - p + ah * bl + al * bh + al * bl)
}

/** a + b for doubles, exactly. */
export const addDD = (a: number, b: number): DD => twoSum(a, b)
/** a * b for doubles, exactly. */
export const mulDD = (a: number, b: number): DD => twoProd(a, b)

/** a / b for doubles, to double-double accuracy. */
export const divDD = (a: number, b: number): DD => {
  const q1 = a / b
  const p = twoProd(q1, b)
  const s = twoSum(a, -p.hi)
  const e = s.lo - p.lo
  const q2 = (s.hi + e) / b
  return quickTwoSum(q1, q2)
}

export const add = (a: DD, b: DD): DD => {
  // IEEE-style accurate addition (Briggs–Kahan)
  const s = twoSum(a.hi, b.hi)
  const t = twoSum(a.lo, b.lo)
  let s2 = s.lo + t.hi
  const u = quickTwoSum(s.hi, s2)
  s2 = u.lo + t.lo
  return quickTwoSum(u.hi, s2)
}

export const neg = (a: DD): DD => dd(-a.hi, -a.lo)
export const sub = (a: DD, b: DD): DD => add(a, neg(b))

export const addD = (a: DD, b: number): DD => {
  const s = twoSum(a.hi, b)
  return quickTwoSum(s.hi, s.lo + a.lo)
}

export const mul = (a: DD, b: DD): DD => {
  const p = twoProd(a.hi, b.hi)
  return quickTwoSum(p.hi, p.lo + (a.hi * b.lo + a.lo * b.hi))
}

export const mulD = (a: DD, b: number): DD => {
  const p = twoProd(a.hi, b)
  return quickTwoSum(p.hi, p.lo + a.lo * b)
}

export const div = (a: DD, b: DD): DD => {
  const q1 = a.hi / b.hi
  let r = sub(a, mulD(b, q1))
  const q2 = r.hi / b.hi
  r = sub(r, mulD(b, q2))
  const q3 = r.hi / b.hi
  return addD(quickTwoSum(q1, q2), q3)
}

export const divD = (a: DD, b: number): DD => div(a, dd(b))
export const inv = (a: DD): DD => div(DD_ONE, a)

export const isZero = (a: DD): boolean => a.hi === 0
export const isFiniteDD = (a: DD): boolean => Number.isFinite(a.hi)
export const toDouble = (a: DD): number => a.hi + a.lo

export const floorDD = (a: DD): DD => {
  const hi = Math.floor(a.hi)
  if (hi === a.hi) return quickTwoSum(hi, Math.floor(a.lo))
  return dd(hi, 0)
}

/** Mantissa in [0.5, 1) with an exponent, as C frexp on the double-double. */
export const frexpDD = (a: DD): { readonly man: DD; readonly exponent: number } => {
  const f = frexp(a.hi)
  let man = f.mantissa
  let lo = ldexp(a.lo, -f.exponent)
  let e = f.exponent
  if (Math.abs(man) === 0.5 && man * lo < 0) {
    man *= 2
    lo *= 2
    e -= 1
  }
  return { man: dd(man, lo), exponent: e }
}

export const ldexpDD = (a: DD, e: number): DD => dd(ldexp(a.hi, e), ldexp(a.lo, e))
