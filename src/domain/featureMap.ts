import type { Dtype } from "./dataset.js"

/**
 * feature_map.json: the input contract of a trained model, for serving and drift. It names the raw
 * input columns (with dtype, categories and training ranges), the encoded feature names, the label
 * classes in class-index order, and the hash of the fitted transform that maps one to the other.
 */
export interface FeatureMap {
  readonly format: "driftgate.feature_map/1"
  readonly dataset: string
  readonly dataset_version: string
  readonly task_type: "classification" | "regression" | "image_classification"
  readonly target: string
  /** Class labels in class-index order (classification). */
  readonly classes: ReadonlyArray<string> | null
  readonly input_features: ReadonlyArray<{
    readonly name: string
    readonly dtype: Dtype
    readonly categories?: ReadonlyArray<string>
    readonly min?: number
    readonly max?: number
    readonly nullable: boolean
  }>
  readonly output_features: ReadonlyArray<string>
  readonly transform_hash: string
  readonly preprocessing: { readonly scale: string; readonly impute: string; readonly encode: string }
  /** Image models: the decoded input every image is resized and scaled to (NHWC, [0, 1]). */
  readonly image?: { readonly height: number; readonly width: number; readonly channels: 1 | 3 }
}

/** The fitted "transform" of an image model: deterministic decoding, nothing learnt. */
export interface ImageTransform {
  readonly format: "driftgate.image_transform/1"
  readonly target_size: readonly [number, number]
  readonly channels: 1 | 3
  readonly scale: "x/255"
}
