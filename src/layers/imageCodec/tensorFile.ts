/**
 * DGT1: a tiny binary tensor format for decoded image splits, plus a JSON sidecar with the labels
 * and source paths. Layout (all integers little-endian):
 *   bytes 0-3   "DGT1"
 *   byte  4     dtype: 1 = float32 (the only one today)
 *   byte  5     rank r (1..8)
 *   bytes 6-7   zero (keeps the dims and data 4-byte aligned)
 *   r x uint32  dims
 *   data        prod(dims) float32 values, little-endian, row-major
 * The sidecar records the tensor file's SHA-256, so a label list cannot be paired with the wrong tensor.
 */
import { Either, Schema } from "effect"
import { createHash } from "node:crypto"
import { TensorFileError } from "./errors.js"

const MAGIC = [0x44, 0x47, 0x54, 0x31] // "DGT1"
const DTYPE_FLOAT32 = 1
const MAX_RANK = 8

export interface TensorData {
  readonly data: Float32Array
  readonly shape: ReadonlyArray<number>
}

const count = (shape: ReadonlyArray<number>): number => shape.reduce((a, b) => a * b, 1)

/** Throws on a shape that does not match the data (a caller's bug, not a data fault). */
export const writeTensorFile = (tensor: Float32Array, shape: ReadonlyArray<number>): Uint8Array => {
  if (
    shape.length < 1 ||
    shape.length > MAX_RANK ||
    !shape.every((d) => Number.isInteger(d) && d >= 0 && d <= 0xffffffff)
  ) {
    throw new Error(`A DGT1 shape has 1 to ${MAX_RANK} dims, each a uint32; got [${shape.join(", ")}].`)
  }
  if (count(shape) !== tensor.length)
    throw new Error(`The shape [${shape.join(", ")}] needs ${count(shape)} values; the tensor has ${tensor.length}.`)
  const header = 8 + 4 * shape.length
  const out = new Uint8Array(header + 4 * tensor.length)
  const view = new DataView(out.buffer)
  out.set(MAGIC, 0)
  view.setUint8(4, DTYPE_FLOAT32)
  view.setUint8(5, shape.length)
  shape.forEach((d, i) => view.setUint32(8 + 4 * i, d, true))
  for (let i = 0; i < tensor.length; i++) view.setFloat32(header + 4 * i, tensor[i], true)
  return out
}

export const readTensorFile = (bytes: Uint8Array): Either.Either<TensorData, TensorFileError> => {
  const fail = (message: string) => Either.left(new TensorFileError({ message }))
  if (MAGIC.some((b, i) => bytes[i] !== b))
    return fail("the bytes do not start with the DGT1 magic (not a driftgate tensor file)")
  if (bytes.length < 8) return fail(`the file is truncated (${bytes.length} bytes, shorter than a DGT1 header)`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const dtype = view.getUint8(4)
  if (dtype !== DTYPE_FLOAT32) return fail(`unknown dtype code ${dtype} (1 = float32)`)
  const rank = view.getUint8(5)
  if (rank < 1 || rank > MAX_RANK) return fail(`rank ${rank} is outside 1..${MAX_RANK}`)
  const header = 8 + 4 * rank
  if (bytes.length < header) return fail(`the header needs ${header} bytes; the file has ${bytes.length}`)
  const shape: number[] = []
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(8 + 4 * i, true))
  const n = count(shape)
  if (bytes.length !== header + 4 * n)
    return fail(`shape [${shape.join(", ")}] needs ${header + 4 * n} bytes; the file has ${bytes.length}`)
  const data = new Float32Array(n)
  for (let i = 0; i < n; i++) data[i] = view.getFloat32(header + 4 * i, true)
  return Either.right({ data, shape })
}

/** What travels next to a DGT1 file (split.dgt -> split.json). */
export const TensorSidecar = Schema.Struct({
  format: Schema.Literal("driftgate-tensor/1"),
  /** SHA-256 of the DGT1 file's bytes. */
  tensor_sha256: Schema.String,
  shape: Schema.Array(Schema.Number),
  /** Class names, in the order label indices refer to. */
  classes: Schema.Array(Schema.String),
  /** One class name per image (row of the tensor's first dim). */
  labels: Schema.Array(Schema.String),
  /** One source path per image, relative to the image root. */
  paths: Schema.Array(Schema.String)
})
export type TensorSidecar = typeof TensorSidecar.Type

export const tensorSidecar = (
  tensorFile: Uint8Array,
  shape: ReadonlyArray<number>,
  classes: ReadonlyArray<string>,
  labels: ReadonlyArray<string>,
  paths: ReadonlyArray<string>
): TensorSidecar => ({
  format: "driftgate-tensor/1",
  tensor_sha256: createHash("sha256").update(tensorFile).digest("hex"),
  shape: [...shape],
  classes: [...classes],
  labels: [...labels],
  paths: [...paths]
})

export const encodeTensorSidecar = (s: TensorSidecar): string => `${JSON.stringify(s, null, 2)}\n`

/**
 * Parse a sidecar and check it against its tensor file when given: the digest, the shape, one
 * label and one path per image, every label among the classes.
 */
export const decodeTensorSidecar = (
  text: string,
  tensorFile?: Uint8Array
): Either.Either<TensorSidecar, TensorFileError> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return Either.left(new TensorFileError({ message: `the sidecar is not JSON: ${String(e)}` }))
  }
  return Schema.decodeUnknownEither(TensorSidecar)(json).pipe(
    Either.mapLeft(
      (e) => new TensorFileError({ message: `the sidecar does not match driftgate-tensor/1: ${e.message}` })
    ),
    Either.flatMap((s) => {
      const fail = (message: string) => Either.left(new TensorFileError({ message }))
      const n = s.shape[0] ?? 0
      if (s.labels.length !== n || s.paths.length !== n)
        return fail(`the sidecar lists ${s.labels.length} labels and ${s.paths.length} paths for ${n} images`)
      const classes = new Set(s.classes)
      const stray = s.labels.find((l) => !classes.has(l))
      if (stray !== undefined) return fail(`the label "${stray}" is not among the sidecar's classes`)
      if (tensorFile !== undefined) {
        const digest = createHash("sha256").update(tensorFile).digest("hex")
        if (digest !== s.tensor_sha256)
          return fail(`the tensor file's SHA-256 is ${digest}, the sidecar expects ${s.tensor_sha256}`)
        const t = readTensorFile(tensorFile)
        if (Either.isLeft(t)) return Either.left(t.left)
        if (t.right.shape.join(",") !== s.shape.join(","))
          return fail(
            `the tensor's shape [${t.right.shape.join(", ")}] differs from the sidecar's [${s.shape.join(", ")}]`
          )
      }
      return Either.right(s)
    })
  )
}
