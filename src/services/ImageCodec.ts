import { Context, type Effect } from "effect"
import type { ImageProperties } from "../domain/dataset.js"
import type { TrainingError, Violation } from "../domain/errors.js"

export interface ImageFile {
  /** Relative to the image root, POSIX ("coat/00012.png"). */
  readonly path: string
  readonly absolutePath: string
  readonly label: string | null
  readonly sha256: string
}

export interface ImageBatch {
  /** NHWC in [0, 1]. */
  readonly data: Float32Array
  readonly shape: readonly [number, number, number, number]
}

/** Reading and decoding image folders (the sharp I/O edge), and the tensor file format. */
export class ImageCodec extends Context.Tag("driftgate/ImageCodec")<
  ImageCodec,
  {
    /** Every file with its SHA-256 and the folder's byte-level version. */
    readonly scan: (
      root: string
    ) => Effect.Effect<
      { readonly files: ReadonlyArray<ImageFile>; readonly classes: ReadonlyArray<string>; readonly version: string },
      TrainingError
    >
    /** Every problem at once: unreadable or corrupt files, wrong formats, too few per class, unknown classes, mixed channels. */
    readonly validate: (
      root: string,
      properties: ImageProperties,
      labelClasses: ReadonlyArray<string> | undefined,
      options?: { readonly allowFlat?: boolean }
    ) => Effect.Effect<ReadonlyArray<Violation>>
    /** Decodes files (paths) or encoded bytes (uploads) exactly like training: resize, channels, x/255. */
    readonly decode: (
      files: ReadonlyArray<string | Uint8Array>,
      properties: ImageProperties,
      options?: { readonly maxPixels?: number }
    ) => Effect.Effect<ImageBatch, TrainingError>
    readonly jpegReencode: (images: ImageBatch, quality: number) => Effect.Effect<ImageBatch, TrainingError>
    readonly writeTensor: (images: ImageBatch) => Uint8Array
    readonly readTensor: (bytes: Uint8Array) => Effect.Effect<ImageBatch, TrainingError>
  }
>() {}
