import { Effect, Either, ParseResult, Schema } from "effect"
import { WorkspaceFileInvalid } from "../domain/errors.js"
import { Storage } from "../services/Storage.js"

const pathText = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc === "" ? String(p) : `${acc}.${String(p)}`),
    ""
  )

/** Parses and decodes the text of a workspace JSON file; any problem is one sentence naming the file. */
export const decodeJsonText = <A, I>(text: string, schema: Schema.Schema<A, I>, file: string, what: string) =>
  Effect.gen(function* () {
    const json = yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (e) =>
        new WorkspaceFileInvalid({
          file,
          what,
          message: `it is not JSON (${e instanceof Error ? e.message : String(e)})`,
          cause: e
        })
    })
    const decoded = Schema.decodeUnknownEither(schema)(json)
    if (Either.isRight(decoded)) return decoded.right
    const first = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)[0]
    const at = first === undefined || first.path.length === 0 ? "" : ` at "${pathText(first.path)}"`
    return yield* Effect.fail(
      new WorkspaceFileInvalid({
        file,
        what,
        message: `${first?._tag === "Missing" ? "a required key is missing" : (first?.message ?? "it does not decode")}${at}`
      })
    )
  })

/** Reads a JSON file driftgate wrote into the workspace and decodes it with the schema it was written with. */
export const readWorkspaceJson = <A, I>(key: string, schema: Schema.Schema<A, I>, what: string) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const text = yield* storage.readText(key)
    return yield* decodeJsonText(text, schema, storage.locate(key), what)
  })

/** A split of an image dataset: relative paths and labels (images stay where they are). */
export const ImageSplitSchema = Schema.Struct({
  paths: Schema.Array(Schema.String),
  /** Absolute file each image is decoded from (raw images, or staged drift images). */
  sources: Schema.optional(Schema.Array(Schema.String)),
  labels: Schema.Array(Schema.String)
})
export interface ImageSplit extends Schema.Schema.Type<typeof ImageSplitSchema> {}

/** The sidecar of a preprocessed image split (<split>.json beside <split>.dgt). */
export const ImageSidecarSchema = Schema.Struct({
  shape: Schema.Array(Schema.Number),
  classes: Schema.Array(Schema.String),
  labels: Schema.Array(Schema.String),
  paths: Schema.Array(Schema.String)
})

/** The part of a model's metadata.json that names the data it was trained on. */
export const ModelOriginSchema = Schema.Struct({
  dataset: Schema.String,
  dataset_version: Schema.String,
  split_id: Schema.String
})
