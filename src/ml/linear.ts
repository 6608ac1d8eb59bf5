import type { ParamsInput } from "../domain/training.js"
import { decodeParams, specOf, type FitOptions, type Learner } from "./learner.js"
import { LearnerInputError, type Matrix } from "./matrix.js"
import { checkFitInput, checkFormat, checkPredictInput } from "./validate.js"

/**
 * Least squares (scikit-learn's LinearRegression) by Householder QR of the centred design, and
 * Ridge (scikit-learn's Ridge, "cholesky" solver) by Cholesky on the centred normal equations.
 * With an intercept, X and y are centred first so the intercept is not penalised (as scikit-learn).
 */

/** Given parameters: every field optional (domain/training.ts declares them and their defaults). */
export type LinearRegressionParams = ParamsInput<"linear_regression">
export type RidgeParams = ParamsInput<"ridge">

export interface LinearRegressionModel {
  readonly format: "driftgate.linear_regression/1"
  readonly nFeatures: number
  readonly fitIntercept: boolean
  readonly coef: ReadonlyArray<number>
  readonly intercept: number
}

export interface RidgeModel {
  readonly format: "driftgate.ridge/1"
  readonly nFeatures: number
  readonly alpha: number
  readonly fitIntercept: boolean
  readonly coef: ReadonlyArray<number>
  readonly intercept: number
}

/** A column is treated as dependent when QR leaves less than this share of its (centred) norm. */
const RANK_TOLERANCE = 1e-10

interface Centred {
  /** Column-major n × p copy of X, centred when fitting an intercept. */
  readonly a: Float64Array
  readonly b: Float64Array
  readonly xMean: Float64Array
  readonly yMean: number
}

/** Column means of X and the mean of y (zeros without an intercept). */
const means = (x: Matrix, y: Float64Array, fitIntercept: boolean): { xMean: Float64Array; yMean: number } => {
  const n = x.rows,
    p = x.cols,
    d = x.data
  const xMean = new Float64Array(p)
  let yMean = 0
  if (fitIntercept) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < p; j++) xMean[j] += d[i * p + j]!
      yMean += y[i]!
    }
    for (let j = 0; j < p; j++) xMean[j] = xMean[j]! / n
    yMean /= n
  }
  return { xMean, yMean }
}

const centre = (x: Matrix, y: Float64Array, fitIntercept: boolean): Centred => {
  const n = x.rows,
    p = x.cols,
    d = x.data
  const { xMean, yMean } = means(x, y, fitIntercept)
  const a = new Float64Array(n * p)
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) a[j * n + i] = d[i * p + j]! - xMean[j]!
  const b = new Float64Array(n)
  for (let i = 0; i < n; i++) b[i] = y[i]! - yMean
  return { a, b, xMean, yMean }
}

const featureName = (options: FitOptions<unknown>, j: number): string => options.featureNames?.[j] ?? `#${j}`

/** Solves min ||A w - b|| by Householder QR (A column-major n × p, overwritten); throws on rank deficiency. */
const leastSquaresQR = (
  a: Float64Array,
  b: Float64Array,
  n: number,
  p: number,
  options: FitOptions<unknown>,
  centred: boolean
): Float64Array => {
  if (n < p) {
    throw new LearnerInputError(
      `linear_regression: ${n} rows cannot determine ${p} coefficients (X is rank-deficient); use ridge`
    )
  }
  const colNorm = new Float64Array(p)
  for (let j = 0; j < p; j++) {
    let s = 0
    for (let i = 0; i < n; i++) s += a[j * n + i]! ** 2
    colNorm[j] = Math.sqrt(s)
  }
  const rDiag = new Float64Array(p)
  for (let k = 0; k < p; k++) {
    const ko = k * n
    let s = 0
    for (let i = k; i < n; i++) s += a[ko + i]! ** 2
    const norm = Math.sqrt(s)
    if (!(norm > RANK_TOLERANCE * colNorm[k]!) || colNorm[k] === 0) {
      const what =
        colNorm[k] === 0 ? (centred ? "is constant" : "is all zeros") : "is a linear combination of earlier features"
      throw new LearnerInputError(
        `linear_regression: feature ${featureName(options, k)} ${what}, so X is rank-deficient; drop it or use ridge`,
        k
      )
    }
    const x0 = a[ko + k]!
    const alpha = x0 > 0 ? -norm : norm
    // v = x - alpha e1, stored in place; H = I - 2 v vᵀ / (vᵀv)
    a[ko + k] = x0 - alpha
    const vtv = s - x0 * x0 + (x0 - alpha) ** 2
    for (let j = k + 1; j < p; j++) {
      const jo = j * n
      let dot = 0
      for (let i = k; i < n; i++) dot += a[ko + i]! * a[jo + i]!
      const f = (2 * dot) / vtv
      for (let i = k; i < n; i++) a[jo + i] = a[jo + i]! - f * a[ko + i]!
    }
    let dot = 0
    for (let i = k; i < n; i++) dot += a[ko + i]! * b[i]!
    const f = (2 * dot) / vtv
    for (let i = k; i < n; i++) b[i] = b[i]! - f * a[ko + i]!
    rDiag[k] = alpha
  }
  // back substitution R w = (Qᵀ b)[0..p); R's strict upper part is in a's columns above the diagonal
  const w = new Float64Array(p)
  for (let k = p - 1; k >= 0; k--) {
    let s = b[k]!
    for (let j = k + 1; j < p; j++) s -= a[j * n + k]! * w[j]!
    w[k] = s / rDiag[k]!
  }
  return w
}

const interceptOf = (c: Pick<Centred, "xMean" | "yMean">, w: Float64Array, fitIntercept: boolean): number => {
  if (!fitIntercept) return 0
  let s = c.yMean
  for (let j = 0; j < w.length; j++) s -= c.xMean[j]! * w[j]!
  return s
}

export const fitLinearRegression = (
  x: Matrix,
  y: Float64Array,
  options: FitOptions<LinearRegressionParams>
): LinearRegressionModel => {
  checkFitInput("linear_regression", linearRegression.tasks, x, y, options)
  const fitIntercept = decodeParams("linear_regression", options.params).fit_intercept
  const c = centre(x, y, fitIntercept)
  const w = leastSquaresQR(c.a, Float64Array.from(c.b), x.rows, x.cols, options, fitIntercept)
  return {
    format: "driftgate.linear_regression/1",
    nFeatures: x.cols,
    fitIntercept,
    coef: Array.from(w),
    intercept: interceptOf(c, w, fitIntercept)
  }
}

export const fitRidge = (x: Matrix, y: Float64Array, options: FitOptions<RidgeParams>): RidgeModel => {
  checkFitInput("ridge", ridge.tasks, x, y, options)
  const { alpha, fit_intercept: fitIntercept } = decodeParams("ridge", options.params)
  const n = x.rows,
    p = x.cols,
    d = x.data
  const { xMean, yMean } = means(x, y, fitIntercept)
  // G = XcᵀXc + alpha I (lower triangle), r = Xcᵀyc, accumulated row by row (one pass, no copy of X)
  const g = new Float64Array(p * p)
  const r = new Float64Array(p)
  const c = new Float64Array(p)
  for (let i = 0; i < n; i++) {
    const o = i * p
    for (let j = 0; j < p; j++) c[j] = d[o + j]! - xMean[j]!
    const yc = y[i]! - yMean
    for (let j = 0; j < p; j++) {
      const cj = c[j]!
      const go = j * p
      for (let k = 0; k <= j; k++) g[go + k] += cj * c[k]!
      r[j] += cj * yc
    }
  }
  for (let j = 0; j < p; j++) g[j * p + j] = g[j * p + j]! + alpha
  // Cholesky G = L Lᵀ in place (lower)
  for (let j = 0; j < p; j++) {
    let d = g[j * p + j]!
    for (let k = 0; k < j; k++) d -= g[j * p + k]! ** 2
    if (!(d > 1e-12 * (g[j * p + j]! || 1))) {
      throw new LearnerInputError(
        `ridge: feature ${featureName(options, j)} makes XᵀX + alpha·I singular (constant or collinear with alpha=${alpha}); increase alpha or drop it`,
        j
      )
    }
    const ljj = Math.sqrt(d)
    g[j * p + j] = ljj
    for (let i = j + 1; i < p; i++) {
      let s = g[i * p + j]!
      for (let k = 0; k < j; k++) s -= g[i * p + k]! * g[j * p + k]!
      g[i * p + j] = s / ljj
    }
  }
  const z = new Float64Array(p)
  for (let i = 0; i < p; i++) {
    let s = r[i]!
    for (let k = 0; k < i; k++) s -= g[i * p + k]! * z[k]!
    z[i] = s / g[i * p + i]!
  }
  const w = new Float64Array(p)
  for (let i = p - 1; i >= 0; i--) {
    let s = z[i]!
    for (let k = i + 1; k < p; k++) s -= g[k * p + i]! * w[k]!
    w[i] = s / g[i * p + i]!
  }
  return {
    format: "driftgate.ridge/1",
    nFeatures: p,
    alpha,
    fitIntercept,
    coef: Array.from(w),
    intercept: interceptOf({ xMean, yMean }, w, fitIntercept)
  }
}

const predictLinear = (
  kind: string,
  model: { nFeatures: number; coef: ReadonlyArray<number>; intercept: number },
  x: Matrix
): Float64Array => {
  checkPredictInput(kind, model.nFeatures, x)
  const p = x.cols,
    d = x.data
  const coef = Float64Array.from(model.coef)
  const out = new Float64Array(x.rows)
  for (let i = 0; i < x.rows; i++) {
    let s = model.intercept
    for (let j = 0; j < p; j++) s += d[i * p + j]! * coef[j]!
    out[i] = s
  }
  return out
}

export const predictLinearRegression = (model: LinearRegressionModel, x: Matrix): Float64Array => {
  checkFormat(model, "driftgate.linear_regression/1")
  return predictLinear("linear_regression", model, x)
}

export const predictRidge = (model: RidgeModel, x: Matrix): Float64Array => {
  checkFormat(model, "driftgate.ridge/1")
  return predictLinear("ridge", model, x)
}

export const linearRegression: Learner<LinearRegressionParams, LinearRegressionModel> = {
  ...specOf("linear_regression"),
  format: "driftgate.linear_regression/1",
  fit: fitLinearRegression,
  predict: predictLinearRegression
}

export const ridge: Learner<RidgeParams, RidgeModel> = {
  ...specOf("ridge"),
  format: "driftgate.ridge/1",
  fit: fitRidge,
  predict: predictRidge
}
