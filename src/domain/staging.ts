import { Schema } from "effect"

/** What a drift-training staging records about the batch it was made from. */
const StagedBatch = Schema.Struct({
  file: Schema.String,
  sha256: Schema.String,
  rows: Schema.Number,
  train_rows: Schema.Number,
  holdout_rows: Schema.Number,
  holdout: Schema.Number
})

/** The deployed model's score on the held-out drifted rows when the batch was staged: the "before". */
const StagingBaseline = Schema.Struct({
  model: Schema.String,
  version: Schema.Number,
  run_id: Schema.String,
  metrics: Schema.Record({ key: Schema.String, value: Schema.Number })
})

const common = {
  format: Schema.Literal("driftgate.staging/1"),
  id: Schema.String,
  created_at: Schema.String,
  actor: Schema.String,
  dataset: Schema.String,
  /** The raw data's version the staging was made against. */
  base_version: Schema.String,
  /** The version of raw + the batch's training part (what the next run trains on). */
  merged_version: Schema.String,
  batch: StagedBatch,
  baseline: StagingBaseline
}

/** staged.json of a tabular dataset: an active drift-training staging. */
export const TabularStagingSchema = Schema.Struct({
  ...common,
  merged_key: Schema.String,
  holdout_key: Schema.String
})
export interface Staging extends Schema.Schema.Type<typeof TabularStagingSchema> {}

export const StagedImageSchema = Schema.Struct({
  /** Path in the merged dataset ("drift-<id>/<class>/<file>"). */
  path: Schema.String,
  /** Where the bytes are read from (the copy in the workspace when it is on disk). */
  source: Schema.String,
  label: Schema.String,
  sha256: Schema.String
})
export interface StagedImage extends Schema.Schema.Type<typeof StagedImageSchema> {}

/** staged.json of an image dataset. */
export const ImageStagingSchema = Schema.Struct({
  ...common,
  kind: Schema.Literal("images"),
  train_files: Schema.Array(StagedImageSchema),
  holdout_files: Schema.Array(StagedImageSchema)
})
export interface ImageStaging extends Schema.Schema.Type<typeof ImageStagingSchema> {}

/** Either kind of staged.json (image stagings carry kind: "images"). */
export const StagingRecordSchema = Schema.Union(ImageStagingSchema, TabularStagingSchema)
export type StagingRecord = Staging | ImageStaging

export const isImageStaging = (s: StagingRecord): s is ImageStaging => "kind" in s && s.kind === "images"
