import { Either, Schema } from "effect"
import { decodeStrict } from "./decode.js"
import { ConfigError } from "./errors.js"
import { canonicalHash } from "./hash.js"
import { IspConfig } from "./isp.js"
import { EvaluationSplit, PromotionRule } from "./rules.js"
import { kindTasks, ModelKind, paramsSchemaFor } from "./training.js"

const opt = <A, I>(s: Schema.Schema<A, I>, value: () => A) => Schema.optionalWith(s, { default: value })
const Fraction = Schema.Number.pipe(Schema.greaterThanOrEqualTo(0), Schema.lessThanOrEqualTo(1))

export const TaskType = Schema.Literal("classification", "regression", "image_classification")
export type TaskType = typeof TaskType.Type

/** A dataset name is a folder under data_root: no separators, no "..", nothing hidden. */
export const DatasetName = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, {
    message: () =>
      "a dataset name is letters, digits, '_', '-' or '.', starting with a letter or digit (no path separators or '..')"
  }),
  Schema.filter((s) => !s.includes("..") || "a dataset name may not contain '..'")
)

export const SplitConfig = Schema.Struct({
  train: Fraction,
  val: opt(Fraction, () => 0),
  test: opt(Fraction, () => 0),
  stratify: opt(Schema.Boolean, () => true)
}).pipe(
  Schema.filter(
    (s) =>
      Math.abs(s.train + s.val + s.test - 1) < 1e-9 || `split fractions must sum to 1 (got ${s.train + s.val + s.test})`
  ),
  Schema.filter((s) => s.train > 0 || "the train fraction must be greater than 0")
)
export type SplitConfig = typeof SplitConfig.Type

export const PreprocessingConfig = Schema.Struct({
  scale: opt(Schema.Literal("standard", "minmax", "none"), () => "standard" as const),
  impute: opt(Schema.Literal("mean", "median", "most_frequent", "none"), () => "median" as const),
  encode: opt(Schema.Literal("one_hot", "ordinal", "none"), () => "one_hot" as const)
})
export type PreprocessingConfig = typeof PreprocessingConfig.Type

export const TrainingConfig = Schema.Struct({
  model: ModelKind,
  /** Decoded against the model kind's own schema in a second pass (see decodePipelineConfig). */
  params: opt(Schema.Record({ key: Schema.String, value: Schema.Unknown }), () => ({}))
})

export const ClassificationMetric = Schema.Literal(
  "accuracy",
  "precision",
  "recall",
  "f1",
  "f1_weighted",
  "f1_macro",
  "precision_weighted",
  "precision_macro",
  "recall_weighted",
  "recall_macro",
  "roc_auc",
  "log_loss"
)
export const RegressionMetric = Schema.Literal("mae", "mse", "rmse", "r2")

export const EvaluationConfig = Schema.Struct({
  metrics: Schema.optional(Schema.Array(Schema.Union(ClassificationMetric, RegressionMetric)))
})

export const PromotionConfig = Schema.Struct({
  evaluation_split: opt(EvaluationSplit, () => "val" as const),
  rules: Schema.optional(Schema.Array(PromotionRule))
})

export const Stage = Schema.Literal("None", "Staging", "Production", "Archived")
export type Stage = typeof Stage.Type

export const DeploymentConfig = Schema.Struct({
  registered_model: Schema.optional(Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/))),
  allowed_stage: opt(Schema.Literal("Production", "Staging"), () => "Production" as const)
})

export const Severity = Schema.Literal("none", "low", "medium", "high")
export type Severity = typeof Severity.Type

export const DriftTestName = Schema.Literal("ks", "wasserstein", "chisquare", "jensenshannon", "psi", "z")
export const DriftColumnOverride = Schema.Struct({
  test: DriftTestName,
  threshold: Schema.optional(Schema.Number)
})

export const DriftConfig = Schema.Struct({
  drift_share: opt(Fraction, () => 0.5),
  alert_severity: opt(Severity, () => "medium" as const),
  fail_on_severity: opt(Severity, () => "high" as const),
  min_batch_size: opt(Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)), () => 10),
  /** Overall severity by share of drifted columns: ≤ low → low, ≤ medium → medium, else high. */
  severity_share: opt(Schema.Struct({ low: Fraction, medium: Fraction }), () => ({ low: 0.25, medium: 0.5 })),
  /** Per-feature severity by p-value: < high → high, < medium → medium. */
  severity_p_value: opt(Schema.Struct({ high: Fraction, medium: Fraction }), () => ({ high: 0.001, medium: 0.01 })),
  /** Per-feature severity by distance: ≥ high → high, ≥ medium → medium. */
  severity_distance: opt(Schema.Struct({ high: Schema.Number, medium: Schema.Number }), () => ({
    high: 0.25,
    medium: 0.15
  })),
  /** Image models: thresholds of the pixel Wasserstein distance and the embedding MMD permutation test. */
  image: opt(
    Schema.Struct({
      wasserstein_medium: opt(Schema.Number.pipe(Schema.greaterThan(0)), () => 0.1),
      wasserstein_high: opt(Schema.Number.pipe(Schema.greaterThan(0)), () => 0.25),
      mmd_p_value: opt(Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThan(1)), () => 0.05),
      mmd_permutations: opt(Schema.Int.pipe(Schema.between(10, 10000)), () => 100),
      max_images: opt(Schema.Int.pipe(Schema.greaterThanOrEqualTo(10)), () => 300)
    }),
    () => ({
      wasserstein_medium: 0.1,
      wasserstein_high: 0.25,
      mmd_p_value: 0.05,
      mmd_permutations: 100,
      max_images: 300
    })
  ),
  /** Per-column test and threshold, overriding Evidently's default choice (KS/chi-square/Z at p < 0.05; Wasserstein/JS ≥ 0.1). */
  columns: opt(
    Schema.Record({ key: Schema.String, value: DriftColumnOverride }),
    (): Record<string, typeof DriftColumnOverride.Type> => ({})
  )
})
export type DriftConfig = typeof DriftConfig.Type

/** Robustness of an image model under perturbations: accuracy drop thresholds for severity. */
export const ModelAnalysisConfig = Schema.Struct({
  severity: opt(Schema.Struct({ high: Fraction, medium: Fraction }), () => ({ high: 0.15, medium: 0.05 })),
  /** Perturbation families to run (default: all). */
  perturbations: Schema.optional(
    Schema.Array(
      Schema.Literal(
        "brightness",
        "contrast",
        "gaussian_noise",
        "box_blur",
        "gaussian_blur",
        "rotation",
        "centre_crop",
        "horizontal_flip",
        "jpeg"
      )
    )
  )
})

export const PipelineStage = Schema.Literal(
  "preprocessing",
  "training",
  "evaluation",
  "model_analysis",
  "promotion",
  "deployment"
)
export type PipelineStage = typeof PipelineStage.Type

export const PipelineConfigSchema = Schema.Struct({
  name: Schema.String.pipe(
    Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, {
      message: () => "a pipeline name is letters, digits, '_', '-' or '.'"
    })
  ),
  description: Schema.optional(Schema.String),
  task_type: TaskType,
  random_seed: opt(Schema.Int.pipe(Schema.between(0, 2 ** 32 - 1)), () => 42),
  workspace: Schema.optional(Schema.String),
  /** A shared store (postgres://user@host:port/db) instead of the workspace's store.db; see docs/scaling.md. */
  store: Schema.optional(
    Schema.String.pipe(
      Schema.pattern(/^postgres(ql)?:\/\//i, { message: () => "store: must be a postgres:// or postgresql:// URL" })
    )
  ),
  /** With a shared store: a directory every host mounts for artifacts, reports and drift history (default: in the store). */
  artifacts: Schema.optional(Schema.String),
  /** Folder that holds <dataset>/data.csv and dataset.yaml; relative to the config file. */
  data_root: opt(Schema.String, () => "../data/raw"),
  dataset: DatasetName,
  split: opt(SplitConfig, () => ({ train: 0.7, val: 0.15, test: 0.15, stratify: true })),
  preprocessing: opt(PreprocessingConfig, () => ({
    scale: "standard" as const,
    impute: "median" as const,
    encode: "one_hot" as const
  })),
  training: Schema.optional(TrainingConfig),
  evaluation: opt(EvaluationConfig, (): typeof EvaluationConfig.Type => ({})),
  promotion: opt(PromotionConfig, (): typeof PromotionConfig.Type => ({ evaluation_split: "val" })),
  deployment: opt(DeploymentConfig, (): typeof DeploymentConfig.Type => ({ allowed_stage: "Production" })),
  drift: opt(DriftConfig, () => Schema.decodeSync(DriftConfig)({})),
  /** Serving this pipeline's models: `allow_nulls: true` accepts null (imputed) even where the contract forbids empty cells. */
  serving: Schema.optional(Schema.Struct({ allow_nulls: Schema.optional(Schema.Boolean) })),
  /** raw_dng: the images are DNG camera raws rendered by the ISP (the `isp` section) before the CNN. */
  image_format: Schema.optional(Schema.Literal("standard", "raw_dng")),
  isp: Schema.optional(IspConfig),
  model_analysis: opt(ModelAnalysisConfig, (): typeof ModelAnalysisConfig.Type => ({
    severity: { high: 0.15, medium: 0.05 }
  })),
  stages: opt(
    Schema.Array(PipelineStage),
    () => ["preprocessing", "training", "evaluation", "promotion", "deployment"] as const
  )
})

export type PipelineConfig = typeof PipelineConfigSchema.Type & {
  readonly training?: { readonly model: ModelKind; readonly params: Record<string, unknown> }
}

export const defaultRules = (task: TaskType): ReadonlyArray<PromotionRule> =>
  task === "regression"
    ? [
        { id: "min_r2", metric: "r2", operator: ">=", threshold: 0.8 },
        { id: "max_mae", metric: "mae", operator: "<=", threshold: 0.4 }
      ]
    : [
        { id: "min_accuracy", metric: "accuracy", operator: ">=", threshold: 0.8 },
        { id: "min_f1_weighted", metric: "f1_weighted", operator: ">=", threshold: 0.75 }
      ]

export const defaultMetrics = (task: TaskType): ReadonlyArray<string> =>
  task === "regression" ? ["mae", "mse", "rmse", "r2"] : ["accuracy", "f1_weighted", "precision", "recall"]

/**
 * Decodes a parsed YAML document into a PipelineConfig: unknown keys anywhere (including inside
 * training.params, checked against the model kind's schema) are errors naming the key and the file.
 * Defaults are filled in, so the config hash covers them.
 */
export const decodePipelineConfig = (raw: unknown, file: string): Either.Either<PipelineConfig, ConfigError> =>
  Either.gen(function* () {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      return yield* Either.left(
        new ConfigError({ file, message: "the config must be a YAML mapping of keys to values" })
      )
    }
    yield* knownModel(raw as Record<string, unknown>, file)
    const base = yield* decodeStrict(PipelineConfigSchema, raw, file)
    const stages = new Set(base.stages)
    if (
      base.training === undefined &&
      (stages.has("training") || stages.has("evaluation") || stages.has("promotion"))
    ) {
      return yield* Either.left(
        new ConfigError({
          file,
          key: "training",
          message: `missing required key "training" (the stages include training)`
        })
      )
    }
    if ("model_analysis" in (raw as Record<string, unknown>) && base.task_type !== "image_classification") {
      return yield* Either.left(
        new ConfigError({
          file,
          key: "model_analysis",
          message: `the model_analysis section applies to image_classification pipelines only`
        })
      )
    }
    if (stages.has("model_analysis") && base.task_type !== "image_classification") {
      return yield* Either.left(
        new ConfigError({
          file,
          key: "stages",
          message: `stage model_analysis applies to image_classification pipelines only`
        })
      )
    }
    const format = (raw as Record<string, unknown>).image_format
    if (format === "raw_dng" && base.task_type !== "image_classification") {
      return yield* Either.left(
        new ConfigError({
          file,
          key: "image_format",
          message: `image_format raw_dng applies to image_classification pipelines only`
        })
      )
    }
    if ("isp" in (raw as Record<string, unknown>) && format !== "raw_dng") {
      return yield* Either.left(
        new ConfigError({
          file,
          key: "isp",
          message: `the isp section applies to image_format: raw_dng pipelines only`
        })
      )
    }
    // A raw pipeline always carries its ISP parameters (defaults filled in), so the config hash covers them.
    const withIsp =
      base.image_format === "raw_dng" && base.isp === undefined
        ? { ...base, isp: Schema.decodeSync(IspConfig)({}) }
        : base
    let training: PipelineConfig["training"]
    if (base.training !== undefined) {
      const kind = base.training.model
      if (!kindTasks[kind].includes(base.task_type)) {
        return yield* Either.left(
          new ConfigError({
            file,
            key: "training.model",
            message: `model ${kind} cannot do ${base.task_type} (it does ${kindTasks[kind].join(", ")})`
          })
        )
      }
      const params = yield* decodeStrict(
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the encoded side differs per kind; only the decoded record is read
        paramsSchemaFor[kind] as unknown as Schema.Schema<Record<string, unknown>, any>,
        base.training.params,
        file,
        ["training", "params"]
      )
      training = { model: kind, params }
    }
    if (base.promotion.rules !== undefined) {
      const ids = new Set<string>()
      for (const [i, r] of base.promotion.rules.entries()) {
        if (ids.has(r.id)) {
          return yield* Either.left(
            new ConfigError({ file, key: `promotion.rules[${i}].id`, message: `duplicate promotion rule id "${r.id}"` })
          )
        }
        ids.add(r.id)
      }
    }
    return training === undefined ? (withIsp as PipelineConfig) : ({ ...withIsp, training } as PipelineConfig)
  })

/**
 * `training.model` names a learner driftgate has: one sentence listing the known kinds (the schema's
 * own message would name only the first literal: `Expected "decision_tree", actual "xgboost"`).
 */
const knownModel = (raw: Record<string, unknown>, file: string): Either.Either<void, ConfigError> => {
  const training = raw.training
  if (training === null || typeof training !== "object" || !("model" in training)) return Either.void
  const model = (training as { readonly model: unknown }).model
  if (typeof model === "string" && (ModelKind.literals as ReadonlyArray<string>).includes(model)) return Either.void
  return Either.left(
    new ConfigError({
      file,
      key: "training.model",
      message: `training.model: unknown model ${JSON.stringify(model)} (known: ${ModelKind.literals.join(", ")})`
    })
  )
}

/** SHA-256 of the canonical JSON of the decoded config (comments and key order do not matter). */
export const configHash = (config: PipelineConfig): string => canonicalHash(config)

export const registeredModelName = (config: PipelineConfig): string => config.deployment.registered_model ?? config.name
