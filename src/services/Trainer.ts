import { Context, type Effect } from "effect"
import type { TrainingError } from "../domain/errors.js"
import type { ModelKind } from "../domain/training.js"
import type { Matrix } from "../ml/matrix.js"

export interface FitRequest {
  readonly kind: ModelKind
  readonly task: "classification" | "regression"
  readonly params: Readonly<Record<string, unknown>>
  readonly x: Matrix
  readonly y: Float64Array
  readonly nClasses?: number
  readonly featureNames: ReadonlyArray<string>
  readonly seed: number
  /** Image models: each row of x is one image, [height, width, channels] (NHWC, row-major). */
  readonly imageShape?: readonly [number, number, number]
  /** Held-out rows for early stopping (image models). */
  readonly validation?: { readonly x: Matrix; readonly y: Float64Array }
  /** Fine-tuning: continue from this model's weights. */
  readonly initial?: FittedModel
  /** Called after each epoch (image models): epochs done, epochs planned, a one-line summary. */
  readonly onProgress?: (done: number, total: number, text: string) => void
}

/** A fitted model as the Trainer hands it around: its kind and its plain-data state. */
export interface FittedModel {
  readonly kind: ModelKind
  readonly task: "classification" | "regression"
  readonly state: unknown
  /** Facts about the fit worth recording (iterations, convergence, trees …). */
  readonly info: Readonly<Record<string, string | number | boolean>>
}

export interface Predictions {
  readonly predictions: Float64Array
  /** rows × classes, row-major (classifiers). */
  readonly proba?: Float64Array
}

/** fit / predict / serialise for the tabular model kinds (and, later, CNNs). */
export class Trainer extends Context.Tag("driftgate/Trainer")<
  Trainer,
  {
    readonly fit: (request: FitRequest) => Effect.Effect<FittedModel, TrainingError>
    readonly predict: (model: FittedModel, x: Matrix) => Effect.Effect<Predictions, TrainingError>
    /** Penultimate-layer embeddings of an image model (image drift MMD). */
    readonly embed: (model: FittedModel, x: Matrix) => Effect.Effect<Matrix, TrainingError>
    /** Canonical, byte-stable serialisation (model.json). */
    readonly encode: (model: FittedModel) => string
    readonly decode: (json: string) => Effect.Effect<FittedModel, TrainingError>
  }
>() {}
