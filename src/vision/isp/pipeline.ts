/**
 * The seven-stage ISP in the predecessor's order: black level → demosaic → white balance → colour
 * correction → denoise (luma) → sharpen (luma) → gamma, then the file's orientation. Pure and
 * deterministic: the same raw and parameters give the same bytes.
 *
 * How it runs: white balance and colour correction are one 3×3 (the colour matrix times the diagonal
 * of the gains, the same linear map), and the image streams through row by row — black level into a
 * ring of `2·pad + 1` padded rows, demosaic of one row, the matrix, gamma from a table, written
 * straight to its oriented place in the Float32 output — so nothing image-sized is held in Float64.
 * Every value is computed in double precision (JavaScript numbers); only the output is float32.
 * With denoise or sharpening on, the luma filters need the whole image: then the linear sRGB is
 * collected (Float64, h × w × 3), filtered, and gamma-encoded and oriented after.
 */
import type { IspParams } from "../../domain/isp.js"
import type { Rng } from "../../domain/random.js"
import type { RawImage } from "../raw.js"
import { blackLevelRows } from "./blackLevel.js"
import { type Mat3, srgbFromCamera } from "./colour.js"
import { demosaicPad, demosaicRow, isBayer, mirror, mirrorRowEnds } from "./demosaic.js"
import { encodeGamma, gammaCurve, gammaOf } from "./gamma.js"
import { denoiseLuma, sharpenLuma } from "./luma.js"
import { orient } from "./orientation.js"
import { whiteBalanceGains } from "./whiteBalance.js"

/** An sRGB image, `height × width × 3` interleaved, values in [0, 1]. */
export interface RgbImage {
  readonly width: number
  readonly height: number
  readonly data: Float32Array
}

export type RenderResult =
  { readonly ok: true; readonly image: RgbImage } | { readonly ok: false; readonly message: string }

/** Sensor noise added to the normalised linear values (Brooks et al. 2019: variance shot · x + read²). */
export interface RawNoise {
  readonly shot: number
  readonly read: number
  readonly rng: Rng
}

/** Noise on `n` values of `v` from `at`, in index order (so a seed gives the same image however it is streamed). */
const addNoise = (v: Float64Array, at: number, n: number, noise: RawNoise): void => {
  for (let i = at; i < at + n; i++) {
    const x = v[i]!
    const e = x + Math.sqrt(noise.shot * x + noise.read * noise.read) * noise.rng.normal()
    v[i] = e < 0 ? 0 : e > 1 ? 1 : e
  }
}

/** Colour matrix times diag(white-balance gains): white balance and colour correction in one map. */
const balancedMatrix = (m: Mat3, g: readonly [number, number, number]): Mat3 => [
  m[0] * g[0],
  m[1] * g[1],
  m[2] * g[2],
  m[3] * g[0],
  m[4] * g[1],
  m[5] * g[2],
  m[6] * g[0],
  m[7] * g[1],
  m[8] * g[2]
]

/**
 * Where output pixel (x, y) of the unrotated image lands: `start(y) + x · step` (values, 3 per pixel)
 * in the upright image for each TIFF orientation (2–8; anything else is 1). The inverse of orientation.ts.
 */
const placement = (orientation: number, w: number, h: number): ((y: number) => number) & { step: number } => {
  const at = (f: (y: number) => number, step: number) => Object.assign(f, { step })
  switch (orientation) {
    case 2:
      return at((y) => (y * w + w - 1) * 3, -3)
    case 3:
      return at((y) => ((h - 1 - y) * w + w - 1) * 3, -3)
    case 4:
      return at((y) => (h - 1 - y) * w * 3, 3)
    case 5:
      return at((y) => y * 3, h * 3)
    case 6:
      return at((y) => (h - 1 - y) * 3, h * 3)
    case 7:
      return at((y) => ((w - 1) * h + h - 1 - y) * 3, -h * 3)
    case 8:
      return at((y) => ((w - 1) * h + y) * 3, -h * 3)
    default:
      return at((y) => y * w * 3, 3)
  }
}

/**
 * Matrix then gamma on one row of `w` camera-RGB pixels (`src` from 0), written to `out` from `to`
 * every `step` values: the per-pixel tail of the streamed ISP.
 */
const finishRow = (
  src: Float64Array,
  w: number,
  m: Mat3,
  table: Float64Array,
  curve: (v: number) => number,
  out: Float32Array,
  to: number,
  step: number
): void => {
  const [a, b, c, d, e, f, g, h, i] = m
  for (let x = 0, k = 0, o = to; x < w; x++, k += 3, o += step) {
    const r0 = src[k]!,
      g0 = src[k + 1]!,
      b0 = src[k + 2]!
    out[o] = gammaOf(table, curve, a * r0 + b * g0 + c * b0)
    out[o + 1] = gammaOf(table, curve, d * r0 + e * g0 + f * b0)
    out[o + 2] = gammaOf(table, curve, g * r0 + h * g0 + i * b0)
  }
}

/** Matrix only (no gamma) on one row, into a Float64 image for the luma filters. */
const matrixRow = (src: Float64Array, w: number, m: Mat3, out: Float64Array, to: number): void => {
  const [a, b, c, d, e, f, g, h, i] = m
  for (let x = 0, k = 0, o = to; x < w; x++, k += 3, o += 3) {
    const r0 = src[k]!,
      g0 = src[k + 1]!,
      b0 = src[k + 2]!
    out[o] = a * r0 + b * g0 + c * b0
    out[o + 1] = d * r0 + e * g0 + f * b0
    out[o + 2] = g * r0 + h * g0 + i * b0
  }
}

/** The whole ISP: raw sensor values → upright sRGB in [0, 1]. */
export const renderRaw = (raw: RawImage, p: IspParams, noise?: RawNoise): RenderResult => {
  const meta = raw.meta
  const { width: w, height: h } = meta
  const linear = meta.kind === "linear"
  if (!(w > 0 && h > 0) || raw.data.length !== w * h * (linear ? 3 : 1))
    return { ok: false, message: `the raw holds ${raw.data.length} samples, not ${w}×${h}` }
  if (!linear && !isBayer(meta.cfaPattern, meta.cfaRows, meta.cfaCols))
    return {
      ok: false,
      message: `CFAPattern ${meta.cfaRows}×${meta.cfaCols} [${meta.cfaPattern.join(",")}] is not a 2×2 Bayer pattern (the ISP demosaics Bayer only)`
    }
  const m = balancedMatrix(srgbFromCamera(meta, p.colour), whiteBalanceGains(meta, p.white_balance))
  const luma = p.denoise.method !== "none" || p.sharpen.amount !== 0
  const { table, curve } = gammaCurve(p.gamma)
  const swap = meta.orientation >= 5 && meta.orientation <= 8
  const out = luma ? undefined : new Float32Array(w * h * 3)
  const place = placement(luma ? 1 : meta.orientation, w, h)
  const full = luma ? new Float64Array(w * h * 3) : undefined
  // One row of camera RGB (demosaiced or LinearRaw), finished into `out` or `full`.
  const rgbRow = new Float64Array(w * 3)
  const finish = (y: number) => {
    if (full !== undefined) matrixRow(rgbRow, w, m, full, y * w * 3)
    else finishRow(rgbRow, w, m, table, curve, out!, place(y), place.step)
  }
  const level = blackLevelRows(raw)
  if (linear) {
    for (let y = 0; y < h; y++) {
      level(y, rgbRow, 0)
      if (noise !== undefined) addNoise(rgbRow, 0, w * 3, noise)
      finish(y)
    }
  } else {
    // Ring of padded rows: input row r lives in slot r mod (2·pad + 1); output row y needs input rows
    // mirror(y − pad … y + pad), all within [y − pad, y + pad], so each input row is levelled once, in order.
    const pad = demosaicPad(p.demosaic)
    const slots = 2 * pad + 1
    const ring: Array<Float64Array> = Array.from({ length: slots }, () => new Float64Array(w + 2 * pad))
    let next = 0
    const rows: Array<Float64Array> = new Array<Float64Array>(slots)
    for (let y = 0; y < h; y++) {
      for (const last = Math.min(h - 1, y + pad); next <= last; next++) {
        const slot = ring[next % slots]!
        level(next, slot, pad)
        if (noise !== undefined) addNoise(slot, pad, w, noise)
        mirrorRowEnds(slot, w, pad)
      }
      for (let j = 0; j < slots; j++) rows[j] = ring[mirror(y - pad + j, h) % slots]!
      demosaicRow(p.demosaic, rows, y, w, meta.cfaPattern, rgbRow, 0)
      finish(y)
    }
  }
  if (full === undefined) return { ok: true, image: { data: out!, width: swap ? h : w, height: swap ? w : h } }
  denoiseLuma(full, w, h, p.denoise)
  sharpenLuma(full, w, h, p.sharpen)
  return { ok: true, image: orient(encodeGamma(full, p.gamma), w, h, meta.orientation) }
}
