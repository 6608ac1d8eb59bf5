/**
 * Area-average resize of an interleaved image to the model's [height, width] (exact box integration
 * over each output pixel's footprint, so a large raw render shrinks without aliasing), optionally
 * to one grey channel (Rec. 709 weights). The result is one NHWC image for the tensor path.
 */
import type { RgbImage } from "./pipeline.js"

/** Weights of source pixels covering output index i when n source pixels map to m outputs. */
const footprints = (n: number, m: number): Array<ReadonlyArray<readonly [number, number]>> => {
  const scale = n / m
  const out: Array<Array<readonly [number, number]>> = []
  for (let i = 0; i < m; i++) {
    const a = i * scale
    const b = (i + 1) * scale
    const taps: Array<readonly [number, number]> = []
    for (let s = Math.floor(a); s < Math.min(n, Math.ceil(b)); s++) {
      const wgt = Math.min(b, s + 1) - Math.max(a, s)
      if (wgt > 0) taps.push([s, wgt / scale])
    }
    out.push(taps)
  }
  return out
}

export const resizeArea = (img: RgbImage, height: number, width: number, channels: 1 | 3): Float32Array => {
  const fx = footprints(img.width, width)
  const fy = footprints(img.height, height)
  const src = img.data
  // Horizontal pass into a height × width × 3 intermediate, then vertical.
  const tmp = new Float64Array(img.height * width * 3)
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0,
        g = 0,
        b = 0
      for (const [s, wgt] of fx[x]!) {
        const k = (y * img.width + s) * 3
        r += wgt * src[k]!
        g += wgt * src[k + 1]!
        b += wgt * src[k + 2]!
      }
      const o = (y * width + x) * 3
      tmp[o] = r
      tmp[o + 1] = g
      tmp[o + 2] = b
    }
  }
  const out = new Float32Array(height * width * channels)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0,
        g = 0,
        b = 0
      for (const [s, wgt] of fy[y]!) {
        const k = (s * width + x) * 3
        r += wgt * tmp[k]!
        g += wgt * tmp[k + 1]!
        b += wgt * tmp[k + 2]!
      }
      const o = (y * width + x) * channels
      if (channels === 3) {
        out[o] = r
        out[o + 1] = g
        out[o + 2] = b
      } else out[o] = 0.2126 * r + 0.7152 * g + 0.0722 * b
    }
  }
  return out
}
