/**
 * JPEG re-encoding as a robustness perturbation: quantise to 8 bits, encode at a given quality
 * with libjpeg (via sharp, 4:2:0 chroma for colour), decode back. Deterministic for a given sharp
 * build. Separate from vision/perturb.ts because it needs the codec, so it is an Effect.
 */
import { Effect } from "effect"
import type { Severity } from "../../vision/perturb.js"
import { type ImageShape, checkShape, imageSize } from "../../vision/tensor.js"
import { ImageIoError, errorMessage } from "./errors.js"
import { loadSharp } from "./sharp.js"

/** Quality by severity 1..5. */
export const JPEG_QUALITY: readonly [number, number, number, number, number] = [80, 60, 40, 25, 10]

export const jpegReencode = (
  images: Float32Array,
  shape: ImageShape,
  quality: number
): Effect.Effect<Float32Array, ImageIoError> =>
  Effect.gen(function* () {
    yield* Effect.try({
      try: () => checkShape(images, shape),
      catch: (e) => new ImageIoError({ op: "jpeg", path: "", message: errorMessage(e) })
    })
    const [n, h, w, c] = shape
    if (c !== 1 && c !== 3)
      return yield* Effect.fail(
        new ImageIoError({ op: "jpeg", path: "", message: `JPEG holds 1 or 3 channels; the images have ${c}` })
      )
    if (!(Number.isInteger(quality) && quality >= 1 && quality <= 100)) {
      return yield* Effect.fail(
        new ImageIoError({ op: "jpeg", path: "", message: `JPEG quality must be an integer in 1..100; got ${quality}` })
      )
    }
    const sharp = yield* loadSharp
    const size = imageSize(shape)
    const out = new Float32Array(images.length)
    yield* Effect.forEach(
      Array.from({ length: n }, (_, i) => i),
      (i) =>
        Effect.tryPromise({
          try: async () => {
            const bytes = new Uint8Array(size)
            for (let k = 0; k < size; k++) {
              const v = Math.round(images[i * size + k] * 255)
              bytes[k] = v < 0 ? 0 : v > 255 ? 255 : v
            }
            const jpeg = await sharp(bytes, { raw: { width: w, height: h, channels: c } })
              .jpeg({ quality, chromaSubsampling: "4:2:0", mozjpeg: false })
              .toBuffer()
            const { data, info } = await sharp(jpeg)
              .toColourspace(c === 1 ? "b-w" : "srgb")
              .raw({ depth: "uchar" })
              .toBuffer({ resolveWithObject: true })
            if (info.channels !== c || data.length !== size)
              throw new Error(`decoded ${info.width} x ${info.height} x ${info.channels}`)
            for (let k = 0; k < size; k++) out[i * size + k] = data[k] / 255
          },
          catch: (e) => new ImageIoError({ op: "jpeg", path: `image ${i}`, message: errorMessage(e) })
        }),
      { concurrency: 8, discard: true }
    )
    return out
  })

/** Like vision's Perturbation, but effectful (the codec runs in libvips). */
export interface CodecPerturbation {
  readonly name: string
  readonly family: "jpeg"
  readonly severity: Severity
  readonly apply: (images: Float32Array, shape: ImageShape) => Effect.Effect<Float32Array, ImageIoError>
}

export const jpegPerturbation = (severity: Severity): CodecPerturbation => ({
  name: `jpeg_s${severity}`,
  family: "jpeg",
  severity,
  apply: (images, shape) => jpegReencode(images, shape, JPEG_QUALITY[severity - 1])
})

/** Severities 1, 3, 5, as DEFAULT_PERTURBATIONS. */
export const JPEG_PERTURBATIONS: ReadonlyArray<CodecPerturbation> = [1, 3, 5].map((s) =>
  jpegPerturbation(s as Severity)
)
