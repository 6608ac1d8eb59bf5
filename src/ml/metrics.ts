import { scoreGroups } from "./curves.js"
import { LearnerInputError } from "./matrix.js"

/**
 * Classification and regression metrics with scikit-learn 1.2's definitions: class indices
 * 0..nClasses-1; precision/recall/F1 with zero_division=0, macro/weighted averages over the labels
 * present in y_true ∪ y_pred (as scikit-learn infers them); ROC AUC with tied scores; log-loss
 * clipped at machine epsilon and renormalised.
 */

type Labels = ArrayLike<number>

const sameLength = (a: ArrayLike<number>, b: ArrayLike<number>, what: string): void => {
  if (a.length !== b.length) throw new LearnerInputError(`${what}: y_true has ${a.length} values, y_pred ${b.length}`)
  if (a.length === 0) throw new LearnerInputError(`${what}: no values`)
}

const checkClass = (v: number, k: number, what: string): number => {
  if (!Number.isInteger(v) || v < 0 || v >= k)
    throw new LearnerInputError(`${what}: ${v} is not a class index in 0..${k - 1}`)
  return v
}

export const accuracy = (yTrue: Labels, yPred: Labels): number => {
  sameLength(yTrue, yPred, "accuracy")
  let hit = 0
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hit++
  return hit / yTrue.length
}

/** counts[t][p]: rows are true classes, columns predicted classes. */
export const confusionMatrix = (yTrue: Labels, yPred: Labels, nClasses: number): number[][] => {
  sameLength(yTrue, yPred, "confusion matrix")
  const m = Array.from({ length: nClasses }, () => new Array<number>(nClasses).fill(0))
  for (let i = 0; i < yTrue.length; i++) {
    m[checkClass(yTrue[i]!, nClasses, "y_true")]![checkClass(yPred[i]!, nClasses, "y_pred")]! += 1
  }
  return m
}

export interface PerClassScores {
  readonly precision: ReadonlyArray<number>
  readonly recall: ReadonlyArray<number>
  readonly f1: ReadonlyArray<number>
  /** True instances per class. */
  readonly support: ReadonlyArray<number>
  /** Whether the class occurs in y_true or y_pred (scikit-learn averages over these only). */
  readonly present: ReadonlyArray<boolean>
}

export const precisionRecallF1PerClass = (yTrue: Labels, yPred: Labels, nClasses: number): PerClassScores => {
  const cm = confusionMatrix(yTrue, yPred, nClasses)
  const precision: number[] = [],
    recall: number[] = [],
    f1: number[] = [],
    support: number[] = [],
    present: boolean[] = []
  for (let c = 0; c < nClasses; c++) {
    const tp = cm[c]![c]!
    let predicted = 0,
      actual = 0
    for (let k = 0; k < nClasses; k++) {
      predicted += cm[k]![c]!
      actual += cm[c]![k]!
    }
    const p = predicted === 0 ? 0 : tp / predicted
    const r = actual === 0 ? 0 : tp / actual
    precision.push(p)
    recall.push(r)
    f1.push(p + r === 0 ? 0 : (2 * p * r) / (p + r))
    support.push(actual)
    present.push(predicted + actual > 0)
  }
  return { precision, recall, f1, support, present }
}

export type Average = "macro" | "weighted" | "binary"

const averageOf = (values: ReadonlyArray<number>, s: PerClassScores, average: Average, posLabel: number): number => {
  if (average === "binary") return values[posLabel] ?? 0
  let num = 0,
    den = 0
  for (let c = 0; c < values.length; c++) {
    if (!s.present[c]) continue
    const w = average === "weighted" ? s.support[c]! : 1
    num += w * values[c]!
    den += w
  }
  return den === 0 ? 0 : num / den
}

export const precisionScore = (
  yTrue: Labels,
  yPred: Labels,
  nClasses: number,
  average: Average = "binary",
  posLabel = 1
): number => {
  const s = precisionRecallF1PerClass(yTrue, yPred, nClasses)
  return averageOf(s.precision, s, average, posLabel)
}

export const recallScore = (
  yTrue: Labels,
  yPred: Labels,
  nClasses: number,
  average: Average = "binary",
  posLabel = 1
): number => {
  const s = precisionRecallF1PerClass(yTrue, yPred, nClasses)
  return averageOf(s.recall, s, average, posLabel)
}

export const f1Score = (
  yTrue: Labels,
  yPred: Labels,
  nClasses: number,
  average: Average = "binary",
  posLabel = 1
): number => {
  const s = precisionRecallF1PerClass(yTrue, yPred, nClasses)
  return averageOf(s.f1, s, average, posLabel)
}

/**
 * Binary ROC AUC for scores of class 1: the trapezoidal area under the ROC curve over distinct
 * thresholds (ties move together, as scikit-learn's roc_curve). Throws when y_true has one class.
 */
export const rocAuc = (yTrue: Labels, score: ArrayLike<number>): number => {
  sameLength(yTrue, score, "roc_auc")
  const n = yTrue.length
  let pos = 0
  for (let i = 0; i < n; i++) {
    const v = yTrue[i]!
    if (v !== 0 && v !== 1) throw new LearnerInputError(`roc_auc: y_true must be 0/1, got ${v}`)
    pos += v
  }
  const neg = n - pos
  if (pos === 0 || neg === 0) throw new LearnerInputError("roc_auc: y_true has a single class; ROC AUC is undefined")
  let prevTp = 0,
    prevFp = 0,
    area = 0
  scoreGroups(yTrue, score, (_, tp, fp) => {
    area += ((fp - prevFp) * (tp + prevTp)) / 2
    prevTp = tp
    prevFp = fp
  })
  return area / (pos * neg)
}

/** Mean negative log-likelihood of the true class; probabilities (rows × nClasses) clipped to [eps, 1-eps] and renormalised. */
export const logLoss = (
  yTrue: Labels,
  proba: ArrayLike<number>,
  nClasses: number,
  eps = 2.220446049250313e-16
): number => {
  const n = yTrue.length
  if (n === 0) throw new LearnerInputError("log_loss: no values")
  if (proba.length !== n * nClasses) {
    throw new LearnerInputError(`log_loss: expected ${n} × ${nClasses} probabilities, got ${proba.length}`)
  }
  let total = 0
  for (let i = 0; i < n; i++) {
    const t = checkClass(yTrue[i]!, nClasses, "y_true")
    let s = 0
    for (let k = 0; k < nClasses; k++) s += Math.min(1 - eps, Math.max(eps, proba[i * nClasses + k]!))
    const q = Math.min(1 - eps, Math.max(eps, proba[i * nClasses + t]!)) / s
    total -= Math.log(q)
  }
  return total / n
}

export const meanAbsoluteError = (yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number => {
  sameLength(yTrue, yPred, "mae")
  let s = 0
  for (let i = 0; i < yTrue.length; i++) s += Math.abs(yTrue[i]! - yPred[i]!)
  return s / yTrue.length
}

export const meanSquaredError = (yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number => {
  sameLength(yTrue, yPred, "mse")
  let s = 0
  for (let i = 0; i < yTrue.length; i++) s += (yTrue[i]! - yPred[i]!) ** 2
  return s / yTrue.length
}

export const rootMeanSquaredError = (yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number =>
  Math.sqrt(meanSquaredError(yTrue, yPred))

/** R²; a constant y_true gives 1 for a perfect prediction, else 0 (scikit-learn's force_finite). */
export const r2Score = (yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number => {
  sameLength(yTrue, yPred, "r2")
  const n = yTrue.length
  let mean = 0
  for (let i = 0; i < n; i++) mean += yTrue[i]!
  mean /= n
  let ssRes = 0,
    ssTot = 0
  for (let i = 0; i < n; i++) {
    ssRes += (yTrue[i]! - yPred[i]!) ** 2
    ssTot += (yTrue[i]! - mean) ** 2
  }
  if (ssTot === 0) return ssRes === 0 ? 1 : 0
  return 1 - ssRes / ssTot
}

/**
 * accuracy, precision/recall/f1 (macro and weighted), and when probabilities are given log_loss and,
 * for two classes with both present in y_true, roc_auc. Unqualified `precision` and `recall` mean what
 * scikit-learn's `precision_score`/`recall_score` mean by default: for two classes, those of the
 * positive class (`positive`, a class index); with more classes scikit-learn refuses the default, and
 * they are the weighted averages (the same values as `precision_weighted`/`recall_weighted`).
 */
export const classificationMetrics = (
  yTrue: Labels,
  yPred: Labels,
  proba: ArrayLike<number> | undefined,
  nClasses: number,
  positive = 1
): Record<string, number> => {
  const s = precisionRecallF1PerClass(yTrue, yPred, nClasses)
  const out: Record<string, number> = {
    accuracy: accuracy(yTrue, yPred),
    precision_macro: averageOf(s.precision, s, "macro", 1),
    recall_macro: averageOf(s.recall, s, "macro", 1),
    f1_macro: averageOf(s.f1, s, "macro", 1),
    precision_weighted: averageOf(s.precision, s, "weighted", 1),
    recall_weighted: averageOf(s.recall, s, "weighted", 1),
    f1_weighted: averageOf(s.f1, s, "weighted", 1)
  }
  if (nClasses === 2) {
    if (positive !== 0 && positive !== 1) throw new LearnerInputError(`positive class index ${positive} is not 0 or 1`)
    out.precision = s.precision[positive]!
    out.recall = s.recall[positive]!
  } else {
    out.precision = out.precision_weighted!
    out.recall = out.recall_weighted!
  }
  if (proba !== undefined) {
    if (nClasses === 2) {
      let pos = 0
      for (let i = 0; i < yTrue.length; i++) pos += yTrue[i]!
      if (pos > 0 && pos < yTrue.length) {
        const score = new Float64Array(yTrue.length)
        let nan = false
        for (let i = 0; i < yTrue.length; i++) {
          const v = proba[i * 2 + 1]!
          score[i] = v
          if (v !== v) nan = true
        }
        // a diverged model's NaN probabilities rank nothing: NaN, like its log_loss, and the gate decides
        out.roc_auc = nan ? NaN : rocAuc(yTrue, score)
      }
    }
    out.log_loss = logLoss(yTrue, proba, nClasses)
  }
  return out
}

export const regressionMetrics = (yTrue: ArrayLike<number>, yPred: ArrayLike<number>): Record<string, number> => {
  const mse = meanSquaredError(yTrue, yPred)
  return {
    mae: meanAbsoluteError(yTrue, yPred),
    mse,
    rmse: Math.sqrt(mse),
    r2: r2Score(yTrue, yPred)
  }
}
