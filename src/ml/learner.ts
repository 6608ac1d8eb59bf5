import type { Matrix } from "./matrix.js"

/** Model kinds driftgate trains natively. */
export type LearnerKind =
  "decision_tree" | "random_forest" | "logistic_regression" | "linear_regression" | "ridge" | "hist_gradient_boosting"

export type Task = "classification" | "regression"

/**
 * The estimator contract (scikit-learn's fit → fitted state → predict, without mutable objects):
 * a fitted model is plain JSON-serialisable data with a `format` version; fit and predict are pure.
 * For classification, `y` holds class indices 0..nClasses-1 (as float64) and `nClasses` is given;
 * `predict` returns class indices. For regression, `y` and predictions are the target values.
 */
export interface Learner<Params, Model> {
  readonly kind: LearnerKind
  readonly tasks: ReadonlyArray<Task>
  readonly fit: (x: Matrix, y: Float64Array, options: FitOptions<Params>) => Model
  readonly predict: (model: Model, x: Matrix) => Float64Array
  /** rows × classes, row-major. Classifiers only. */
  readonly predictProba?: (model: Model, x: Matrix) => Float64Array
}

export interface FitOptions<Params> {
  readonly task: Task
  readonly params: Params
  readonly seed: number
  /** Number of classes (classification only). */
  readonly nClasses?: number
  /** Feature names, for error messages. */
  readonly featureNames?: ReadonlyArray<string>
}
