import type { ParamsInput } from "../domain/training.js"
import { decodeParams, specOf, type FitOptions, type Learner } from "./learner.js"
import type { Matrix } from "./matrix.js"
import { minimizeLbfgs } from "./lbfgs.js"
import { checkFitInput, checkFormat, checkPredictInput } from "./validate.js"

/**
 * L2-penalised logistic regression (scikit-learn's LogisticRegression, lbfgs solver): a sigmoid for
 * two classes, a multinomial softmax for more. The loss is C·Σ logloss + ½||w||² (intercept not
 * penalised); it is minimised as Σ logloss + ||w||²/(2C), scikit-learn's scaling, so `tol` means
 * the same gradient tolerance as there. No standardisation inside: preprocess first.
 */
/** Given parameters: every field optional (domain/training.ts declares them and their defaults). */
export type LogisticRegressionParams = ParamsInput<"logistic_regression">

export interface LogisticRegressionModel {
  readonly format: "driftgate.logistic_regression/1"
  readonly nFeatures: number
  readonly nClasses: number
  readonly C: number
  readonly fitIntercept: boolean
  /** One row (the positive class) for two classes, else one row per class. */
  readonly coef: ReadonlyArray<ReadonlyArray<number>>
  readonly intercept: ReadonlyArray<number>
  readonly converged: boolean
  readonly iterations: number
  /** Final objective Σ logloss + ||w||²/(2C). */
  readonly loss: number
}

const KIND = "logistic_regression"
const FORMAT = "driftgate.logistic_regression/1"

/** log(1 + e^t) without overflow. */
const softplus = (t: number): number => (t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t)))

const sigmoid = (t: number): number => {
  if (t >= 0) return 1 / (1 + Math.exp(-t))
  const e = Math.exp(t)
  return e / (1 + e)
}

export const fitLogisticRegression = (
  x: Matrix,
  y: Float64Array,
  options: FitOptions<LogisticRegressionParams>
): LogisticRegressionModel => {
  const K = checkFitInput(KIND, logisticRegression.tasks, x, y, options)
  const { C, fit_intercept: fitIntercept, max_iter: maxIter, tol } = decodeParams(KIND, options.params)
  const n = x.rows,
    p = x.cols,
    X = x.data
  const invC = 1 / C
  const rowsOut = K === 2 ? 1 : K
  const stride = p + 1 // per output: p weights then the intercept
  const theta0 = new Float64Array(rowsOut * stride)
  const yi = Int32Array.from(y)

  let fg: (theta: Float64Array, grad: Float64Array) => number
  if (K === 2) {
    const r = new Float64Array(n)
    fg = (theta, grad) => {
      const b = fitIntercept ? theta[p]! : 0
      let loss = 0
      for (let i = 0; i < n; i++) {
        let z = b
        const o = i * p
        for (let j = 0; j < p; j++) z += X[o + j]! * theta[j]!
        const yv = yi[i]!
        loss += softplus(z) - yv * z
        r[i] = sigmoid(z) - yv
      }
      grad.fill(0)
      let gb = 0
      for (let i = 0; i < n; i++) {
        const ri = r[i]!
        const o = i * p
        for (let j = 0; j < p; j++) grad[j] += ri * X[o + j]!
        gb += ri
      }
      let pen = 0
      for (let j = 0; j < p; j++) {
        const w = theta[j]!
        pen += w * w
        grad[j] += w * invC
      }
      grad[p] = fitIntercept ? gb : 0
      return loss + 0.5 * invC * pen
    }
  } else {
    const z = new Float64Array(K)
    const r = new Float64Array(n * K)
    fg = (theta, grad) => {
      let loss = 0
      for (let i = 0; i < n; i++) {
        const o = i * p
        let zmax = -Infinity
        for (let k = 0; k < K; k++) {
          const to = k * stride
          let s = fitIntercept ? theta[to + p]! : 0
          for (let j = 0; j < p; j++) s += X[o + j]! * theta[to + j]!
          z[k] = s
          if (s > zmax) zmax = s
        }
        let se = 0
        for (let k = 0; k < K; k++) {
          const e = Math.exp(z[k]! - zmax)
          r[i * K + k] = e
          se += e
        }
        const yv = yi[i]!
        loss += zmax + Math.log(se) - z[yv]!
        for (let k = 0; k < K; k++) r[i * K + k] = r[i * K + k]! / se - (k === yv ? 1 : 0)
      }
      grad.fill(0)
      for (let i = 0; i < n; i++) {
        const o = i * p
        for (let k = 0; k < K; k++) {
          const rik = r[i * K + k]!
          const to = k * stride
          for (let j = 0; j < p; j++) grad[to + j] += rik * X[o + j]!
          grad[to + p] += rik
        }
      }
      let pen = 0
      for (let k = 0; k < K; k++) {
        const to = k * stride
        for (let j = 0; j < p; j++) {
          const w = theta[to + j]!
          pen += w * w
          grad[to + j] += w * invC
        }
        if (!fitIntercept) grad[to + p] = 0
      }
      return loss + 0.5 * invC * pen
    }
  }

  const res = minimizeLbfgs(fg, theta0, { maxIter, gtol: tol })
  const coef: number[][] = []
  const intercept: number[] = []
  for (let k = 0; k < rowsOut; k++) {
    coef.push(Array.from(res.x.subarray(k * stride, k * stride + p)))
    intercept.push(fitIntercept ? res.x[k * stride + p]! : 0)
  }
  return {
    format: FORMAT,
    nFeatures: p,
    nClasses: K,
    C,
    fitIntercept,
    coef,
    intercept,
    converged: res.converged,
    iterations: res.iterations,
    loss: res.f
  }
}

/** Class probabilities, rows × classes row-major. */
export const predictProbaLogisticRegression = (model: LogisticRegressionModel, x: Matrix): Float64Array => {
  checkFormat(model, FORMAT)
  checkPredictInput(KIND, model.nFeatures, x)
  const n = x.rows,
    p = x.cols,
    X = x.data,
    K = model.nClasses
  const out = new Float64Array(n * K)
  if (K === 2) {
    const w = Float64Array.from(model.coef[0]!)
    const b = model.intercept[0]!
    for (let i = 0; i < n; i++) {
      let z = b
      for (let j = 0; j < p; j++) z += X[i * p + j]! * w[j]!
      const q = sigmoid(z)
      out[i * 2] = 1 - q
      out[i * 2 + 1] = q
    }
    return out
  }
  const w = new Float64Array(K * p)
  model.coef.forEach((row, k) => w.set(row, k * p))
  for (let i = 0; i < n; i++) {
    let zmax = -Infinity
    for (let k = 0; k < K; k++) {
      let s = model.intercept[k]!
      for (let j = 0; j < p; j++) s += X[i * p + j]! * w[k * p + j]!
      out[i * K + k] = s
      if (s > zmax) zmax = s
    }
    let se = 0
    for (let k = 0; k < K; k++) {
      const e = Math.exp(out[i * K + k]! - zmax)
      out[i * K + k] = e
      se += e
    }
    for (let k = 0; k < K; k++) out[i * K + k] = out[i * K + k]! / se
  }
  return out
}

/** Most probable class index (first on ties). */
export const predictLogisticRegression = (model: LogisticRegressionModel, x: Matrix): Float64Array => {
  if (model.nClasses === 2) {
    // the sign of the decision function, like scikit-learn (a probability of exactly ½ would tie)
    checkFormat(model, FORMAT)
    checkPredictInput(KIND, model.nFeatures, x)
    const p = x.cols,
      X = x.data,
      w = Float64Array.from(model.coef[0]!),
      b = model.intercept[0]!
    const out = new Float64Array(x.rows)
    for (let i = 0; i < x.rows; i++) {
      let z = b
      for (let j = 0; j < p; j++) z += X[i * p + j]! * w[j]!
      out[i] = z > 0 ? 1 : 0
    }
    return out
  }
  const proba = predictProbaLogisticRegression(model, x)
  const K = model.nClasses
  const out = new Float64Array(x.rows)
  for (let i = 0; i < x.rows; i++) {
    let best = 0
    for (let k = 1; k < K; k++) if (proba[i * K + k]! > proba[i * K + best]!) best = k
    out[i] = best
  }
  return out
}

export const logisticRegression: Learner<LogisticRegressionParams, LogisticRegressionModel> = {
  ...specOf(KIND),
  format: FORMAT,
  fit: fitLogisticRegression,
  predict: predictLogisticRegression,
  predictProba: predictProbaLogisticRegression
}
