import { deriveSeed } from "../domain/random.js"
import type { ParamsInput } from "../domain/training.js"
import { decodeParams, specOf, type FitOptions, type Learner, type Task } from "./learner.js"
import { LearnerInputError, toColumnMajor, type Matrix } from "./matrix.js"
import { parallelMapSync, resolveThreads } from "./parallel.js"
import { growTree, toTreeArrays } from "./tree/grower.js"
import { defaultCriterion, makeGrowJob, type ResolvedTreeParams } from "./tree/params.js"
import { argmaxRows, compileTrees, sumLeafValues, type CompiledTrees, type TreeArrays } from "./tree/predict.js"
import { checkFitInput, checkFormat, checkPredictInput } from "./validate.js"

/**
 * Random forest (scikit-learn's RandomForestClassifier / RandomForestRegressor): bootstrap rows as
 * per-row counts, a random feature subset per split, fully grown CART trees by default.
 * Tree i is grown from rng(deriveSeed(seed, i)), so a forest does not depend on n_jobs.
 */
/** Given parameters: every field optional (domain/training.ts declares them and their defaults). */
export type RandomForestParams = ParamsInput<"random_forest">

export interface ResolvedForestParams extends ResolvedTreeParams {
  readonly n_estimators: number
  readonly bootstrap: boolean
  readonly max_samples: number | null
}

export interface RandomForestModel {
  readonly format: "driftgate.random_forest/1"
  readonly task: Task
  readonly nFeatures: number
  /** 0 for regression. */
  readonly nClasses: number
  readonly params: ResolvedForestParams
  readonly seed: number
  readonly trees: ReadonlyArray<TreeArrays>
  /** Mean over trees of each tree's normalised impurity decrease, normalised to sum to 1. */
  readonly featureImportances: ReadonlyArray<number>
}

const KIND = "random_forest"
const FORMAT = "driftgate.random_forest/1"

/**
 * The given params decoded (schema defaults) and the task's criterion and max_features applied, in
 * model.json's order (n_jobs is not part of the model: it does not change it).
 */
export const resolveForestParams = (given: RandomForestParams, task: Task): ResolvedForestParams => {
  const p = decodeParams(KIND, given)
  return {
    criterion: p.criterion ?? defaultCriterion(task),
    max_depth: p.max_depth,
    min_samples_split: p.min_samples_split,
    min_samples_leaf: p.min_samples_leaf,
    max_features: p.max_features ?? (task === "classification" ? "sqrt" : 1),
    n_estimators: p.n_estimators,
    bootstrap: p.bootstrap,
    max_samples: p.max_samples
  }
}

const resolveBootstrapSamples = (maxSamples: number | null, n: number): number => {
  if (maxSamples === null) return n
  if (!(maxSamples > 0) || !Number.isFinite(maxSamples)) {
    throw new LearnerInputError(`max_samples must be a positive number or null, got ${maxSamples}`)
  }
  if (maxSamples <= 1) return Math.max(1, Math.round(maxSamples * n))
  if (!Number.isInteger(maxSamples) || maxSamples > n) {
    throw new LearnerInputError(`max_samples=${maxSamples} must be an integer ≤ the ${n} rows, or a fraction`)
  }
  return maxSamples
}

export const fitRandomForest = (
  x: Matrix,
  y: Float64Array,
  options: FitOptions<RandomForestParams>
): RandomForestModel => {
  const nClasses = checkFitInput(KIND, randomForest.tasks, x, y, options)
  const params = resolveForestParams(options.params, options.task)
  const nTrees = params.n_estimators
  const seeds = new Float64Array(nTrees)
  for (let t = 0; t < nTrees; t++) seeds[t] = deriveSeed(options.seed, t)
  const job = makeGrowJob(
    toColumnMajor(x),
    x.rows,
    x.cols,
    y,
    nClasses,
    options.task,
    params,
    seeds,
    params.bootstrap,
    params.bootstrap ? resolveBootstrapSamples(params.max_samples, x.rows) : x.rows
  )
  const grown = parallelMapSync(growTree, job, nTrees, resolveThreads(options.params.n_jobs))

  // scikit-learn averages the importances of the trees that split at least once
  const imp = new Float64Array(x.cols)
  for (const g of grown) {
    let s = 0
    for (let j = 0; j < x.cols; j++) s += g.importance[j]!
    if (g.nodeCount > 1 && s > 0) for (let j = 0; j < x.cols; j++) imp[j] += g.importance[j]! / s
  }
  let total = 0
  for (let j = 0; j < x.cols; j++) total += imp[j]!
  return {
    format: FORMAT,
    task: options.task,
    nFeatures: x.cols,
    nClasses,
    params,
    seed: options.seed,
    trees: grown.map(toTreeArrays),
    featureImportances: Array.from(imp, (v) => (total > 0 ? v / total : 0))
  }
}

const compiled = (model: RandomForestModel): CompiledTrees =>
  compileTrees(model, model.trees, model.task === "classification" ? model.nClasses : 1)

const meanOverTrees = (model: RandomForestModel, x: Matrix): Float64Array => {
  checkFormat(model, FORMAT)
  checkPredictInput(KIND, model.nFeatures, x)
  const c = compiled(model)
  const out = sumLeafValues(c, x)
  const nTrees = model.trees.length
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / nTrees
  return out
}

/** Mean of the trees' class probabilities (rows × classes), like scikit-learn. */
export const predictProbaRandomForest = (model: RandomForestModel, x: Matrix): Float64Array => {
  if (model.task !== "classification") throw new LearnerInputError("predictProba needs a classification forest")
  return meanOverTrees(model, x)
}

/** Class index of the highest mean probability (classification) or the mean prediction (regression). */
export const predictRandomForest = (model: RandomForestModel, x: Matrix): Float64Array => {
  const values = meanOverTrees(model, x)
  return model.task === "classification" ? argmaxRows(values, x.rows, model.nClasses) : values
}

export const randomForest: Learner<RandomForestParams, RandomForestModel> = {
  ...specOf(KIND),
  format: FORMAT,
  fit: fitRandomForest,
  predict: predictRandomForest,
  predictProba: predictProbaRandomForest
}
