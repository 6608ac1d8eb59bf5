/**
 * The losses of histogram gradient boosting, as scikit-learn's HalfSquaredError, HalfBinomialLoss and
 * HalfMultinomialLoss. Raw predictions are class-major: raw[k * n + i].
 */
export type HgbLossKind = "squared_error" | "log_loss_binary" | "log_loss_multiclass"

const EPS = 2.220446049250313e-16

/** Baseline raw prediction per tree of an iteration: mean, log-odds prior, or centred log prior. */
export const baselinePrediction = (kind: HgbLossKind, y: Float64Array, nClasses: number): Float64Array => {
  const n = y.length
  if (kind === "squared_error") {
    let s = 0
    for (let i = 0; i < n; i++) s += y[i]!
    return Float64Array.of(s / n)
  }
  if (kind === "log_loss_binary") {
    let s = 0
    for (let i = 0; i < n; i++) s += y[i]!
    let p = s / n
    const eps = 10 * EPS
    if (p < eps) p = eps
    if (p > 1 - eps) p = 1 - eps
    return Float64Array.of(Math.log(p / (1 - p)))
  }
  const counts = new Float64Array(nClasses)
  for (let i = 0; i < n; i++) counts[y[i]!]!++
  const out = new Float64Array(nClasses)
  let mean = 0
  for (let k = 0; k < nClasses; k++) {
    let p = counts[k]! / n
    if (p < EPS) p = EPS
    if (p > 1 - EPS) p = 1 - EPS
    out[k] = Math.log(p)
    mean += out[k]!
  }
  mean /= nClasses
  for (let k = 0; k < nClasses; k++) out[k] = out[k]! - mean
  return out
}

/**
 * Gradients (and hessians, unless the loss has a constant hessian) at the current raw predictions,
 * stored as float32 like scikit-learn's G_H_DTYPE.
 */
export const updateGradients = (
  kind: HgbLossKind,
  y: Float64Array,
  raw: Float64Array,
  grad: Float32Array,
  hess: Float32Array | null,
  nClasses: number
): void => {
  const n = y.length
  if (kind === "squared_error") {
    for (let i = 0; i < n; i++) grad[i] = raw[i]! - y[i]!
    return
  }
  const h = hess!
  if (kind === "log_loss_binary") {
    for (let i = 0; i < n; i++) {
      const r = raw[i]!
      const yt = y[i]!
      if (r > 0) {
        const e = Math.exp(-r)
        const d = 1 + e
        grad[i] = (1 - yt - yt * e) / d
        h[i] = e / (d * d)
      } else {
        const e = Math.exp(r)
        const d = 1 + e
        grad[i] = ((1 - yt) * e - yt) / d
        h[i] = e / (d * d)
      }
    }
    return
  }
  const K = nClasses
  const e = new Float64Array(K)
  for (let i = 0; i < n; i++) {
    let max = raw[i]!
    for (let k = 1; k < K; k++) {
      const r = raw[k * n + i]!
      if (r > max) max = r
    }
    let sum = 0
    for (let k = 0; k < K; k++) {
      e[k] = Math.exp(raw[k * n + i]! - max)
      sum += e[k]!
    }
    const yi = y[i]!
    for (let k = 0; k < K; k++) {
      const p = e[k]! / sum
      grad[k * n + i] = p - (yi === k ? 1 : 0)
      h[k * n + i] = p * (1 - p)
    }
  }
}

/** Mean loss (scikit-learn's `loss(y, raw)`), used for early stopping. */
export const meanLoss = (kind: HgbLossKind, y: Float64Array, raw: Float64Array, nClasses: number): number => {
  const n = y.length
  let s = 0
  if (kind === "squared_error") {
    for (let i = 0; i < n; i++) {
      const d = raw[i]! - y[i]!
      s += 0.5 * d * d
    }
  } else if (kind === "log_loss_binary") {
    for (let i = 0; i < n; i++) {
      const r = raw[i]!
      const yt = y[i]!
      let l: number
      if (r <= -37) l = Math.exp(r) - yt * r
      else if (r <= 18) l = Math.log1p(Math.exp(r)) - yt * r
      else if (r <= 33.3) l = r + Math.exp(-r) - yt * r
      else l = r - yt * r
      s += l
    }
  } else {
    const K = nClasses
    for (let i = 0; i < n; i++) {
      let max = raw[i]!
      for (let k = 1; k < K; k++) {
        const r = raw[k * n + i]!
        if (r > max) max = r
      }
      let sum = 0
      for (let k = 0; k < K; k++) sum += Math.exp(raw[k * n + i]! - max)
      s += Math.log(sum) + max - raw[y[i]! * n + i]!
    }
  }
  return s / n
}

/** Logistic sigmoid, as scipy's expit. */
export const expit = (r: number): number => 1 / (1 + Math.exp(-r))
