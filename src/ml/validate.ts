import type { FitOptions, Task } from "./learner.js"
import { assertFinite, LearnerInputError, type Matrix } from "./matrix.js"

/** Checks a training set before a fit; returns the number of classes (0 for regression). */
export const checkFitInput = (
  kind: string,
  tasks: ReadonlyArray<Task>,
  x: Matrix,
  y: Float64Array,
  options: FitOptions<unknown>,
  acceptsMissing = false
): number => {
  if (!tasks.includes(options.task)) {
    throw new LearnerInputError(`${kind} does not support ${options.task} (supported: ${tasks.join(", ")})`)
  }
  checkShape(x)
  if (x.rows === 0) throw new LearnerInputError(`${kind}: the training set has no rows`)
  if (x.cols === 0) throw new LearnerInputError(`${kind}: the training set has no feature columns`)
  if (y.length !== x.rows) {
    throw new LearnerInputError(`${kind}: the target has ${y.length} values but the features have ${x.rows} rows`)
  }
  if (!acceptsMissing) assertFinite(x, options.featureNames)
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i]!))
      throw new LearnerInputError(`${kind}: the target has a non-finite value (${y[i]}) at row ${i}`)
  }
  if (options.task === "regression") return 0
  const k = options.nClasses
  if (k === undefined || !Number.isInteger(k) || k < 2) {
    throw new LearnerInputError(`${kind}: classification needs nClasses ≥ 2, got ${k}`)
  }
  const seen = new Uint8Array(k)
  let distinct = 0
  for (let i = 0; i < y.length; i++) {
    const c = y[i]!
    if (!Number.isInteger(c) || c < 0 || c >= k) {
      throw new LearnerInputError(`${kind}: target value ${c} at row ${i} is not a class index in 0..${k - 1}`)
    }
    if (seen[c] === 0) {
      seen[c] = 1
      distinct++
    }
  }
  if (distinct < 2) {
    throw new LearnerInputError(
      `${kind}: the training set has a single class (index ${y[0]}); a classifier needs at least two classes`
    )
  }
  return k
}

/** Checks a prediction input against the fitted feature count. */
export const checkPredictInput = (kind: string, nFeatures: number, x: Matrix, acceptsMissing = false): void => {
  checkShape(x)
  if (x.cols !== nFeatures) {
    throw new LearnerInputError(`${kind}: the model was fitted on ${nFeatures} features, the input has ${x.cols}`)
  }
  if (!acceptsMissing) assertFinite(x)
}

const checkShape = (x: Matrix): void => {
  if (x.data.length !== x.rows * x.cols) {
    throw new LearnerInputError(`matrix data has ${x.data.length} values, expected ${x.rows} × ${x.cols}`)
  }
}

/** Checks that a model object has the expected versioned format tag. */
export const checkFormat = (model: { readonly format: string }, format: string): void => {
  if (model.format !== format) {
    throw new LearnerInputError(`expected a model in format ${format}, got ${String(model.format)}`)
  }
}
