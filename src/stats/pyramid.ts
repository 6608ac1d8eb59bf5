/**
 * Pixel-distribution drift for images: the first Wasserstein distance between the reference's and
 * the batch's pixel values, per channel, and the same on a Gaussian pyramid to say at which scale
 * the batch differs. Noise or sharpening moves the fine level and vanishes once blurred (high
 * fine/global ratio); an exposure or white-balance shift moves every level alike (ratio near 1).
 */
import { wassersteinDistance } from "./wasserstein.js"

/** NHWC batch: [images, height, width, channels], row-major. */
export interface ImageBatch {
  readonly data: Float32Array | Float64Array
  readonly shape: readonly [n: number, h: number, w: number, c: number]
}

const check = (b: ImageBatch, what: string): void => {
  const [n, h, w, c] = b.shape
  if (b.shape.length !== 4 || !(n >= 1 && h >= 1 && w >= 1 && c >= 1) || b.data.length !== n * h * w * c) {
    throw new Error(`The ${what} images have shape [${b.shape.join(", ")}] and ${b.data.length} values.`)
  }
}

const channelValues = (b: ImageBatch, ch: number): Float64Array => {
  const c = b.shape[3]
  const out = new Float64Array(b.data.length / c)
  for (let i = 0, k = ch; i < out.length; i++, k += c) out[i] = b.data[k]
  return out
}

/** W1 between the reference's and the batch's values of each channel, pooled over images and pixels. */
export const channelWasserstein = (reference: ImageBatch, batch: ImageBatch): Float64Array => {
  check(reference, "reference")
  check(batch, "batch")
  const c = reference.shape[3]
  if (batch.shape[3] !== c) throw new Error(`The reference has ${c} channels, the batch ${batch.shape[3]}.`)
  const out = new Float64Array(c)
  for (let ch = 0; ch < c; ch++) out[ch] = wassersteinDistance(channelValues(reference, ch), channelValues(batch, ch))
  return out
}

// 5-tap binomial approximation of a Gaussian (sigma ~ 1), Burt & Adelson's REDUCE kernel
const TAPS = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16]

/** One REDUCE step: blur with the binomial kernel (edges replicated), keep even rows and columns. */
export const pyramidReduce = (b: ImageBatch): ImageBatch => {
  check(b, "pyramid")
  const [n, h, w, c] = b.shape
  const h2 = Math.ceil(h / 2)
  const w2 = Math.ceil(w / 2)
  const src = b.data
  const tmp = new Float64Array(h * w2 * c)
  const out = new Float64Array(n * h2 * w2 * c)
  for (let img = 0; img < n; img++) {
    const base = img * h * w * c
    for (let y = 0; y < h; y++) {
      for (let x2 = 0; x2 < w2; x2++) {
        const x = 2 * x2
        for (let ch = 0; ch < c; ch++) {
          let s = 0
          for (let t = -2; t <= 2; t++) {
            const xx = x + t < 0 ? 0 : x + t >= w ? w - 1 : x + t
            s += TAPS[t + 2] * src[base + (y * w + xx) * c + ch]
          }
          tmp[(y * w2 + x2) * c + ch] = s
        }
      }
    }
    const obase = img * h2 * w2 * c
    for (let y2 = 0; y2 < h2; y2++) {
      const y = 2 * y2
      for (let x2 = 0; x2 < w2; x2++) {
        for (let ch = 0; ch < c; ch++) {
          let s = 0
          for (let t = -2; t <= 2; t++) {
            const yy = y + t < 0 ? 0 : y + t >= h ? h - 1 : y + t
            s += TAPS[t + 2] * tmp[(yy * w2 + x2) * c + ch]
          }
          out[obase + (y2 * w2 + x2) * c + ch] = s
        }
      }
    }
  }
  return { data: out, shape: [n, h2, w2, c] }
}

/** Level 0 is the input; level k + 1 is REDUCE(level k). */
export const gaussianPyramid = (b: ImageBatch, levels: number): ReadonlyArray<ImageBatch> => {
  if (!Number.isInteger(levels) || levels < 1) throw new Error(`A pyramid needs at least 1 level; got ${levels}.`)
  const out: ImageBatch[] = [b]
  for (let k = 1; k < levels; k++) out.push(pyramidReduce(out[k - 1]))
  return out
}

export type ScaleReading = "fine-detail" | "mid-scale" | "global"

export interface PyramidOptions {
  /** Default 3 (28 -> 14 -> 7 for Fashion-MNIST). */
  readonly levels?: number
  /** ratio above this reads "fine-detail" (default 3). */
  readonly fineThreshold?: number
  /** ratio below this reads "global" (default 1.5). */
  readonly globalThreshold?: number
}

export interface PyramidLevel {
  readonly level: number
  readonly height: number
  readonly width: number
  /** W1 per channel at this level. */
  readonly perChannel: ReadonlyArray<number>
  /** Mean of perChannel. */
  readonly distance: number
}

export interface PyramidDiagnostics {
  readonly levels: ReadonlyArray<PyramidLevel>
  /** Finest level's distance / coarsest level's; 1 when both are below 1e-12 (no difference at any scale). */
  readonly ratio: number
  readonly reading: ScaleReading
}

const NEGLIGIBLE = 1e-12

/** Reading of a fine/global ratio with the given thresholds. */
export const readScaleRatio = (ratio: number, fineThreshold = 3, globalThreshold = 1.5): ScaleReading =>
  ratio > fineThreshold ? "fine-detail" : ratio < globalThreshold ? "global" : "mid-scale"

/** Per-channel W1 at each pyramid level, the fine/global ratio and its reading. */
export const pyramidDiagnostics = (
  reference: ImageBatch,
  batch: ImageBatch,
  options: PyramidOptions = {}
): PyramidDiagnostics => {
  check(reference, "reference")
  check(batch, "batch")
  const [, h, w, c] = reference.shape
  if (batch.shape[1] !== h || batch.shape[2] !== w || batch.shape[3] !== c) {
    throw new Error(`The reference images are ${h} x ${w} x ${c}, the batch's ${batch.shape.slice(1).join(" x ")}.`)
  }
  const fineThreshold = options.fineThreshold ?? 3
  const globalThreshold = options.globalThreshold ?? 1.5
  if (!(globalThreshold <= fineThreshold))
    throw new Error("The global threshold must not exceed the fine-detail threshold.")
  const levels = options.levels ?? 3
  const refPyr = gaussianPyramid(reference, levels)
  const batPyr = gaussianPyramid(batch, levels)
  const out: PyramidLevel[] = refPyr.map((r, k) => {
    const perChannel = Array.from(channelWasserstein(r, batPyr[k]))
    return {
      level: k,
      height: r.shape[1],
      width: r.shape[2],
      perChannel,
      distance: perChannel.reduce((a, b) => a + b, 0) / perChannel.length
    }
  })
  const fine = out[0].distance
  const coarse = out[out.length - 1].distance
  const ratio = fine < NEGLIGIBLE && coarse < NEGLIGIBLE ? 1 : fine / Math.max(coarse, NEGLIGIBLE)
  return { levels: out, ratio, reading: readScaleRatio(ratio, fineThreshold, globalThreshold) }
}
