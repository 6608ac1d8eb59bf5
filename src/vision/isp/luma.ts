/**
 * Stages 5 and 6, denoise and sharpen on luma: both filter the linear luminance
 * Y = 0.2126 R + 0.7152 G + 0.0722 B and add the change to every channel, leaving chroma alone.
 * Borders replicate the edge pixel (SciPy's "nearest").
 */
import type { IspParams } from "../../domain/isp.js"

export const luminance = (rgb: Float64Array): Float64Array => {
  const y = new Float64Array(rgb.length / 3)
  for (let i = 0, k = 0; i < y.length; i++, k += 3)
    y[i] = 0.2126 * rgb[k]! + 0.7152 * rgb[k + 1]! + 0.0722 * rgb[k + 2]!
  return y
}

/** Normalised Gaussian taps to radius round(3 sigma) (SciPy's gaussian_filter with truncate = 3). */
export const gaussianTaps = (sigma: number): Float64Array => {
  const r = Math.floor(3 * sigma + 0.5)
  const k = new Float64Array(2 * r + 1)
  let s = 0
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma))
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / s
  return k
}

const clampIndex = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i)

/** Separable Gaussian blur of one plane. */
export const gaussianPlane = (plane: Float64Array, w: number, h: number, sigma: number): Float64Array => {
  const k = gaussianTaps(sigma)
  const r = (k.length - 1) >> 1
  const tmp = new Float64Array(plane.length)
  const out = new Float64Array(plane.length)
  for (let y = 0; y < h; y++) {
    const row = y * w
    for (let x = 0; x < w; x++) {
      let s = 0
      if (x >= r && x + r < w) for (let t = -r; t <= r; t++) s += k[t + r]! * plane[row + x + t]!
      else for (let t = -r; t <= r; t++) s += k[t + r]! * plane[row + clampIndex(x + t, w)]!
      tmp[row + x] = s
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0
      if (y >= r && y + r < h) for (let t = -r; t <= r; t++) s += k[t + r]! * tmp[(y + t) * w + x]!
      else for (let t = -r; t <= r; t++) s += k[t + r]! * tmp[clampIndex(y + t, h) * w + x]!
      out[y * w + x] = s
    }
  }
  return out
}

/** Median over a size × size window of one plane. */
export const medianPlane = (plane: Float64Array, w: number, h: number, size: number): Float64Array => {
  const r = size >> 1
  const out = new Float64Array(plane.length)
  const win = new Float64Array(size * size)
  const mid = (size * size) >> 1
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let n = 0
      for (let dy = -r; dy <= r; dy++) {
        const row = clampIndex(y + dy, h) * w
        for (let dx = -r; dx <= r; dx++) win[n++] = plane[row + clampIndex(x + dx, w)]!
      }
      // Insertion sort: the window is at most 49 values.
      for (let i = 1; i < n; i++) {
        const v = win[i]!
        let j = i - 1
        while (j >= 0 && win[j]! > v) {
          win[j + 1] = win[j]!
          j--
        }
        win[j + 1] = v
      }
      out[y * w + x] = win[mid]!
    }
  }
  return out
}

const addLumaChange = (rgb: Float64Array, before: Float64Array, after: Float64Array): Float64Array => {
  for (let i = 0, k = 0; i < before.length; i++, k += 3) {
    const d = after[i]! - before[i]!
    rgb[k] += d
    rgb[k + 1] += d
    rgb[k + 2] += d
  }
  return rgb
}

/** Denoise luma in place (none: unchanged). */
export const denoiseLuma = (rgb: Float64Array, w: number, h: number, p: IspParams["denoise"]): Float64Array => {
  if (p.method === "none") return rgb
  const y = luminance(rgb)
  const f = p.method === "gaussian" ? gaussianPlane(y, w, h, p.sigma) : medianPlane(y, w, h, p.size)
  return addLumaChange(rgb, y, f)
}

/** Unsharp mask on luma in place (amount 0: unchanged). */
export const sharpenLuma = (rgb: Float64Array, w: number, h: number, p: IspParams["sharpen"]): Float64Array => {
  if (p.amount === 0) return rgb
  const y = luminance(rgb)
  const blurred = gaussianPlane(y, w, h, p.sigma)
  const s = new Float64Array(y.length)
  for (let i = 0; i < y.length; i++) s[i] = y[i]! + p.amount * (y[i]! - blurred[i]!)
  return addLumaChange(rgb, y, s)
}
