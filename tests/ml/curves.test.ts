import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { calibrationCurve, precisionRecallCurve, rocCurve } from "../../src/ml/curves.js"
import { confusionMatrix, precisionRecallF1PerClass, rocAuc } from "../../src/ml/metrics.js"
import { LearnerInputError } from "../../src/ml/matrix.js"

// Expected values: scikit-learn 1.2.1, by tests/ml/curves_reference.py (committed beside its output).
interface Binary {
  readonly name: string
  readonly y_true: ReadonlyArray<number>
  readonly score: ReadonlyArray<number>
  readonly roc: { fpr: number[]; tpr: number[]; thresholds: number[]; auc: number }
  readonly pr: { precision: number[]; recall: number[]; thresholds: number[]; average_precision: number }
  readonly calibration: { prob_true: number[]; prob_pred: number[]; count: number[] }
  readonly y_pred: ReadonlyArray<number>
  readonly confusion_matrix: number[][]
  readonly per_class: { precision: number[]; recall: number[]; f1: number[]; support: number[] }
}
interface Multiclass {
  readonly classes: number
  readonly y_true: ReadonlyArray<number>
  readonly y_pred: ReadonlyArray<number>
  readonly proba: ReadonlyArray<number>
  readonly confusion_matrix: number[][]
  readonly per_class: { precision: number[]; recall: number[]; f1: number[]; support: number[] }
  readonly calibration: { prob_true: number[]; prob_pred: number[] }
}
const curvesReference = JSON.parse(fs.readFileSync(path.join(__dirname, "curves_reference.json"), "utf8")) as {
  readonly binary: ReadonlyArray<Binary>
  readonly multiclass: Multiclass
}

const close = (actual: ReadonlyArray<number>, expected: ReadonlyArray<number>, digits = 12) => {
  expect(actual.length).toBe(expected.length)
  actual.forEach((v, i) => expect(v, `index ${i}`).toBeCloseTo(expected[i]!, digits))
}

describe("evaluation curves (against scikit-learn 1.2.1)", () => {
  for (const c of curvesReference.binary) {
    it(`${c.name}: roc_curve (drop_intermediate) and its area`, () => {
      const r = rocCurve(c.y_true, c.score)
      close(r.fpr, c.roc.fpr)
      close(r.tpr, c.roc.tpr)
      close(r.thresholds, c.roc.thresholds)
      expect(rocAuc(c.y_true, c.score)).toBeCloseTo(c.roc.auc, 12)
    })

    it(`${c.name}: precision_recall_curve and average_precision_score`, () => {
      const r = precisionRecallCurve(c.y_true, c.score)
      close(r.precision, c.pr.precision)
      close(r.recall, c.pr.recall)
      close(r.thresholds, c.pr.thresholds)
      expect(r.averagePrecision).toBeCloseTo(c.pr.average_precision, 12)
    })

    it(`${c.name}: calibration_curve (10 uniform bins; values on an edge go to the lower bin)`, () => {
      const r = calibrationCurve(c.y_true, c.score, 10)
      close(r.fractionPositive, c.calibration.prob_true)
      close(r.meanPredicted, c.calibration.prob_pred)
      expect(r.count).toEqual(c.calibration.count)
    })

    it(`${c.name}: confusion_matrix and precision_recall_fscore_support`, () => {
      expect(confusionMatrix(c.y_true, c.y_pred, 2)).toEqual(c.confusion_matrix)
      const s = precisionRecallF1PerClass(c.y_true, c.y_pred, 2)
      close(s.precision, c.per_class.precision, 14)
      close(s.recall, c.per_class.recall, 14)
      close(s.f1, c.per_class.f1, 14)
      expect(s.support).toEqual(c.per_class.support)
    })
  }

  it("multiclass: confusion matrix, per-class scores with a never-predicted class, top-label reliability", () => {
    const m = curvesReference.multiclass
    expect(confusionMatrix(m.y_true, m.y_pred, m.classes)).toEqual(m.confusion_matrix)
    const s = precisionRecallF1PerClass(m.y_true, m.y_pred, m.classes)
    close(s.precision, m.per_class.precision, 14)
    close(s.recall, m.per_class.recall, 14)
    close(s.f1, m.per_class.f1, 14)
    expect(s.support).toEqual(m.per_class.support)
    const correct = m.y_true.map((y, i) => (y === m.y_pred[i] ? 1 : 0))
    const confidence = m.y_pred.map((p, i) => m.proba[i * m.classes + p]!)
    const r = calibrationCurve(correct, confidence, 10)
    close(r.fractionPositive, m.calibration.prob_true)
    close(r.meanPredicted, m.calibration.prob_pred)
  })

  it("refuses what scikit-learn cannot draw: one class, labels other than 0/1, probabilities outside [0, 1]", () => {
    expect(() => rocCurve([1, 1, 1], [0.2, 0.5, 0.9])).toThrow(LearnerInputError)
    expect(() => precisionRecallCurve([0, 0], [0.2, 0.5])).toThrow(/no positive/)
    expect(() => rocCurve([0, 2], [0.2, 0.5])).toThrow(/0\/1/)
    expect(() => calibrationCurve([0, 1], [0.2, 1.5])).toThrow(/outside/)
    expect(() => calibrationCurve([0, 1], [0.2])).toThrow(LearnerInputError)
  })
})
