import { Schema } from "effect"
import { IspParams } from "./isp.js"
import { Dtype } from "./dataset.js"

/**
 * feature_map.json: the input contract of a trained model, for serving and drift. It names the raw
 * input columns (with dtype, categories and training ranges), the encoded feature names, the label
 * classes in class-index order, and the hash of the fitted transform that maps one to the other.
 */
export const FeatureMapSchema = Schema.Struct({
  format: Schema.Literal("driftgate.feature_map/1"),
  dataset: Schema.String,
  dataset_version: Schema.String,
  task_type: Schema.Literal("classification", "regression", "image_classification"),
  target: Schema.String,
  /** Class labels in class-index order (classification). */
  classes: Schema.NullOr(Schema.Array(Schema.String)),
  input_features: Schema.Array(
    Schema.Struct({
      name: Schema.String,
      dtype: Dtype,
      categories: Schema.optional(Schema.Array(Schema.String)),
      min: Schema.optional(Schema.Number),
      max: Schema.optional(Schema.Number),
      nullable: Schema.Boolean
    })
  ),
  output_features: Schema.Array(Schema.String),
  transform_hash: Schema.String,
  preprocessing: Schema.Struct({ scale: Schema.String, impute: Schema.String, encode: Schema.String }),
  /** Image models: the decoded input every image is resized and scaled to (NHWC, [0, 1]). */
  image: Schema.optional(Schema.Struct({ height: Schema.Number, width: Schema.Number, channels: Schema.Literal(1, 3) }))
})
export interface FeatureMap extends Schema.Schema.Type<typeof FeatureMapSchema> {}

/** The fitted "transform" of an image model: deterministic decoding, nothing learnt. */
export const ImageTransformSchema = Schema.Struct({
  format: Schema.Literal("driftgate.image_transform/1"),
  target_size: Schema.Tuple(Schema.Number, Schema.Number),
  channels: Schema.Literal(1, 3),
  scale: Schema.Literal("x/255"),
  /** Raw (DNG) models: the ISP parameters every input is rendered with before resizing. */
  isp: Schema.optional(IspParams)
})
export interface ImageTransform extends Schema.Schema.Type<typeof ImageTransformSchema> {}
