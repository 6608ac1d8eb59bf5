import { Data } from "effect"

/** A file or folder of images could not be read, decoded or encoded. */
export class ImageIoError extends Data.TaggedError("ImageIoError")<{
  readonly op: string
  readonly path: string
  readonly message: string
}> {}

/** Bytes that are not a well-formed DGT1 tensor file or sidecar. */
export class TensorFileError extends Data.TaggedError("TensorFileError")<{
  readonly message: string
}> {}

export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e))
