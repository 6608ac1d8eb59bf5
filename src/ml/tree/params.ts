import type { MaxFeatures, TreeCriterion } from "../../domain/training.js"
import type { Task } from "../learner.js"
import { LearnerInputError } from "../matrix.js"
import { argsortColumn, argsortScratch } from "./argsort.js"
import type { GrowJob } from "./grower.js"

/**
 * From decoded tree parameters (domain/training.ts declares them) to the grower's job: the
 * task-dependent criterion, max_features and the fractional counts resolved against the data.
 */

/** Tree parameters once the task's defaults are applied: what a fitted model records. */
export interface ResolvedTreeParams {
  readonly criterion: TreeCriterion
  readonly max_depth: number | null
  readonly min_samples_split: number
  readonly min_samples_leaf: number
  readonly max_features: MaxFeatures
}

/** scikit-learn's default criterion for a task. */
export const defaultCriterion = (task: Task): TreeCriterion => (task === "classification" ? "gini" : "squared_error")

const criterionCode = (criterion: TreeCriterion, task: Task): number => {
  if (task === "classification") {
    if (criterion === "gini") return 0
    if (criterion === "entropy" || criterion === "log_loss") return 1
  } else if (criterion === "squared_error") {
    return 2
  }
  throw new LearnerInputError(`criterion "${criterion}" is not valid for ${task}`)
}

export const resolveMaxFeatures = (maxFeatures: MaxFeatures, p: number): number => {
  if (maxFeatures === null) return p
  if (maxFeatures === "sqrt") return Math.max(1, Math.floor(Math.sqrt(p)))
  if (maxFeatures === "log2") return Math.max(1, Math.floor(Math.log2(p)))
  if (typeof maxFeatures !== "number" || !(maxFeatures > 0)) {
    throw new LearnerInputError(`max_features must be > 0, "sqrt", "log2" or null, got ${String(maxFeatures)}`)
  }
  if (maxFeatures <= 1) return Math.max(1, Math.floor(maxFeatures * p))
  if (!Number.isInteger(maxFeatures) || maxFeatures > p) {
    throw new LearnerInputError(`max_features=${maxFeatures} must be an integer ≤ the ${p} features, or a fraction`)
  }
  return maxFeatures
}

const resolveCount = (name: string, v: number, n: number, min: number): number => {
  if (!(v > 0) || !Number.isFinite(v)) throw new LearnerInputError(`${name} must be a positive number, got ${v}`)
  if (v < 1) return Math.max(min, Math.ceil(v * n))
  if (!Number.isInteger(v)) throw new LearnerInputError(`${name} must be an integer or a fraction < 1, got ${v}`)
  return Math.max(min, v)
}

/** Builds the grower's job (everything but the seeds and bootstrap settings). */
export const makeGrowJob = (
  xCol: Float64Array,
  n: number,
  p: number,
  y: Float64Array,
  nClasses: number,
  task: Task,
  params: ResolvedTreeParams,
  seeds: Float64Array,
  bootstrap: boolean,
  bootstrapSamples: number
): GrowJob => {
  const { max_depth } = params
  if (max_depth !== null && !(Number.isInteger(max_depth) && max_depth >= 1)) {
    throw new LearnerInputError(`max_depth must be a positive integer or null, got ${max_depth}`)
  }
  const minSamplesLeaf = resolveCount("min_samples_leaf", params.min_samples_leaf, n, 1)
  const minSamplesSplit = Math.max(
    resolveCount("min_samples_split", params.min_samples_split, n, 2),
    2 * minSamplesLeaf
  )
  const order = new Int32Array(n * p)
  const scratch = argsortScratch(n)
  for (let j = 0; j < p; j++) argsortColumn(xCol, j * n, n, order, j * n, scratch)
  const sortedX = new Float64Array(n * p)
  for (let q = 0; q < n * p; q++) sortedX[q] = xCol[q - (q % n) + order[q]!]!
  return {
    x: xCol,
    n,
    p,
    y,
    nClasses,
    order,
    sortedX,
    criterion: criterionCode(params.criterion, task),
    maxDepth: max_depth === null ? 2147483647 : max_depth,
    minSamplesSplit,
    minSamplesLeaf,
    maxFeatures: resolveMaxFeatures(params.max_features, p),
    bootstrap,
    bootstrapSamples,
    seeds
  }
}
