/**
 * Stage 2, demosaic of a 2×2 Bayer mosaic into interleaved RGB: bilinear, or Malvar, He & Cutler
 * (2004, "High-quality linear interpolation for demosaicing of Bayer-patterned color images").
 * Borders mirror without repeating the edge (d c b | a b c d | c b a, SciPy's "mirror"), which
 * keeps the CFA colour of every mirrored site.
 */
import type { CfaColor } from "../raw.js"

/** The 2×2 Bayer layouts: [top-left, top-right, bottom-left, bottom-right] colours with two greens. */
export const isBayer = (pattern: ReadonlyArray<CfaColor>, rows: number, cols: number): boolean => {
  if (rows !== 2 || cols !== 2 || pattern.length !== 4) return false
  const [a, b, c, d] = pattern
  return a === d ? a === 1 && b !== c && b !== 1 && c !== 1 : b === c && b === 1 && a !== d && a !== 1 && d !== 1
}

const mirror = (i: number, n: number): number => {
  if (n === 1) return 0
  const period = 2 * (n - 1)
  let k = i % period
  if (k < 0) k += period
  return k < n ? k : period - k
}

/** Mirrored copy of the mosaic with `pad` extra sites on each side, so kernels need no bounds checks. */
const padded = (cfa: Float64Array, w: number, h: number, pad: number): { p: Float64Array; pw: number } => {
  const pw = w + 2 * pad
  const ph = h + 2 * pad
  const p = new Float64Array(pw * ph)
  for (let y = 0; y < ph; y++) {
    const sy = mirror(y - pad, h) * w
    const row = y * pw
    // The interior of the row is a plain copy; only the pad columns mirror.
    p.set(cfa.subarray(sy, sy + w), row + pad)
    for (let x = 0; x < pad; x++) {
      p[row + x] = cfa[sy + mirror(x - pad, w)]!
      p[row + pad + w + x] = cfa[sy + mirror(w + x, w)]!
    }
  }
  return { p, pw }
}

/** Bilinear: each missing colour is the mean of its nearest same-colour neighbours (2 or 4). */
export const demosaicBilinear = (
  cfa: Float64Array,
  w: number,
  h: number,
  pattern: ReadonlyArray<CfaColor>
): Float64Array => {
  const { p, pw } = padded(cfa, w, h, 1)
  const out = new Float64Array(w * h * 3)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = pattern[(y & 1) * 2 + (x & 1)]!
      const k = (y + 1) * pw + x + 1
      const o = (y * w + x) * 3
      const centre = p[k]!
      if (c === 1) {
        out[o + 1] = centre
        // Which of red/blue lies left-right of this green site.
        const hc = pattern[(y & 1) * 2 + ((x + 1) & 1)]!
        out[o + hc] = (p[k - 1]! + p[k + 1]!) / 2
        out[o + (2 - hc)] = (p[k - pw]! + p[k + pw]!) / 2
      } else {
        out[o + c] = centre
        out[o + 1] = (p[k - 1]! + p[k + 1]! + p[k - pw]! + p[k + pw]!) / 4
        out[o + (2 - c)] = (p[k - pw - 1]! + p[k - pw + 1]! + p[k + pw - 1]! + p[k + pw + 1]!) / 4
      }
    }
  }
  return out
}

/**
 * Malvar–He–Cutler: bilinear corrected by the gradient of the known colour (the paper's 5×5 filters,
 * α = 1/2, β = 5/8, γ = 3/4, in eighths).
 */
export const demosaicMalvar = (
  cfa: Float64Array,
  w: number,
  h: number,
  pattern: ReadonlyArray<CfaColor>
): Float64Array => {
  const { p, pw } = padded(cfa, w, h, 2)
  const out = new Float64Array(w * h * 3)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = pattern[(y & 1) * 2 + (x & 1)]!
      const k = (y + 2) * pw + x + 2
      const o = (y * w + x) * 3
      const v = p[k]!
      const l1 = p[k - 1]!,
        r1 = p[k + 1]!,
        u1 = p[k - pw]!,
        d1 = p[k + pw]!
      const l2 = p[k - 2]!,
        r2 = p[k + 2]!,
        u2 = p[k - 2 * pw]!,
        d2 = p[k + 2 * pw]!
      const diag = p[k - pw - 1]! + p[k - pw + 1]! + p[k + pw - 1]! + p[k + pw + 1]!
      if (c === 1) {
        out[o + 1] = v
        // Colour in this row (left/right neighbours) and in this column (up/down).
        const hc = pattern[(y & 1) * 2 + ((x + 1) & 1)]!
        const rowEst = (5 * v + 4 * (l1 + r1) - (diag + l2 + r2) + 0.5 * (u2 + d2)) / 8
        const colEst = (5 * v + 4 * (u1 + d1) - (diag + u2 + d2) + 0.5 * (l2 + r2)) / 8
        out[o + hc] = rowEst
        out[o + (2 - hc)] = colEst
      } else {
        out[o + c] = v
        out[o + 1] = (4 * v + 2 * (l1 + r1 + u1 + d1) - (l2 + r2 + u2 + d2)) / 8
        out[o + (2 - c)] = (6 * v + 2 * diag - 1.5 * (l2 + r2 + u2 + d2)) / 8
      }
    }
  }
  return out
}
