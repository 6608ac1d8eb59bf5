import { calibrationCurve, precisionRecallCurve, rocCurve } from "../../ml/curves.js"
import { confusionMatrix, precisionRecallF1PerClass, rocAuc } from "../../ml/metrics.js"

/** At most this many points per curve or scatter in the report (evenly spaced, first and last kept). */
export const MAX_PLOT_POINTS = 500
export const CALIBRATION_BINS = 10

export interface PerClassRow {
  readonly label: string
  readonly precision: number
  readonly recall: number
  readonly f1: number
  readonly support: number
}

export interface ConfusionMatrix {
  /** Row i is the true label labels[i], column j the predicted label labels[j]. */
  readonly labels: ReadonlyArray<string>
  readonly counts: ReadonlyArray<ReadonlyArray<number>>
}

export interface Curves {
  /** Binary tasks only: the class whose score the ROC and precision–recall curves rank by. */
  readonly positive_label?: string
  readonly roc?: {
    readonly fpr: ReadonlyArray<number>
    readonly tpr: ReadonlyArray<number>
    readonly thresholds: ReadonlyArray<number>
    readonly auc: number
    /** Points on the curve before thinning to MAX_PLOT_POINTS. */
    readonly points: number
  }
  readonly precision_recall?: {
    readonly precision: ReadonlyArray<number>
    readonly recall: ReadonlyArray<number>
    readonly thresholds: ReadonlyArray<number>
    readonly average_precision: number
    /** The share of positives: the precision of a classifier that guesses. */
    readonly prevalence: number
    readonly points: number
  }
  /**
   * Reliability bins: `positive_class` (binary: predicted probability of the positive class against
   * the share of positives) or `top_label` (more classes: the probability of the predicted class
   * against the share predicted correctly).
   */
  readonly calibration?: {
    readonly kind: "positive_class" | "top_label"
    readonly bins: ReadonlyArray<{
      readonly lower: number
      readonly upper: number
      readonly mean_predicted: number
      readonly fraction_positive: number
      readonly count: number
    }>
  }
}

export interface RegressionPoints {
  readonly rows: number
  /** Row indices of the split (evenly spaced when it has more than MAX_PLOT_POINTS rows). */
  readonly shown: number
  readonly actual: ReadonlyArray<number>
  readonly predicted: ReadonlyArray<number>
  /** actual − predicted. */
  readonly residual: ReadonlyArray<number>
}

export interface SplitDiagnostics {
  readonly per_class?: ReadonlyArray<PerClassRow>
  readonly confusion_matrix?: ConfusionMatrix
  readonly curves?: Curves
  readonly regression?: RegressionPoints
}

/** Indices 0..n-1 thinned to at most `max` evenly spaced ones, keeping the first and the last. */
export const thinIndices = (n: number, max = MAX_PLOT_POINTS): ReadonlyArray<number> => {
  if (n <= max) return Array.from({ length: n }, (_, i) => i)
  return Array.from({ length: max }, (_, k) => Math.round((k * (n - 1)) / (max - 1)))
}

const pick = <A>(a: ArrayLike<A>, idx: ReadonlyArray<number>): A[] => idx.map((i) => a[i]!)

/** A Float64Array of f(0..n-1) by a plain loop (Float64Array.from with a map function goes through the iterator protocol). */
const fill = (n: number, f: (i: number) => number): Float64Array => {
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = f(i)
  return out
}

/**
 * Per-class scores, confusion matrix and curves of a classifier on one split, or the points of
 * the predicted-vs-actual and residual plots of a regressor. Pure: the same predictions give the
 * same figures as scikit-learn (tests/ml/curves_reference.py).
 */
export const splitDiagnostics = (args: {
  readonly task: string
  readonly y: ArrayLike<number>
  readonly predictions: ArrayLike<number>
  /** rows × classes, when the model gives probabilities. */
  readonly proba: ArrayLike<number> | undefined
  readonly classes: ReadonlyArray<string> | null | undefined
  /** Two classes: the positive class index. */
  readonly positive: number | undefined
}): SplitDiagnostics => {
  const { y, predictions, proba } = args
  const n = y.length
  if (args.task === "regression") {
    const idx = thinIndices(n)
    // only the points shown are copied out of the split's columns
    const actual = pick(y, idx)
    const predicted = pick(predictions, idx)
    return {
      regression: { rows: n, shown: idx.length, actual, predicted, residual: actual.map((a, i) => a - predicted[i]!) }
    }
  }
  const labels = args.classes ?? []
  const k = labels.length
  const counts = confusionMatrix(y, predictions, k)
  const s = precisionRecallF1PerClass(y, predictions, k)
  const per_class = labels.map((label, c) => ({
    label,
    precision: s.precision[c]!,
    recall: s.recall[c]!,
    f1: s.f1[c]!,
    support: s.support[c]!
  }))
  const out: { per_class: PerClassRow[]; confusion_matrix: ConfusionMatrix; curves?: Curves } = {
    per_class,
    confusion_matrix: { labels, counts }
  }
  if (proba === undefined || proba.length !== n * k || k < 2) return out
  // a diverged model (NaN probabilities) has no ranking to draw: its metrics say NaN and the gate decides
  for (let i = 0; i < proba.length; i++) if (proba[i] !== proba[i]) return out
  if (k === 2) {
    const pos = args.positive ?? 1
    const yb = fill(n, (i) => (y[i] === pos ? 1 : 0))
    const score = fill(n, (i) => proba[i * 2 + pos]!)
    let positives = 0
    for (let i = 0; i < n; i++) positives += yb[i]!
    const curves: { -readonly [K in keyof Curves]: Curves[K] } = { positive_label: labels[pos]! }
    if (positives > 0 && positives < n) {
      const roc = rocCurve(yb, score)
      const ri = thinIndices(roc.fpr.length)
      curves.roc = {
        fpr: pick(roc.fpr, ri),
        tpr: pick(roc.tpr, ri),
        thresholds: pick(roc.thresholds, ri),
        auc: rocAuc(yb, score),
        points: roc.fpr.length
      }
      const pr = precisionRecallCurve(yb, score)
      const pi = thinIndices(pr.precision.length)
      curves.precision_recall = {
        precision: pick(pr.precision, pi),
        recall: pick(pr.recall, pi),
        // One threshold fewer than points: the last point (recall 0, precision 1) has none.
        thresholds: pick(
          pr.thresholds,
          pi.filter((i) => i < pr.thresholds.length)
        ),
        average_precision: pr.averagePrecision,
        prevalence: positives / n,
        points: pr.precision.length
      }
    }
    curves.calibration = calibration("positive_class", yb, score)
    return { ...out, curves }
  }
  const correct = fill(n, (i) => (y[i] === predictions[i] ? 1 : 0))
  const confidence = fill(n, (i) => proba[i * k + predictions[i]!]!)
  return { ...out, curves: { calibration: calibration("top_label", correct, confidence) } }
}

const calibration = (kind: "positive_class" | "top_label", y: Float64Array, p: Float64Array) => {
  // Probabilities a hair outside [0, 1] from floating-point sums are clamped, not refused.
  const c = calibrationCurve(
    y,
    p.map((v) => Math.min(1, Math.max(0, v))),
    CALIBRATION_BINS
  )
  return {
    kind,
    bins: c.count.map((count, b) => ({
      lower: c.bins[b]![0],
      upper: c.bins[b]![1],
      mean_predicted: c.meanPredicted[b]!,
      fraction_positive: c.fractionPositive[b]!,
      count
    }))
  }
}
