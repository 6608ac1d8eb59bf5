import { Effect, Layer } from "effect"
import { TrainingError } from "../../domain/errors.js"
import type { ModelKind } from "../../domain/training.js"
import { decisionTree } from "../../ml/tree.js"
import { histGradientBoosting } from "../../ml/hgb.js"
import type { Learner } from "../../ml/learner.js"
import { linearRegression, ridge } from "../../ml/linear.js"
import { logisticRegression } from "../../ml/logistic.js"
import { LearnerInputError } from "../../ml/matrix.js"
import { randomForest } from "../../ml/forest.js"
import { type FittedModel, Trainer } from "../../services/Trainer.js"

/** kind → learner: adding a learner is one file in src/ml and one row here. */
export type TabularKind = Exclude<ModelKind, "cnn">
export const learners: Record<TabularKind, Learner<any, any>> = {
  decision_tree: decisionTree,
  random_forest: randomForest,
  logistic_regression: logisticRegression,
  linear_regression: linearRegression,
  ridge,
  hist_gradient_boosting: histGradientBoosting
}

const MODEL_FORMAT = "driftgate.model/1"

const tabular = (kind: ModelKind): Learner<any, any> => {
  if (kind === "cnn") throw new Error("cnn models are trained by the tfjs trainer, not the tabular one")
  return learners[kind]
}

const fail = (kind: string, e: unknown) =>
  new TrainingError({ model: kind, message: e instanceof Error ? e.message : String(e), cause: e })

/** Facts worth recording from a fitted model's state (iterations, convergence, trees). */
const infoOf = (state: Record<string, unknown>): Record<string, string | number | boolean> => {
  const out: Record<string, string | number | boolean> = {}
  for (const k of ["converged", "iterations", "nIter", "n_iter", "nTrees", "nEstimators", "rank", "nFeatures"]) {
    const v = state[k]
    if (typeof v === "number" || typeof v === "boolean" || typeof v === "string") out[k] = v
  }
  if (Array.isArray(state.trees)) out.trees = state.trees.length
  return out
}

export const makeTrainerTabular = () =>
  Trainer.of({
    fit: (req) =>
      Effect.try({
        try: (): FittedModel => {
          const learner = tabular(req.kind)
          const state = learner.fit(req.x, req.y, {
            task: req.task,
            params: req.params,
            seed: req.seed,
            featureNames: req.featureNames,
            ...(req.nClasses !== undefined ? { nClasses: req.nClasses } : {})
          })
          return { kind: req.kind, task: req.task, state, info: infoOf(state as Record<string, unknown>) }
        },
        catch: (e) => fail(req.kind, e)
      }),
    predict: (model, x) =>
      Effect.try({
        try: () => {
          const learner = tabular(model.kind)
          const predictions = learner.predict(model.state, x)
          const proba =
            model.task === "classification" && learner.predictProba ? learner.predictProba(model.state, x) : undefined
          return proba === undefined ? { predictions } : { predictions, proba }
        },
        catch: (e) => fail(model.kind, e instanceof LearnerInputError ? e : e)
      }),
    embed: (model) =>
      Effect.fail(new TrainingError({ model: model.kind, message: "embeddings exist for image (CNN) models only" })),
    encode: (model) => JSON.stringify({ format: MODEL_FORMAT, kind: model.kind, task: model.task, state: model.state }),
    decode: (json) =>
      Effect.try({
        try: () => {
          const doc = JSON.parse(json) as {
            format?: string
            kind?: ModelKind
            task?: "classification" | "regression"
            state?: unknown
          }
          if (doc.format !== MODEL_FORMAT)
            throw new Error(`model.json has format ${String(doc.format)}, expected ${MODEL_FORMAT}`)
          if (doc.kind === undefined || !(doc.kind in learners))
            throw new Error(`model.json names an unknown model kind ${String(doc.kind)}`)
          return {
            kind: doc.kind,
            task: doc.task!,
            state: doc.state,
            info: infoOf(doc.state as Record<string, unknown>)
          }
        },
        catch: (e) => fail("model.json", e)
      })
  })

export const TrainerTabular = Layer.sync(Trainer, makeTrainerTabular)
