import type { ParamsInput } from "../domain/training.js"
import { decodeParams, specOf, type FitOptions, type Learner, type Task } from "./learner.js"
import { LearnerInputError, toColumnMajor, type Matrix } from "./matrix.js"
import { growTree, toTreeArrays } from "./tree/grower.js"
import { defaultCriterion, makeGrowJob, type ResolvedTreeParams } from "./tree/params.js"
import {
  argmaxRows,
  compileTrees,
  normaliseImportances,
  sumLeafValues,
  type CompiledTrees,
  type TreeArrays
} from "./tree/predict.js"
import { checkFitInput, checkFormat, checkPredictInput } from "./validate.js"

/**
 * CART decision tree: scikit-learn's DecisionTreeClassifier / DecisionTreeRegressor (best splitter).
 * The grower, parameter resolution and prediction live in tree/ and are shared with forest.ts.
 */

/** Given parameters: every field optional (domain/training.ts declares them and their defaults). */
export type DecisionTreeParams = ParamsInput<"decision_tree">

export interface DecisionTreeModel {
  readonly format: "driftgate.decision_tree/1"
  readonly task: Task
  readonly nFeatures: number
  /** 0 for regression. */
  readonly nClasses: number
  readonly params: ResolvedTreeParams
  readonly seed: number
  readonly tree: TreeArrays
  /** Mean decrease in impurity per feature, normalised to sum to 1 (all zero for a single-leaf tree). */
  readonly featureImportances: ReadonlyArray<number>
}

const KIND = "decision_tree"
const FORMAT = "driftgate.decision_tree/1"

/** The given params decoded (schema defaults) and the task's criterion applied, in model.json's order. */
export const resolveDecisionTreeParams = (given: DecisionTreeParams, task: Task): ResolvedTreeParams => {
  const p = decodeParams(KIND, given)
  return {
    criterion: p.criterion ?? defaultCriterion(task),
    max_depth: p.max_depth,
    min_samples_split: p.min_samples_split,
    min_samples_leaf: p.min_samples_leaf,
    max_features: p.max_features
  }
}

/** scikit-learn's defaults for a task. */
export const decisionTreeDefaults = (task: Task): ResolvedTreeParams => resolveDecisionTreeParams({}, task)

export const fitDecisionTree = (
  x: Matrix,
  y: Float64Array,
  options: FitOptions<DecisionTreeParams>
): DecisionTreeModel => {
  const nClasses = checkFitInput(KIND, decisionTree.tasks, x, y, options)
  const params = resolveDecisionTreeParams(options.params, options.task)
  const job = makeGrowJob(
    toColumnMajor(x),
    x.rows,
    x.cols,
    y,
    nClasses,
    options.task,
    params,
    Float64Array.of(options.seed),
    false,
    x.rows
  )
  const grown = growTree(job, 0)
  return {
    format: FORMAT,
    task: options.task,
    nFeatures: x.cols,
    nClasses,
    params,
    seed: options.seed,
    tree: toTreeArrays(grown),
    featureImportances: normaliseImportances(grown.importance)
  }
}

const compiledTree = (model: DecisionTreeModel): CompiledTrees =>
  compileTrees(model, [model.tree], model.task === "classification" ? model.nClasses : 1)

export const predictProbaDecisionTree = (model: DecisionTreeModel, x: Matrix): Float64Array => {
  checkFormat(model, FORMAT)
  if (model.task !== "classification") throw new LearnerInputError("predictProba needs a classification tree")
  checkPredictInput(KIND, model.nFeatures, x)
  return sumLeafValues(compiledTree(model), x)
}

export const predictDecisionTree = (model: DecisionTreeModel, x: Matrix): Float64Array => {
  checkFormat(model, FORMAT)
  checkPredictInput(KIND, model.nFeatures, x)
  const values = sumLeafValues(compiledTree(model), x)
  return model.task === "classification" ? argmaxRows(values, x.rows, model.nClasses) : values
}

export const decisionTree: Learner<DecisionTreeParams, DecisionTreeModel> = {
  ...specOf(KIND),
  format: FORMAT,
  fit: fitDecisionTree,
  predict: predictDecisionTree,
  predictProba: predictProbaDecisionTree
}
