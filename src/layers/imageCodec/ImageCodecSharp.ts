import { Effect, Either, Layer } from "effect"
import { TrainingError } from "../../domain/errors.js"
import { ImageCodec, type ImageBatch } from "../../services/ImageCodec.js"
import { decodeImages, scanImageFolder, validateImageFolder } from "./imageFolder.js"
import { jpegReencode } from "./jpeg.js"
import { readTensorFile, writeTensorFile } from "./tensorFile.js"

const asTraining = (e: { readonly message: string }) => new TrainingError({ model: "images", message: e.message })

const shape4 = (s: ReadonlyArray<number>): ImageBatch["shape"] => {
  if (s.length !== 4) throw new Error(`expected an NHWC tensor, got shape [${s.join(", ")}]`)
  return [s[0]!, s[1]!, s[2]!, s[3]!]
}

/** sharp-backed image decoding; sharp is loaded on first use only. */
export const ImageCodecSharp = Layer.succeed(
  ImageCodec,
  ImageCodec.of({
    scan: (root) =>
      scanImageFolder(root).pipe(
        Effect.map((s) => ({
          files: s.files.map((f) => ({ path: f.path, absolutePath: f.absolutePath, label: f.label, sha256: f.sha256 })),
          classes: s.classes,
          version: s.version
        })),
        Effect.mapError(asTraining)
      ),
    validate: (root, properties, labelClasses, options) => validateImageFolder(root, properties, labelClasses, options),
    decode: (files, p, options) =>
      decodeImages(files, p.target_size, p.channels, {
        formats: p.expected_formats,
        ...(options?.maxPixels !== undefined ? { maxPixels: options.maxPixels } : {})
      }).pipe(
        Effect.map((d) => ({ data: d.data, shape: shape4(d.shape) })),
        Effect.mapError(asTraining)
      ),
    jpegReencode: (images, quality) =>
      jpegReencode(images.data, images.shape, quality).pipe(
        Effect.map((data) => ({ data: data as Float32Array, shape: images.shape })),
        Effect.mapError(
          (e) => new TrainingError({ model: "images", message: String((e as { message?: string }).message ?? e) })
        )
      ),
    writeTensor: (images) => writeTensorFile(images.data, images.shape),
    readTensor: (bytes) => {
      const r = readTensorFile(bytes)
      return Either.isRight(r)
        ? Effect.try({
            try: () => ({ data: r.right.data, shape: shape4(r.right.shape) }),
            catch: (e) => new TrainingError({ model: "images", message: String(e) })
          })
        : Effect.fail(asTraining(r.left))
    }
  })
)
