import { Schema } from "effect"

/**
 * The one declaration of each learner's hyper-parameters: names, types, constraints and defaults as
 * in scikit-learn. The YAML's training.params is decoded against these (unknown keys are errors), and
 * the learners in src/ml decode their params with the same schemas, so the two cannot drift apart.
 * Defaults that depend on the task (a tree's criterion, a forest's max_features) are left unset here
 * and resolved by the learner.
 */
const PositiveInt = Schema.Int.pipe(Schema.greaterThanOrEqualTo(1))
const Fraction01 = Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThanOrEqualTo(1))
/** A share of the training rows, strictly between 0 and 1. */
const OpenFraction = Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThan(1))
/** A fraction in (0, 1] of the features (1 = all), an integer count, "sqrt"/"log2", or null = all. */
const MaxFeatures = Schema.Union(Schema.Literal("sqrt", "log2"), Fraction01, PositiveInt, Schema.Null)
const opt = <A, I>(s: Schema.Schema<A, I>, value: A) => Schema.optionalWith(s, { default: () => value })

export const TreeCriterion = Schema.Literal("gini", "entropy", "log_loss", "squared_error")
export type TreeCriterion = typeof TreeCriterion.Type
export type MaxFeatures = typeof MaxFeatures.Type

/** CART fields shared by decision_tree and random_forest. */
const treeFields = {
  /** Default "gini" for classification, "squared_error" for regression. */
  criterion: Schema.optional(TreeCriterion),
  /** null: grow until leaves are pure or too small. */
  max_depth: opt(Schema.NullOr(PositiveInt), null),
  /** An integer count (>= 2), or a fraction (0, 1) of the training rows. */
  min_samples_split: opt(Schema.Union(Schema.Int.pipe(Schema.greaterThanOrEqualTo(2)), OpenFraction), 2),
  /** An integer count, or a fraction (0, 1) of the training rows. */
  min_samples_leaf: opt(Schema.Union(PositiveInt, OpenFraction), 1)
}

export const DecisionTreeParams = Schema.Struct({
  ...treeFields,
  max_features: opt(MaxFeatures, null)
})

export const RandomForestParams = Schema.Struct({
  n_estimators: opt(PositiveInt, 100),
  ...treeFields,
  /** Default: "sqrt" for classification, 1.0 for regression (scikit-learn). */
  max_features: Schema.optional(MaxFeatures),
  bootstrap: opt(Schema.Boolean, true),
  /** Rows drawn per tree when bootstrapping: a fraction (0, 1], a count, or null = all rows. */
  max_samples: opt(Schema.NullOr(Schema.Union(Fraction01, PositiveInt)), null),
  /** Threads for fitting trees: null or 1 = this thread, -1 = all cores, -2 = all but one; results do not depend on it. */
  n_jobs: opt(Schema.NullOr(Schema.Union(PositiveInt, Schema.Int.pipe(Schema.lessThanOrEqualTo(-1)))), 1)
})

export const LogisticRegressionParams = Schema.Struct({
  /** Inverse L2 strength. */
  C: opt(Schema.Number.pipe(Schema.greaterThan(0), Schema.finite()), 1.0),
  /** L-BFGS iterations. */
  max_iter: opt(PositiveInt, 100),
  /** Gradient tolerance (max-norm). */
  tol: opt(Schema.Number.pipe(Schema.greaterThan(0)), 1e-4),
  fit_intercept: opt(Schema.Boolean, true)
})

export const LinearRegressionParams = Schema.Struct({
  fit_intercept: opt(Schema.Boolean, true)
})

export const RidgeParams = Schema.Struct({
  /** L2 strength (penalty alpha·||w||², intercept not penalised). */
  alpha: opt(Schema.Number.pipe(Schema.greaterThanOrEqualTo(0), Schema.finite()), 1.0),
  fit_intercept: opt(Schema.Boolean, true)
})

/** Field order is the order a fitted model.json lists them in. */
export const HistGradientBoostingParams = Schema.Struct({
  learning_rate: opt(Schema.Number.pipe(Schema.greaterThan(0), Schema.finite()), 0.1),
  max_iter: opt(PositiveInt, 100),
  /** null: unlimited. */
  max_leaf_nodes: opt(Schema.NullOr(Schema.Int.pipe(Schema.greaterThanOrEqualTo(2))), 31),
  /** null: unlimited. */
  max_depth: opt(Schema.NullOr(PositiveInt), null),
  min_samples_leaf: opt(PositiveInt, 20),
  l2_regularization: opt(Schema.Number.pipe(Schema.greaterThanOrEqualTo(0), Schema.finite()), 0),
  /** Bins for non-missing values; NaN always has a bin of its own. */
  max_bins: opt(Schema.Int.pipe(Schema.between(2, 255)), 255),
  /** "auto": on when the training set has more than 10,000 rows. */
  early_stopping: opt(Schema.Union(Schema.Literal("auto"), Schema.Boolean), "auto"),
  /** Held-out share (0, 1) or row count for early stopping; null: score on the training data. */
  validation_fraction: opt(Schema.NullOr(Schema.Union(OpenFraction, PositiveInt)), 0.1),
  n_iter_no_change: opt(PositiveInt, 10),
  tol: opt(Schema.Number.pipe(Schema.greaterThanOrEqualTo(0)), 1e-7),
  /** Only the loss is supported (scikit-learn's default). */
  scoring: opt(Schema.Literal("loss"), "loss")
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
  fine_tune_freeze_layers: opt(Schema.Int.pipe(Schema.greaterThanOrEqualTo(0)), 0),
  /**
   * Data-parallel threads on the wasm backend; unset: every core, but at least 16 rows of a batch
   * per thread. Deterministic for a given count (other counts differ by float summation order).
   */
  threads: Schema.optional(PositiveInt)
})

type TaskType = "classification" | "regression" | "image_classification"

/**
 * The learner table of the config contract: one row per model kind (the tasks it can train and its
 * parameters). Its implementation is one file in src/ml (or layers/trainer/tfjs for the CNN).
 */
export const learnerSpecs = {
  decision_tree: { tasks: ["classification", "regression"], params: DecisionTreeParams },
  random_forest: { tasks: ["classification", "regression"], params: RandomForestParams },
  logistic_regression: { tasks: ["classification"], params: LogisticRegressionParams },
  linear_regression: { tasks: ["regression"], params: LinearRegressionParams },
  ridge: { tasks: ["regression"], params: RidgeParams },
  hist_gradient_boosting: { tasks: ["classification", "regression"], params: HistGradientBoostingParams },
  cnn: { tasks: ["image_classification"], params: CnnParams }
} as const satisfies Record<
  string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each row keeps its own schema types
  { readonly tasks: ReadonlyArray<TaskType>; readonly params: Schema.Schema<any, any> }
>

export type ModelKind = keyof typeof learnerSpecs
export const ModelKind = Schema.Literal(...(Object.keys(learnerSpecs) as [ModelKind, ...Array<ModelKind>]))
/** Kinds trained in-process by src/ml (everything but the CNN). */
export type TabularKind = Exclude<ModelKind, "cnn">

/** Decoded (defaults filled) and given (every field optional) parameters of a kind. */
export type ParamsOf<K extends ModelKind> = (typeof learnerSpecs)[K]["params"]["Type"]
export type ParamsInput<K extends ModelKind> = (typeof learnerSpecs)[K]["params"]["Encoded"]

export const paramsSchemaFor: { readonly [K in ModelKind]: (typeof learnerSpecs)[K]["params"] } = Object.fromEntries(
  Object.entries(learnerSpecs).map(([k, v]) => [k, v.params])
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the mapped type is exactly what fromEntries builds at run time
) as any

/** Which task types a kind can train. */
export const kindTasks: Readonly<Record<ModelKind, ReadonlyArray<TaskType>>> = Object.fromEntries(
  Object.entries(learnerSpecs).map(([k, v]) => [k, v.tasks])
) as unknown as Record<ModelKind, ReadonlyArray<TaskType>>
