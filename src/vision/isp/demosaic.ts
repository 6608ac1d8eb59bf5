/**
 * Stage 2, demosaic of a 2×2 Bayer mosaic into interleaved RGB: bilinear, or Malvar, He & Cutler
 * (2004, "High-quality linear interpolation for demosaicing of Bayer-patterned color images").
 * Borders mirror without repeating the edge (d c b | a b c d | c b a, SciPy's "mirror"), which
 * keeps the CFA colour of every mirrored site.
 *
 * The work is done one output row at a time from `2·pad + 1` padded input rows (`bilinearRow`,
 * `malvarRow`), so the ISP (pipeline.ts) can stream black level → demosaic → colour → gamma through a
 * few cache-resident rows instead of whole-image intermediates; the whole-image functions below run
 * the same row kernels.
 */
import type { CfaColor } from "../raw.js"

/** The 2×2 Bayer layouts: [top-left, top-right, bottom-left, bottom-right] colours with two greens. */
export const isBayer = (pattern: ReadonlyArray<CfaColor>, rows: number, cols: number): boolean => {
  if (rows !== 2 || cols !== 2 || pattern.length !== 4) return false
  const [a, b, c, d] = pattern
  return a === d ? a === 1 && b !== c && b !== 1 && c !== 1 : b === c && b === 1 && a !== d && a !== 1 && d !== 1
}

/** Index of i in 0..n-1 under mirror reflection without repeating the edge. */
export const mirror = (i: number, n: number): number => {
  if (n === 1) return 0
  const period = 2 * (n - 1)
  let k = i % period
  if (k < 0) k += period
  return k < n ? k : period - k
}

/** Fill the `pad` sites left and right of a padded row whose interior [pad, pad + w) is set. */
export const mirrorRowEnds = (row: Float64Array, w: number, pad: number): void => {
  for (let x = 0; x < pad; x++) {
    row[x] = row[pad + mirror(x - pad, w)]!
    row[pad + w + x] = row[pad + mirror(w + x, w)]!
  }
}

/** Pad a demosaic method needs on each side. */
export const demosaicPad = (method: "bilinear" | "malvar"): 1 | 2 => (method === "malvar" ? 2 : 1)

/**
 * Bilinear, one output row: each missing colour is the mean of its nearest same-colour neighbours
 * (2 or 4). `u`, `m`, `d` are the rows above, at and below (padded by 1); `cEven`/`cOdd` the CFA
 * colours of this row's even and odd columns; `hEven`/`hOdd` the colour left-right of a green site.
 * Writes `w × 3` values to `out` from `at`.
 */
export const bilinearRow = (
  u: Float64Array,
  m: Float64Array,
  d: Float64Array,
  w: number,
  cEven: CfaColor,
  cOdd: CfaColor,
  out: Float64Array,
  at: number
): void => {
  for (let x = 0, k = 1, o = at; x < w; x++, k++, o += 3) {
    const c = (x & 1) === 0 ? cEven : cOdd
    const centre = m[k]!
    if (c === 1) {
      const h = (m[k - 1]! + m[k + 1]!) / 2
      const v = (u[k]! + d[k]!) / 2
      // Which of red/blue lies left-right of this green site: the colour of the other column.
      const hc = (x & 1) === 0 ? cOdd : cEven
      out[o + 1] = centre
      if (hc === 0) {
        out[o] = h
        out[o + 2] = v
      } else {
        out[o] = v
        out[o + 2] = h
      }
    } else {
      const g = (m[k - 1]! + m[k + 1]! + u[k]! + d[k]!) / 4
      const diag = (u[k - 1]! + u[k + 1]! + d[k - 1]! + d[k + 1]!) / 4
      out[o + 1] = g
      if (c === 0) {
        out[o] = centre
        out[o + 2] = diag
      } else {
        out[o] = diag
        out[o + 2] = centre
      }
    }
  }
}

/**
 * Malvar–He–Cutler, one output row: bilinear corrected by the gradient of the known colour (the
 * paper's 5×5 filters, α = 1/2, β = 5/8, γ = 3/4, in eighths). `u2 … d2` are the five rows around
 * this one (padded by 2); other arguments as `bilinearRow`.
 */
export const malvarRow = (
  u2: Float64Array,
  u1: Float64Array,
  m: Float64Array,
  d1: Float64Array,
  d2: Float64Array,
  w: number,
  cEven: CfaColor,
  cOdd: CfaColor,
  out: Float64Array,
  at: number
): void => {
  for (let x = 0, k = 2, o = at; x < w; x++, k++, o += 3) {
    const c = (x & 1) === 0 ? cEven : cOdd
    const v = m[k]!
    const l1 = m[k - 1]!,
      r1 = m[k + 1]!,
      a1 = u1[k]!,
      b1 = d1[k]!
    const l2 = m[k - 2]!,
      r2 = m[k + 2]!,
      a2 = u2[k]!,
      b2 = d2[k]!
    const diag = u1[k - 1]! + u1[k + 1]! + d1[k - 1]! + d1[k + 1]!
    if (c === 1) {
      out[o + 1] = v
      // Colour in this row (left/right neighbours) and in this column (up/down).
      const hc = (x & 1) === 0 ? cOdd : cEven
      const rowEst = (5 * v + 4 * (l1 + r1) - (diag + l2 + r2) + 0.5 * (a2 + b2)) / 8
      const colEst = (5 * v + 4 * (a1 + b1) - (diag + a2 + b2) + 0.5 * (l2 + r2)) / 8
      if (hc === 0) {
        out[o] = rowEst
        out[o + 2] = colEst
      } else {
        out[o] = colEst
        out[o + 2] = rowEst
      }
    } else {
      const g = (4 * v + 2 * (l1 + r1 + a1 + b1) - (l2 + r2 + a2 + b2)) / 8
      const other = (6 * v + 2 * diag - 1.5 * (l2 + r2 + a2 + b2)) / 8
      out[o + 1] = g
      if (c === 0) {
        out[o] = v
        out[o + 2] = other
      } else {
        out[o] = other
        out[o + 2] = v
      }
    }
  }
}

/**
 * Demosaic output row `y` from the padded rows `rows[j]` = input row mirror(y − pad + j), into `out`
 * from `at` (w × 3 values).
 */
export const demosaicRow = (
  method: "bilinear" | "malvar",
  rows: ReadonlyArray<Float64Array>,
  y: number,
  w: number,
  pattern: ReadonlyArray<CfaColor>,
  out: Float64Array,
  at: number
): void => {
  const cEven = pattern[(y & 1) * 2]!
  const cOdd = pattern[(y & 1) * 2 + 1]!
  if (method === "malvar") malvarRow(rows[0]!, rows[1]!, rows[2]!, rows[3]!, rows[4]!, w, cEven, cOdd, out, at)
  else bilinearRow(rows[0]!, rows[1]!, rows[2]!, w, cEven, cOdd, out, at)
}

const wholeImage = (
  method: "bilinear" | "malvar",
  cfa: Float64Array,
  w: number,
  h: number,
  pattern: ReadonlyArray<CfaColor>
): Float64Array => {
  const pad = demosaicPad(method)
  const pw = w + 2 * pad
  // Every input row padded once; the row kernels read them by reference.
  const padded: Array<Float64Array> = []
  for (let y = 0; y < h; y++) {
    const row = new Float64Array(pw)
    row.set(cfa.subarray(y * w, y * w + w), pad)
    mirrorRowEnds(row, w, pad)
    padded.push(row)
  }
  const out = new Float64Array(w * h * 3)
  const rows: Array<Float64Array> = []
  for (let y = 0; y < h; y++) {
    rows.length = 0
    for (let j = -pad; j <= pad; j++) rows.push(padded[mirror(y + j, h)]!)
    demosaicRow(method, rows, y, w, pattern, out, y * w * 3)
  }
  return out
}

/** Bilinear over a whole `h × w` mosaic → `h × w × 3` interleaved. */
export const demosaicBilinear = (
  cfa: Float64Array,
  w: number,
  h: number,
  pattern: ReadonlyArray<CfaColor>
): Float64Array => wholeImage("bilinear", cfa, w, h, pattern)

/** Malvar–He–Cutler over a whole `h × w` mosaic → `h × w × 3` interleaved. */
export const demosaicMalvar = (
  cfa: Float64Array,
  w: number,
  h: number,
  pattern: ReadonlyArray<CfaColor>
): Float64Array => wholeImage("malvar", cfa, w, h, pattern)
