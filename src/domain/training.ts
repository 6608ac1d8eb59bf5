import { Schema } from "effect"

/** Hyper-parameters per model kind, named and defaulted as in scikit-learn. */
const PositiveInt = Schema.Int.pipe(Schema.greaterThanOrEqualTo(1))
const Fraction01 = Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThanOrEqualTo(1))
const MaxFeatures = Schema.Union(Schema.Literal("sqrt", "log2"), Fraction01, PositiveInt, Schema.Null)
const opt = <A, I>(s: Schema.Schema<A, I>, value: A) => Schema.optionalWith(s, { default: () => value })

export const DecisionTreeParams = Schema.Struct({
  criterion: Schema.optional(Schema.Literal("gini", "entropy", "squared_error")),
  max_depth: opt(Schema.NullOr(PositiveInt), null),
  min_samples_split: opt(Schema.Int.pipe(Schema.greaterThanOrEqualTo(2)), 2),
  min_samples_leaf: opt(PositiveInt, 1),
  max_features: opt(MaxFeatures, null)
})

export const RandomForestParams = Schema.Struct({
  n_estimators: opt(PositiveInt, 100),
  criterion: Schema.optional(Schema.Literal("gini", "entropy", "squared_error")),
  max_depth: opt(Schema.NullOr(PositiveInt), null),
  min_samples_split: opt(Schema.Int.pipe(Schema.greaterThanOrEqualTo(2)), 2),
  min_samples_leaf: opt(PositiveInt, 1),
  /** Default: "sqrt" for classification, 1.0 for regression (scikit-learn). */
  max_features: Schema.optional(MaxFeatures),
  bootstrap: opt(Schema.Boolean, true),
  /** Worker threads for fitting trees; results do not depend on it. */
  n_jobs: opt(PositiveInt, 1)
})

export const LogisticRegressionParams = Schema.Struct({
  C: opt(Schema.Number.pipe(Schema.greaterThan(0)), 1.0),
  max_iter: opt(PositiveInt, 100),
  tol: opt(Schema.Number.pipe(Schema.greaterThan(0)), 1e-4),
  fit_intercept: opt(Schema.Boolean, true)
})

export const LinearRegressionParams = Schema.Struct({
  fit_intercept: opt(Schema.Boolean, true)
})

export const RidgeParams = Schema.Struct({
  alpha: opt(Schema.Number.pipe(Schema.greaterThanOrEqualTo(0)), 1.0),
  fit_intercept: opt(Schema.Boolean, true)
})

export const HistGradientBoostingParams = Schema.Struct({
  learning_rate: opt(Schema.Number.pipe(Schema.greaterThan(0)), 0.1),
  max_iter: opt(PositiveInt, 100),
  max_leaf_nodes: opt(Schema.NullOr(Schema.Int.pipe(Schema.greaterThanOrEqualTo(2))), 31),
  max_depth: opt(Schema.NullOr(PositiveInt), null),
  min_samples_leaf: opt(PositiveInt, 20),
  l2_regularization: opt(Schema.Number.pipe(Schema.greaterThanOrEqualTo(0)), 0),
  max_bins: opt(Schema.Int.pipe(Schema.between(2, 255)), 255),
  early_stopping: opt(Schema.Union(Schema.Literal("auto"), Schema.Boolean), "auto"),
  validation_fraction: opt(Fraction01, 0.1),
  n_iter_no_change: opt(PositiveInt, 10),
  tol: opt(Schema.Number.pipe(Schema.greaterThanOrEqualTo(0)), 1e-7)
})

const ConvLayer = Schema.Struct({
  filters: PositiveInt,
  kernel: PositiveInt,
  stride: opt(PositiveInt, 1),
  padding: opt(Schema.Literal("same", "valid"), "same")
})

/** A small CNN: conv blocks (each followed by pooling), dense layers, softmax. */
export const CnnParams = Schema.Struct({
  conv: opt(Schema.Array(ConvLayer).pipe(Schema.minItems(1)), [
    { filters: 16, kernel: 3, stride: 1, padding: "same" as const },
    { filters: 32, kernel: 3, stride: 1, padding: "same" as const }
  ]),
  pool: opt(Schema.Literal("max", "avg"), "max"),
  dense: opt(Schema.Array(PositiveInt), [64]),
  dropout: opt(Schema.Number.pipe(Schema.greaterThanOrEqualTo(0), Schema.lessThan(1)), 0.25),
  epochs: opt(PositiveInt, 10),
  batch_size: opt(PositiveInt, 64),
  learning_rate: opt(Schema.Number.pipe(Schema.greaterThan(0)), 0.001),
  optimizer: opt(Schema.Literal("adam", "sgd"), "adam"),
  early_stopping_patience: opt(PositiveInt, 3),
  /** With run --fine-tune: learning rate multiplier and how many leading layers stay frozen. */
  fine_tune_learning_rate_factor: opt(Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThanOrEqualTo(1)), 0.1),
  fine_tune_freeze_layers: opt(Schema.Int.pipe(Schema.greaterThanOrEqualTo(0)), 0)
})

export const ModelKind = Schema.Literal(
  "decision_tree",
  "random_forest",
  "logistic_regression",
  "linear_regression",
  "ridge",
  "hist_gradient_boosting",
  "cnn"
)
export type ModelKind = typeof ModelKind.Type

export const paramsSchemaFor = {
  decision_tree: DecisionTreeParams,
  random_forest: RandomForestParams,
  logistic_regression: LogisticRegressionParams,
  linear_regression: LinearRegressionParams,
  ridge: RidgeParams,
  hist_gradient_boosting: HistGradientBoostingParams,
  cnn: CnnParams
} as const satisfies Record<ModelKind, Schema.Schema<any, any>>

/** Which task types a kind can train. */
export const kindTasks: Record<ModelKind, ReadonlyArray<"classification" | "regression" | "image_classification">> = {
  decision_tree: ["classification", "regression"],
  random_forest: ["classification", "regression"],
  logistic_regression: ["classification"],
  linear_regression: ["regression"],
  ridge: ["regression"],
  hist_gradient_boosting: ["classification", "regression"],
  cnn: ["image_classification"]
}
