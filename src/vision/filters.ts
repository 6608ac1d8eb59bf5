/**
 * Separable blurs on NHWC image batches. Edges replicate the border pixel (no dark halo on a white
 * border, no bright one on a black border), and each output is a fresh array: inputs are never mutated.
 */
import { type ImageShape, checkShape } from "./tensor.js"

/** Normalised 1-D Gaussian taps for `sigma` (> 0), radius ceil(3 sigma): centre at index radius. */
export const gaussianKernel = (sigma: number): Float64Array => {
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new Error(`A Gaussian blur needs sigma > 0; got ${sigma}.`)
  const radius = Math.max(1, Math.ceil(3 * sigma))
  const k = new Float64Array(2 * radius + 1)
  let s = 0
  for (let i = -radius; i <= radius; i++) s += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma))
  for (let i = 0; i < k.length; i++) k[i] /= s
  return k
}

/**
 * Normalised box taps of (possibly fractional) radius r >= 0: weight 1 for |i| <= floor(r) and
 * r - floor(r) for the two taps beyond, so severity can grow smoothly instead of in whole pixels.
 */
export const boxKernel = (radius: number): Float64Array => {
  if (!(radius >= 0) || !Number.isFinite(radius)) throw new Error(`A box blur needs radius >= 0; got ${radius}.`)
  const whole = Math.floor(radius)
  const frac = radius - whole
  const r = frac > 0 ? whole + 1 : whole
  const k = new Float64Array(2 * r + 1)
  for (let i = -r; i <= r; i++) k[i + r] = Math.abs(i) <= whole ? 1 : frac
  let s = 0
  for (let i = 0; i < k.length; i++) s += k[i]
  for (let i = 0; i < k.length; i++) k[i] /= s
  return k
}

/** Convolve every image and channel with `kernel` (odd length, centred) along rows, then columns. */
export const separableConvolve = (images: Float32Array, shape: ImageShape, kernel: Float64Array): Float32Array => {
  checkShape(images, shape)
  if (kernel.length % 2 !== 1) throw new Error("A separable kernel must have an odd number of taps.")
  const [n, h, w, c] = shape
  const r = (kernel.length - 1) >> 1
  const out = new Float32Array(images.length)
  const tmp = new Float64Array(h * w * c)
  const plane = h * w * c
  for (let img = 0; img < n; img++) {
    const base = img * plane
    // horizontal pass into tmp
    for (let y = 0; y < h; y++) {
      const row = base + y * w * c
      for (let x = 0; x < w; x++) {
        for (let ch = 0; ch < c; ch++) {
          let s = 0
          for (let t = -r; t <= r; t++) {
            const xx = x + t < 0 ? 0 : x + t >= w ? w - 1 : x + t
            s += kernel[t + r] * images[row + xx * c + ch]
          }
          tmp[(y * w + x) * c + ch] = s
        }
      }
    }
    // vertical pass into out
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let ch = 0; ch < c; ch++) {
          let s = 0
          for (let t = -r; t <= r; t++) {
            const yy = y + t < 0 ? 0 : y + t >= h ? h - 1 : y + t
            s += kernel[t + r] * tmp[(yy * w + x) * c + ch]
          }
          out[base + (y * w + x) * c + ch] = s
        }
      }
    }
  }
  return out
}

export const gaussianBlur = (images: Float32Array, shape: ImageShape, sigma: number): Float32Array =>
  separableConvolve(images, shape, gaussianKernel(sigma))

export const boxBlur = (images: Float32Array, shape: ImageShape, radius: number): Float32Array =>
  separableConvolve(images, shape, boxKernel(radius))
