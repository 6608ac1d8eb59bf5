// Saving and loading the CNN: a standard tfjs model.json + weights.bin pair and driftgate's
// metadata, as bytes in memory (the caller reads and writes the files).
import * as tf from "@tensorflow/tfjs"
import { Either, ParseResult, Schema } from "effect"
import type { CnnArch, CnnInputShape, CnnModel } from "./cnnNetwork.js"

/** What saveCnn returns and loadCnn takes; the caller writes the files (model.json, weights.bin, meta). */
export interface CnnArtifact {
  /** tfjs "layers-model" model.json, its manifest pointing at "weights.bin". */
  readonly modelJson: string
  readonly weights: Uint8Array
  readonly meta: CnnMeta
}

export interface CnnMeta {
  readonly format: "driftgate-cnn"
  readonly version: 1
  readonly arch: CnnArch
  readonly inputShape: CnnInputShape
  readonly nClasses: number
  readonly seed?: number
  readonly backend?: string
  readonly learningRate?: number
}

const exact = { exact: true } as const

const ConvSpec = Schema.Struct({
  filters: Schema.Number,
  kernel: Schema.Number,
  stride: Schema.optionalWith(Schema.Number, exact),
  padding: Schema.optionalWith(Schema.Literal("same", "valid"), exact)
})

const CnnArchSchema = Schema.Struct({
  conv: Schema.Array(ConvSpec),
  pool: Schema.Literal("max", "avg"),
  dense: Schema.Array(Schema.Number),
  dropout: Schema.Number
})

/** The metadata saveCnn writes, as loadCnn checks it (the meta may come from a file of any age). */
export const CnnMetaSchema: Schema.Schema<CnnMeta> = Schema.Struct({
  format: Schema.Literal("driftgate-cnn"),
  version: Schema.Literal(1),
  arch: CnnArchSchema,
  inputShape: Schema.Tuple(Schema.Number, Schema.Number, Schema.Number),
  nClasses: Schema.Number,
  seed: Schema.optionalWith(Schema.Number, exact),
  backend: Schema.optionalWith(Schema.String, exact),
  learningRate: Schema.optionalWith(Schema.Number, exact)
})

/** The parts of a tfjs "layers-model" model.json that loading reads (other keys are kept as they are). */
const TfjsModelJson = Schema.parseJson(
  Schema.Struct({
    modelTopology: Schema.Object,
    weightsManifest: Schema.Array(
      Schema.Struct({
        weights: Schema.Array(
          Schema.Struct({
            name: Schema.String,
            shape: Schema.mutable(Schema.Array(Schema.Number)),
            dtype: Schema.Literal("float32", "int32", "bool", "string", "complex64")
          })
        )
      })
    )
  })
)

/** One sentence: what was being read, where in it, and what is wrong. */
const decodeOrThrow = <A, I>(schema: Schema.Schema<A, I>, what: string, input: unknown): A => {
  const decoded = Schema.decodeUnknownEither(schema, { onExcessProperty: "preserve" })(input)
  if (Either.isRight(decoded)) return decoded.right
  const issue = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)[0]
  const at = issue !== undefined && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : ""
  throw new Error(`${what} cannot be read${at}: ${issue?.message ?? decoded.left.message}`)
}

const WEIGHTS_FILE = "weights.bin"

const concatWeights = (data: ArrayBuffer | ArrayBuffer[]): Uint8Array => {
  const parts = Array.isArray(data) ? data : [data]
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0))
  let at = 0
  for (const p of parts) {
    out.set(new Uint8Array(p), at)
    at += p.byteLength
  }
  return out
}

/** Serialises to a standard tfjs model.json + weights.bin pair (no file I/O here). */
export const saveCnn = async (
  m: CnnModel,
  extra: { readonly seed?: number; readonly backend?: string; readonly learningRate?: number } = {}
): Promise<CnnArtifact> => {
  let saved: tf.io.ModelArtifacts | undefined
  await m.model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: "JSON" } }
    })
  )
  if (saved === undefined || saved.weightData === undefined || saved.weightSpecs === undefined) {
    throw new Error("tfjs returned no weights to save")
  }
  const modelJson = JSON.stringify({
    format: "layers-model",
    generatedBy: saved.generatedBy,
    convertedBy: null,
    modelTopology: saved.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: saved.weightSpecs }]
  })
  const meta: CnnMeta = {
    format: "driftgate-cnn",
    version: 1,
    arch: m.arch,
    inputShape: m.inputShape,
    nClasses: m.nClasses,
    ...extra
  }
  return { modelJson, weights: concatWeights(saved.weightData), meta }
}

/** Rebuilds a model from saveCnn's output (bytes in memory; the caller read the files). */
export const loadCnn = async (artifact: CnnArtifact): Promise<CnnModel> => {
  if (artifact.meta.format !== "driftgate-cnn" || artifact.meta.version !== 1)
    throw new Error(
      `Not a driftgate CNN artifact (format ${String(artifact.meta.format)}, version ${String(artifact.meta.version)}).`
    )
  const meta = decodeOrThrow(CnnMetaSchema, "The CNN's metadata", artifact.meta)
  const json = decodeOrThrow(TfjsModelJson, "The CNN's tfjs model.json", artifact.modelJson)
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights)
  const bytes = artifact.weights
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData })
  )
  return { model, arch: meta.arch, inputShape: meta.inputShape, nClasses: meta.nClasses }
}
