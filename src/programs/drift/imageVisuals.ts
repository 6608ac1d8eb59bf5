import { gaussianPyramid, type ImageBatch, pyramidReduce } from "../../stats/pyramid.js"
import { pngDataUri } from "../../vision/png.js"

/** Bins of the per-channel pixel histograms over [0, 1]. */
export const PIXEL_BINS = 32
/** Thumbnails per side (reference, batch) in the HTML report. */
export const THUMBNAILS = 8
/** A thumbnail's longest side, in pixels, at most (larger images are reduced by the Gaussian pyramid). */
export const THUMBNAIL_SIDE = 64
const PYRAMID_SIDE = 128

export interface PixelHistograms {
  /** PIXEL_BINS + 1 equal-width edges on [0, 1]; the last bin includes 1 (numpy.histogram's rule). */
  readonly edges: ReadonlyArray<number>
  /** Per channel: pixel counts per bin. */
  readonly reference: ReadonlyArray<ReadonlyArray<number>>
  readonly batch: ReadonlyArray<ReadonlyArray<number>>
}

const channelCounts = (b: ImageBatch, bins: number): number[][] => {
  const c = b.shape[3]
  const counts = Array.from({ length: c }, () => new Array<number>(bins).fill(0))
  const d = b.data
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!
    // Values outside [0, 1] (none after decoding) are left out, as numpy.histogram's range does.
    if (!(v >= 0 && v <= 1)) continue
    const k = v === 1 ? bins - 1 : Math.floor(v * bins)
    counts[i % c]![k]! += 1
  }
  return counts
}

/** Per-channel histograms of the reference's and the batch's pixel values. */
export const pixelHistograms = (reference: ImageBatch, batch: ImageBatch, bins = PIXEL_BINS): PixelHistograms => ({
  edges: Array.from({ length: bins + 1 }, (_, i) => i / bins),
  reference: channelCounts(reference, bins),
  batch: channelCounts(batch, bins)
})

/** Images `indices` of a batch as a batch of their own. */
const pick = (b: ImageBatch, indices: ReadonlyArray<number>): ImageBatch => {
  const [, h, w, c] = b.shape
  const size = h * w * c
  const out = new Float64Array(indices.length * size)
  indices.forEach((r, i) => {
    for (let k = 0; k < size; k++) out[i * size + k] = b.data[r * size + k]!
  })
  return { data: out, shape: [indices.length, h, w, c] }
}

/** Up to `max` evenly spaced image indices of n (deterministic). */
const spaced = (n: number, max: number) =>
  Array.from({ length: Math.min(n, max) }, (_, i) => Math.floor((i * n) / Math.min(n, max)))

const uris = (b: ImageBatch): string[] => Array.from({ length: b.shape[0] }, (_, i) => pngDataUri(b.data, b.shape, i))

const shrink = (b: ImageBatch, side: number): ImageBatch => {
  let out = b
  while (Math.max(out.shape[1], out.shape[2]) > side) out = pyramidReduce(out)
  return out
}

export interface ImageDriftVisuals {
  /** PNG data: URIs, evenly spaced samples of each side, at most THUMBNAIL_SIDE pixels a side. */
  readonly thumbnails: { readonly reference: ReadonlyArray<string>; readonly batch: ReadonlyArray<string> }
  /** The first sample of each side at every pyramid level (level 0 = the image as the model sees it). */
  readonly pyramid: { readonly reference: ReadonlyArray<string>; readonly batch: ReadonlyArray<string> }
}

/** Thumbnails and pyramid images for the HTML report (not written to the JSON). */
export const imageDriftVisuals = (reference: ImageBatch, batch: ImageBatch, levels: number): ImageDriftVisuals => {
  const ref = pick(reference, spaced(reference.shape[0], THUMBNAILS))
  const bat = pick(batch, spaced(batch.shape[0], THUMBNAILS))
  // Level 0 is the image as the model sees it; one larger than PYRAMID_SIDE is shown reduced first.
  const pyramidOf = (b: ImageBatch) =>
    gaussianPyramid(shrink(pick(b, [0]), PYRAMID_SIDE), levels).map((l) => pngDataUri(l.data, l.shape, 0))
  return {
    thumbnails: { reference: uris(shrink(ref, THUMBNAIL_SIDE)), batch: uris(shrink(bat, THUMBNAIL_SIDE)) },
    pyramid: { reference: pyramidOf(ref), batch: pyramidOf(bat) }
  }
}
