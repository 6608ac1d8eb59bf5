import { describe, expect, it } from "vitest"
import {
  accuracy,
  classificationMetrics,
  confusionMatrix,
  f1Score,
  logLoss,
  meanAbsoluteError,
  meanSquaredError,
  precisionRecallF1PerClass,
  precisionScore,
  r2Score,
  recallScore,
  regressionMetrics,
  rocAuc,
  rootMeanSquaredError
} from "../../src/ml/metrics.js"
import { LearnerInputError } from "../../src/ml/matrix.js"

// Reference values: /usr/bin/python3 with scikit-learn 1.2.1 (sklearn.metrics, zero_division=0) on the
// same vectors, printed with repr().
const yt = [0, 1, 2, 2, 1, 0, 1, 2, 0, 0]
const yp = [0, 2, 2, 2, 1, 0, 0, 1, 0, 1]
const proba = [
  0.7, 0.2, 0.1, 0.1, 0.3, 0.6, 0.2, 0.2, 0.6, 0, 0.1, 0.9, 0.3, 0.6, 0.1, 0.8, 0.1, 0.1, 0.5, 0.4, 0.1, 0.1, 0.6, 0.3,
  1, 0, 0, 0.4, 0.5, 0.1
]

describe("classification metrics (against scikit-learn 1.2.1)", () => {
  it("accuracy, confusion matrix, per-class and averaged precision/recall/F1", () => {
    expect(accuracy(yt, yp)).toBe(0.6)
    expect(confusionMatrix(yt, yp, 3)).toEqual([
      [3, 1, 0],
      [1, 1, 1],
      [0, 1, 2]
    ])
    const s = precisionRecallF1PerClass(yt, yp, 3)
    expect(s.precision).toEqual([0.75, 0.3333333333333333, 0.6666666666666666])
    expect(s.recall).toEqual([0.75, 0.3333333333333333, 0.6666666666666666])
    expect(s.f1.map((v) => +v.toFixed(15))).toEqual([0.75, 0.333333333333333, 0.666666666666667])
    expect(precisionScore(yt, yp, 3, "macro")).toBeCloseTo(0.5833333333333334, 15)
    expect(recallScore(yt, yp, 3, "macro")).toBeCloseTo(0.5833333333333334, 15)
    expect(f1Score(yt, yp, 3, "macro")).toBeCloseTo(0.5833333333333334, 15)
    expect(precisionScore(yt, yp, 3, "weighted")).toBeCloseTo(0.6, 15)
    expect(f1Score(yt, yp, 3, "weighted")).toBeCloseTo(0.6, 15)
  })

  it("zero_division=0 for a class that is never predicted", () => {
    const t = [0, 1, 2, 0, 1, 2],
      p = [0, 1, 1, 0, 0, 1]
    const s = precisionRecallF1PerClass(t, p, 3)
    expect(s.precision.map((v) => +v.toFixed(12))).toEqual([0.666666666667, 0.333333333333, 0])
    expect(s.recall).toEqual([1, 0.5, 0])
    expect(s.f1.map((v) => +v.toFixed(12))).toEqual([0.8, 0.4, 0])
    expect(precisionScore(t, p, 3, "macro")).toBeCloseTo(0.3333333333333333, 15)
    expect(recallScore(t, p, 3, "macro")).toBeCloseTo(0.5, 15)
    expect(f1Score(t, p, 3, "macro")).toBeCloseTo(0.4000000000000001, 15)
    expect(f1Score(t, p, 3, "weighted")).toBeCloseTo(0.4000000000000001, 15)
  })

  it("macro averages only over labels present in y_true or y_pred (like scikit-learn)", () => {
    // nClasses = 4 but class 3 never occurs: same as the 3-class answer
    expect(f1Score(yt, yp, 4, "macro")).toBeCloseTo(0.5833333333333334, 15)
  })

  it("binary precision/recall/F1, ROC AUC with tied scores, log-loss", () => {
    const yb = [0, 0, 1, 1, 0, 1, 1, 0]
    const sb = [0.1, 0.4, 0.35, 0.8, 0.4, 0.8, 0.2, 0.1]
    const pred = sb.map((s) => (s > 0.3 ? 1 : 0))
    expect(precisionScore(yb, pred, 2)).toBeCloseTo(0.6, 15)
    expect(recallScore(yb, pred, 2)).toBeCloseTo(0.75, 15)
    expect(f1Score(yb, pred, 2)).toBeCloseTo(0.6666666666666665, 14)
    expect(rocAuc(yb, sb)).toBe(0.75)
    expect(
      logLoss(
        yb,
        sb.flatMap((s) => [1 - s, s]),
        2
      )
    ).toBeCloseTo(0.5422399273011039, 14)
  })

  it("multiclass log-loss clips a zero probability (sklearn: eps = float64 machine epsilon)", () => {
    expect(logLoss(yt, proba, 3)).toBeCloseTo(0.5947357330842933, 14)
  })

  it("ROC AUC of a perfect, a reversed and an all-tied score", () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4])).toBe(1)
    expect(rocAuc([0, 0, 1, 1], [0.4, 0.3, 0.2, 0.1])).toBe(0)
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])).toBe(0.5)
    expect(() => rocAuc([1, 1], [0.1, 0.2])).toThrow(LearnerInputError)
  })

  it("classificationMetrics names", () => {
    const m = classificationMetrics(yt, yp, proba, 3)
    expect(Object.keys(m).sort()).toEqual([
      "accuracy",
      "f1_macro",
      "f1_weighted",
      "log_loss",
      "precision",
      "precision_macro",
      "precision_weighted",
      "recall",
      "recall_macro",
      "recall_weighted"
    ])
    expect(m.precision).toBe(m.precision_weighted)
    expect(m.recall).toBe(m.recall_weighted)
    const b = classificationMetrics([0, 1, 1, 0], [0, 1, 0, 0], [0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.7, 0.3], 2)
    expect(b.roc_auc).toBe(1)
    expect(classificationMetrics([0, 1], [0, 1], undefined, 2).log_loss).toBeUndefined()
  })
})

describe("regression metrics (against scikit-learn 1.2.1)", () => {
  const t = [3, -0.5, 2, 7],
    p = [2.5, 0.0, 2, 8]
  it("mae, mse, rmse, r2", () => {
    expect(meanAbsoluteError(t, p)).toBe(0.5)
    expect(meanSquaredError(t, p)).toBe(0.375)
    expect(rootMeanSquaredError(t, p)).toBeCloseTo(0.6123724356957945, 15)
    expect(r2Score(t, p)).toBeCloseTo(0.9486081370449679, 15)
    expect(regressionMetrics(t, p)).toEqual({ mae: 0.5, mse: 0.375, rmse: Math.sqrt(0.375), r2: r2Score(t, p) })
  })

  it("R² of a constant target: 1 when exact, else 0 (force_finite)", () => {
    expect(r2Score([2, 2, 2], [2, 2, 2])).toBe(1)
    expect(r2Score([2, 2, 2], [2, 2, 3])).toBe(0)
  })

  it("rejects mismatched lengths", () => {
    expect(() => meanSquaredError([1, 2], [1])).toThrow(LearnerInputError)
  })
})
