import { Either, Schema } from "effect"
import { decodeStrict } from "./decode.js"
import { ConfigError } from "./errors.js"
import { isMissing, missingRule } from "./missing.js"

export const Dtype = Schema.Literal("float", "int", "string", "bool")
export type Dtype = typeof Dtype.Type

const Fraction = Schema.Number.pipe(Schema.greaterThanOrEqualTo(0), Schema.lessThanOrEqualTo(1))

export const Range = Schema.Struct({ min: Schema.optional(Schema.Number), max: Schema.optional(Schema.Number) })

export const DatasetConstraints = Schema.Struct({
  min_rows: Schema.optionalWith(Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)), { default: () => 1 }),
  max_rows: Schema.optional(Schema.Int.pipe(Schema.greaterThanOrEqualTo(1))),
  /** Largest allowed share of empty cells in any column (per-column values override it). */
  max_null_fraction: Schema.optional(Fraction),
  null_fractions: Schema.optional(Schema.Record({ key: Schema.String, value: Fraction })),
  label_classes: Schema.optional(Schema.Array(Schema.String)),
  ranges: Schema.optional(Schema.Record({ key: Schema.String, value: Range }))
})

/** Image datasets: images/<class>/*.{png,jpg,jpeg} beside dataset.yaml. */
export const ImageProperties = Schema.Struct({
  expected_formats: Schema.optionalWith(
    Schema.Array(Schema.Literal("png", "jpg", "jpeg", "webp", "tiff", "dng")).pipe(Schema.minItems(1)),
    { default: () => ["png", "jpg", "jpeg"] as const }
  ),
  min_images_per_class: Schema.optionalWith(Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)), { default: () => 1 }),
  /** [height, width] every image is resized to. */
  target_size: Schema.Tuple(
    Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)),
    Schema.Int.pipe(Schema.greaterThanOrEqualTo(1))
  ),
  channels: Schema.Literal(1, 3)
})
export type ImageProperties = typeof ImageProperties.Type

/** dataset.yaml: the data contract of one raw dataset (format shared with the Python predecessor). */
export const DatasetSpecSchema = Schema.Struct({
  name: Schema.String,
  description: Schema.optional(Schema.String),
  source: Schema.optional(Schema.String),
  task_type: Schema.Literal("classification", "regression", "image_classification"),
  features: Schema.Array(Schema.String).pipe(Schema.minItems(1)),
  target: Schema.String,
  schema: Schema.Record({ key: Schema.String, value: Dtype }),
  /** Extra tokens read as missing (pandas' na_values); see domain/missing.ts. */
  na_values: Schema.optional(Schema.Array(Schema.String)),
  /** Whether pandas' default missing tokens (NA, NaN, NULL, #N/A, …) apply too; default true. */
  keep_default_na: Schema.optional(Schema.Boolean),
  constraints: Schema.optionalWith(DatasetConstraints, { default: () => ({ min_rows: 1 }) }),
  /** Binary classification: the class `precision`/`recall` are about (default: the second of the sorted labels). */
  positive_class: Schema.optional(Schema.String),
  image_properties: Schema.optional(ImageProperties)
})
export type DatasetSpec = typeof DatasetSpecSchema.Type

/**
 * Whether the contract lets a feature be empty: its null_fractions entry, else max_null_fraction,
 * is absent (no limit) or above 0. The target never may.
 */
export const contractAllowsNulls = (spec: DatasetSpec, column: string): boolean => {
  if (column === spec.target) return false
  const limit = spec.constraints.null_fractions?.[column] ?? spec.constraints.max_null_fraction
  return limit === undefined || limit > 0
}

export const decodeDatasetSpec = (raw: unknown, file: string): Either.Either<DatasetSpec, ConfigError> =>
  Either.gen(function* () {
    const spec = yield* decodeStrict(DatasetSpecSchema, raw, file)
    if (spec.task_type === "image_classification" && spec.image_properties === undefined) {
      return yield* Either.left(
        new ConfigError({
          file,
          key: "image_properties",
          message: "an image_classification dataset needs image_properties (target_size, channels)"
        })
      )
    }
    const declared = [...spec.features, spec.target]
    for (const c of declared) {
      if (!(c in spec.schema)) {
        return yield* Either.left(
          new ConfigError({
            file,
            key: `schema.${c}`,
            message: `column "${c}" is listed in features/target but has no dtype under schema`
          })
        )
      }
    }
    if (spec.features.includes(spec.target)) {
      return yield* Either.left(
        new ConfigError({ file, key: "features", message: `the target "${spec.target}" is also listed as a feature` })
      )
    }
    const labels = spec.constraints.label_classes
    if (spec.positive_class !== undefined && labels !== undefined && !labels.includes(spec.positive_class)) {
      return yield* Either.left(
        new ConfigError({
          file,
          key: "positive_class",
          message: `"${spec.positive_class}" is not one of constraints.label_classes (${labels.join(", ")})`
        })
      )
    }
    const dup = spec.features.find((f, i) => spec.features.indexOf(f) !== i)
    if (dup !== undefined) {
      return yield* Either.left(new ConfigError({ file, key: "features", message: `feature "${dup}" is listed twice` }))
    }
    // A label that is also a missing token could never be read as that label: say so before any data is read.
    const rule = missingRule(spec)
    for (const label of spec.constraints.label_classes ?? []) {
      if (!isMissing(rule, label)) continue
      const declared = rule.declared.has(label) || !rule.tokens.has(label)
      return yield* Either.left(
        new ConfigError({
          file,
          key: declared ? "na_values" : "keep_default_na",
          message: declared
            ? `na_values declares "${label}" as missing, but "${label}" is also a label class of the target "${spec.target}"; remove it from one of them`
            : `"${label}" is a label class of the target "${spec.target}" but also one of pandas' default missing tokens; set keep_default_na: false to read it as a label`
        })
      )
    }
    return spec
  })
