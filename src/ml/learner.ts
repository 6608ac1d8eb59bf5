import { Either, type Schema } from "effect"
import { decodeStrict } from "../domain/decode.js"
import { learnerSpecs, type ParamsInput, type ParamsOf, type TabularKind } from "../domain/training.js"
import type { Matrix } from "./matrix.js"
import { LearnerInputError } from "./matrix.js"

export type Task = "classification" | "regression"

/**
 * The estimator contract (scikit-learn's fit → fitted state → predict, without mutable objects):
 * a fitted model is plain JSON-serialisable data with a versioned `format` tag; fit and predict are pure.
 * For classification, `y` holds class indices 0..nClasses-1 (as float64) and `nClasses` is given;
 * `predict` returns class indices. For regression, `y` and predictions are the target values.
 *
 * `kind`, `tasks` and the `params` schema come from the learner's row in domain/training.ts
 * (`learnerSpecs`), the one declaration the YAML is decoded against; `fit` decodes its params with the
 * same schema (`decodeParams`), so defaults and constraints live in one place.
 */
export interface Learner<Params, Model> {
  readonly kind: TabularKind
  readonly tasks: ReadonlyArray<Task>
  /** What training.params accepts: names, types, constraints and defaults. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the encoded form of the YAML params is not used
  readonly params: Schema.Schema<any, Params>
  /** The tag every fitted model of this learner carries in `format`; another tag is refused. */
  readonly format: string
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

/** The learner fields fixed by its row in `learnerSpecs`. */
export const specOf = <K extends TabularKind>(kind: K) =>
  ({ kind, tasks: learnerSpecs[kind].tasks, params: learnerSpecs[kind].params }) as {
    readonly kind: K
    readonly tasks: ReadonlyArray<Task>
    readonly params: Schema.Schema<ParamsOf<K>, ParamsInput<K>>
  }

/**
 * Decodes a learner's given params with its schema: defaults filled in, unknown keys and invalid
 * values refused with a LearnerInputError naming the parameter (and the closest known name).
 */
export const decodeParams = <K extends TabularKind>(kind: K, given: ParamsInput<K>): ParamsOf<K> => {
  const schema = learnerSpecs[kind].params as unknown as Schema.Schema<ParamsOf<K>, ParamsInput<K>>
  const r = decodeStrict(schema, given, kind)
  if (Either.isRight(r)) return r.right
  throw new LearnerInputError(`${kind}: ${r.left.message.replace(/^unknown key "([^"]*)"/, "unknown parameter $1")}`)
}
