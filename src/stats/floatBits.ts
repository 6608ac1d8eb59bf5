/**
 * IEEE-754 helpers that C has and JavaScript lacks: frexp, ldexp and NumPy's round-half-to-even.
 * They exist so ports of SciPy/NumPy numerics can keep the same scaling steps.
 */

const f64 = new Float64Array(1)
const u32 = new Uint32Array(f64.buffer)
// index of the high 32-bit word (sign, exponent, top of the mantissa) on this platform
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0
const TWO64 = 18446744073709551616

/** Splits x into mantissa in [0.5, 1) (sign kept) and exponent: x = mantissa * 2^exponent. */
export const frexp = (x: number): { readonly mantissa: number; readonly exponent: number } => {
  if (x === 0 || !Number.isFinite(x)) return { mantissa: x, exponent: 0 }
  let y = x
  let bias = 0
  if (Math.abs(y) < 2.2250738585072014e-308) {
    // subnormal: scale into the normal range first so the exponent bits are meaningful
    y *= TWO64
    bias = -64
  }
  f64[0] = y
  const hi = u32[HI]
  const e = ((hi >>> 20) & 0x7ff) - 1022
  u32[HI] = (hi & 0x800fffff) | (1022 << 20)
  return { mantissa: f64[0], exponent: e + bias }
}

/** 2^k for an integer k in [-1022, 1023], built from its bits (exact, no pow call). */
const pow2 = (k: number): number => {
  u32[HI] = (k + 1023) << 20
  u32[1 - HI] = 0
  return f64[0]
}

/** x * 2^e without intermediate overflow or underflow of the power of two. */
export const ldexp = (x: number, e: number): number => {
  if (x === 0 || !Number.isFinite(x) || e === 0) return x
  if (e >= -1022 && e <= 1023) {
    const r = x * pow2(e)
    // a product in the normal range is exact; near the edges redo it in two rounding-free steps
    const ar = Math.abs(r)
    if (ar >= 2.2250738585072014e-308 && ar < Infinity) return r
  }
  let r = x
  let k = e
  while (k > 1023) {
    r *= 8.98846567431158e307
    k -= 1023
  } // 2^1023
  while (k < -1022) {
    if (Math.abs(r) < 1 && k < -1022 - 52) {
      r *= 2.2250738585072014e-308 // 2^-1022
      k += 1022
      if (r === 0) return r
      continue
    }
    break
  }
  if (k >= -1022 && k <= 1023) return r * pow2(k)
  // remaining shift lands in the subnormal range: one final rounding
  return r * pow2(-1022) * pow2(k + 1022)
}

/** NumPy's np.round / Python's round for floats to integers: halves go to the even neighbour. */
export const roundHalfEven = (x: number): number => {
  const r = Math.round(x)
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r
}
