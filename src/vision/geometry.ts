/**
 * Geometric transforms on NHWC image batches, all bilinear on pixel centres (pixel i sits at i, the
 * image centre at ((w - 1) / 2, (h - 1) / 2)). Outputs are fresh arrays of the input's shape.
 */
import { type ImageShape, checkShape, imageSize } from "./tensor.js"

/** Mirror every image left-right. Applying it twice gives the input back exactly. */
export const flipHorizontal = (images: Float32Array, shape: ImageShape): Float32Array => {
  checkShape(images, shape)
  const [n, h, w, c] = shape
  const out = new Float32Array(images.length)
  for (let img = 0; img < n; img++) {
    for (let y = 0; y < h; y++) {
      const row = (img * h + y) * w * c
      for (let x = 0; x < w; x++) {
        const src = row + (w - 1 - x) * c
        const dst = row + x * c
        for (let ch = 0; ch < c; ch++) out[dst + ch] = images[src + ch]
      }
    }
  }
  return out
}

/**
 * Rotate image i by degrees[i] (counter-clockwise as displayed, y pointing down) about its centre,
 * sampling bilinearly; source pixels outside the image read as `fill` (0: the black background of
 * Fashion-MNIST), so the corners fade into the background rather than smearing the border.
 */
export const rotate = (images: Float32Array, shape: ImageShape, degrees: ArrayLike<number>, fill = 0): Float32Array => {
  checkShape(images, shape)
  const [n, h, w, c] = shape
  if (degrees.length !== n) throw new Error(`rotate needs one angle per image: ${n} images, ${degrees.length} angles.`)
  const size = imageSize(shape)
  const out = new Float32Array(images.length)
  const cx = (w - 1) / 2
  const cy = (h - 1) / 2
  for (let img = 0; img < n; img++) {
    const theta = (degrees[img] * Math.PI) / 180
    const cos = Math.cos(theta)
    const sin = Math.sin(theta)
    const base = img * size
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // inverse map: output (x, y) samples the source at R(-theta) (x - c) + c; with y down a
        // counter-clockwise display rotation is R(theta) = [[cos, sin], [-sin, cos]]
        const dx = x - cx
        const dy = y - cy
        const sx = cos * dx - sin * dy + cx
        const sy = sin * dx + cos * dy + cy
        const x0 = Math.floor(sx)
        const y0 = Math.floor(sy)
        const fx = sx - x0
        const fy = sy - y0
        const dst = base + (y * w + x) * c
        for (let ch = 0; ch < c; ch++) {
          const p00 = x0 >= 0 && x0 < w && y0 >= 0 && y0 < h ? images[base + (y0 * w + x0) * c + ch] : fill
          const p01 = x0 + 1 >= 0 && x0 + 1 < w && y0 >= 0 && y0 < h ? images[base + (y0 * w + x0 + 1) * c + ch] : fill
          const p10 =
            x0 >= 0 && x0 < w && y0 + 1 >= 0 && y0 + 1 < h ? images[base + ((y0 + 1) * w + x0) * c + ch] : fill
          const p11 =
            x0 + 1 >= 0 && x0 + 1 < w && y0 + 1 >= 0 && y0 + 1 < h
              ? images[base + ((y0 + 1) * w + x0 + 1) * c + ch]
              : fill
          out[dst + ch] = (1 - fy) * ((1 - fx) * p00 + fx * p01) + fy * ((1 - fx) * p10 + fx * p11)
        }
      }
    }
  }
  return out
}

/**
 * Keep the centred `fraction` (0 < f <= 1) of each side and resize it back to h x w bilinearly
 * (half-pixel centres, edges clamped): a zoom-in that cuts the border. fraction 1 is the identity.
 */
export const centreCropResize = (images: Float32Array, shape: ImageShape, fraction: number): Float32Array => {
  checkShape(images, shape)
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`A centre crop keeps a fraction in (0, 1]; got ${fraction}.`)
  const [n, h, w, c] = shape
  const size = imageSize(shape)
  const out = new Float32Array(images.length)
  const ch0 = fraction * h
  const cw0 = fraction * w
  const top = (h - ch0) / 2
  const left = (w - cw0) / 2
  for (let img = 0; img < n; img++) {
    const base = img * size
    for (let y = 0; y < h; y++) {
      let sy = top + ((y + 0.5) * ch0) / h - 0.5
      sy = sy < 0 ? 0 : sy > h - 1 ? h - 1 : sy
      const y0 = Math.floor(sy)
      const y1 = y0 + 1 < h ? y0 + 1 : y0
      const fy = sy - y0
      for (let x = 0; x < w; x++) {
        let sx = left + ((x + 0.5) * cw0) / w - 0.5
        sx = sx < 0 ? 0 : sx > w - 1 ? w - 1 : sx
        const x0 = Math.floor(sx)
        const x1 = x0 + 1 < w ? x0 + 1 : x0
        const fx = sx - x0
        const dst = base + (y * w + x) * c
        for (let ch = 0; ch < c; ch++) {
          const p00 = images[base + (y0 * w + x0) * c + ch]
          const p01 = images[base + (y0 * w + x1) * c + ch]
          const p10 = images[base + (y1 * w + x0) * c + ch]
          const p11 = images[base + (y1 * w + x1) * c + ch]
          out[dst + ch] = (1 - fy) * ((1 - fx) * p00 + fx * p01) + fy * ((1 - fx) * p10 + fx * p11)
        }
      }
    }
  }
  return out
}
