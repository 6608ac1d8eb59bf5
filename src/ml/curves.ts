import { LearnerInputError } from "./matrix.js"

/**
 * Evaluation curves with scikit-learn 1.2's definitions (sklearn.metrics.roc_curve,
 * precision_recall_curve, average_precision_score, sklearn.calibration.calibration_curve), for a
 * binary target given as 0/1 and the score of class 1.
 */

/** Cumulative false and true positives at each distinct score, highest first (sklearn's _binary_clf_curve). */
const binaryClfCurve = (yTrue: ArrayLike<number>, score: ArrayLike<number>, what: string) => {
  const n = yTrue.length
  if (n !== score.length) throw new LearnerInputError(`${what}: y_true has ${n} values, the scores ${score.length}`)
  if (n === 0) throw new LearnerInputError(`${what}: no values`)
  for (let i = 0; i < n; i++) {
    const v = yTrue[i]!
    if (v !== 0 && v !== 1) throw new LearnerInputError(`${what}: y_true must be 0/1, got ${v}`)
    if (!Number.isFinite(score[i]!)) throw new LearnerInputError(`${what}: score ${i} is not finite`)
  }
  // Stable descending order: equal scores stay grouped, and their order does not matter for the counts.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b]! - score[a]!)
  const fps: number[] = [],
    tps: number[] = [],
    thresholds: number[] = []
  let tp = 0
  for (let k = 0; k < n; k++) {
    const i = order[k]!
    tp += yTrue[i]!
    if (k === n - 1 || score[order[k + 1]!] !== score[i]) {
      tps.push(tp)
      fps.push(k + 1 - tp)
      thresholds.push(score[i]!)
    }
  }
  return { fps, tps, thresholds }
}

export interface RocCurve {
  readonly fpr: ReadonlyArray<number>
  readonly tpr: ReadonlyArray<number>
  /** thresholds[0] is thresholds[1] + 1, as scikit-learn 1.2 puts it (the curve starts at (0, 0)). */
  readonly thresholds: ReadonlyArray<number>
}

/** roc_curve(y_true, score, drop_intermediate=True). Needs both classes in y_true. */
export const rocCurve = (yTrue: ArrayLike<number>, score: ArrayLike<number>): RocCurve => {
  let { fps, tps, thresholds } = binaryClfCurve(yTrue, score, "roc_curve")
  const negatives = fps[fps.length - 1]!,
    positives = tps[tps.length - 1]!
  if (negatives === 0 || positives === 0)
    throw new LearnerInputError("roc_curve: y_true has a single class; the ROC curve is undefined")
  if (fps.length > 2) {
    // Keep the corners: drop points collinear with their neighbours (a zero second difference).
    const keep: number[] = [0]
    for (let i = 1; i < fps.length - 1; i++) {
      if (fps[i + 1]! - 2 * fps[i]! + fps[i - 1]! !== 0 || tps[i + 1]! - 2 * tps[i]! + tps[i - 1]! !== 0) keep.push(i)
    }
    keep.push(fps.length - 1)
    fps = keep.map((i) => fps[i]!)
    tps = keep.map((i) => tps[i]!)
    thresholds = keep.map((i) => thresholds[i]!)
  }
  return {
    fpr: [0, ...fps.map((f) => f / negatives)],
    tpr: [0, ...tps.map((t) => t / positives)],
    thresholds: [thresholds[0]! + 1, ...thresholds]
  }
}

export interface PrecisionRecallCurve {
  /** One more value than thresholds: the last point is (recall 0, precision 1). */
  readonly precision: ReadonlyArray<number>
  readonly recall: ReadonlyArray<number>
  /** Increasing. */
  readonly thresholds: ReadonlyArray<number>
  /** average_precision_score: Σ (Rₙ − Rₙ₋₁) Pₙ. */
  readonly averagePrecision: number
}

/** precision_recall_curve(y_true, score) and average_precision_score. Needs a positive in y_true. */
export const precisionRecallCurve = (yTrue: ArrayLike<number>, score: ArrayLike<number>): PrecisionRecallCurve => {
  const { fps, tps, thresholds } = binaryClfCurve(yTrue, score, "precision_recall_curve")
  const positives = tps[tps.length - 1]!
  if (positives === 0)
    throw new LearnerInputError("precision_recall_curve: y_true has no positive; recall is undefined")
  const m = tps.length
  const precision: number[] = [],
    recall: number[] = [],
    th: number[] = []
  for (let i = m - 1; i >= 0; i--) {
    const predicted = tps[i]! + fps[i]!
    precision.push(predicted === 0 ? 0 : tps[i]! / predicted)
    recall.push(tps[i]! / positives)
    th.push(thresholds[i]!)
  }
  precision.push(1)
  recall.push(0)
  let ap = 0
  for (let i = 0; i < m; i++) ap -= (recall[i + 1]! - recall[i]!) * precision[i]!
  return { precision, recall, thresholds: th, averagePrecision: ap }
}

export interface CalibrationCurve {
  /** Per non-empty bin: the fraction of positives (sklearn's prob_true). */
  readonly fractionPositive: ReadonlyArray<number>
  /** Per non-empty bin: the mean predicted probability (sklearn's prob_pred). */
  readonly meanPredicted: ReadonlyArray<number>
  /** Per non-empty bin: how many rows fell in it. */
  readonly count: ReadonlyArray<number>
  /** Per non-empty bin: its [lower, upper] edges. */
  readonly bins: ReadonlyArray<readonly [number, number]>
}

/**
 * calibration_curve(y_true, prob, n_bins, strategy="uniform"): nBins equal-width bins on [0, 1];
 * a probability equal to an inner edge goes to the lower bin (numpy.searchsorted, side="left").
 * Empty bins are left out, as scikit-learn does.
 */
export const calibrationCurve = (yTrue: ArrayLike<number>, prob: ArrayLike<number>, nBins = 10): CalibrationCurve => {
  const n = yTrue.length
  if (n !== prob.length) throw new LearnerInputError(`calibration_curve: ${n} labels, ${prob.length} probabilities`)
  if (n === 0) throw new LearnerInputError("calibration_curve: no values")
  if (!Number.isInteger(nBins) || nBins < 1) throw new LearnerInputError(`calibration_curve: n_bins ${nBins} < 1`)
  // numpy.linspace(0, 1, nBins + 1): i × step, the last edge exactly 1.
  const step = 1 / nBins
  const edges = Array.from({ length: nBins + 1 }, (_, i) => (i === nBins ? 1 : i * step))
  const sums = new Float64Array(nBins),
    trues = new Float64Array(nBins),
    totals = new Float64Array(nBins)
  for (let i = 0; i < n; i++) {
    const p = prob[i]!,
      y = yTrue[i]!
    if (!(p >= 0 && p <= 1)) throw new LearnerInputError(`calibration_curve: probability ${p} is outside [0, 1]`)
    if (y !== 0 && y !== 1) throw new LearnerInputError(`calibration_curve: y_true must be 0/1, got ${y}`)
    // Number of inner edges strictly below p.
    let b = 0
    while (b < nBins - 1 && edges[b + 1]! < p) b++
    sums[b] += p
    trues[b] += y
    totals[b] += 1
  }
  const out = {
    fractionPositive: [] as number[],
    meanPredicted: [] as number[],
    count: [] as number[],
    bins: [] as [number, number][]
  }
  for (let b = 0; b < nBins; b++) {
    if (totals[b] === 0) continue
    out.fractionPositive.push(trues[b]! / totals[b]!)
    out.meanPredicted.push(sums[b]! / totals[b]!)
    out.count.push(totals[b]!)
    out.bins.push([edges[b]!, edges[b + 1]!])
  }
  return out
}
