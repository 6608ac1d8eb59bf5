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
  const fps: number[] = [],
    tps: number[] = [],
    thresholds: number[] = []
  scoreGroups(yTrue, score, (threshold, tp, fp) => {
    tps.push(tp)
    fps.push(fp)
    thresholds.push(threshold)
  })
  return { fps, tps, thresholds }
}

/**
 * Walks the distinct scores from the highest down, calling `group(score, tp, fp)` with the positives and
 * negatives scoring at least that much. The scores of each class are sorted apart with the typed-array sort
 * and merged (an index sort with a comparator took about a second on 200k rows); only counts leave a
 * group, so the order of equal scores does not matter. Scores must be finite, labels 0/1.
 */
export const scoreGroups = (
  yTrue: ArrayLike<number>,
  score: ArrayLike<number>,
  group: (score: number, tp: number, fp: number) => void
): void => {
  const n = yTrue.length
  let np = 0
  for (let i = 0; i < n; i++) if (yTrue[i] === 1) np++
  const pos = new Float64Array(np)
  const neg = new Float64Array(n - np)
  for (let i = 0, a = 0, b = 0; i < n; i++) {
    const v = score[i]!
    // NaN has no place in a ranking (and would never leave its group below)
    if (v !== v) throw new LearnerInputError(`roc/precision-recall: score ${i} is NaN`)
    // +0 for -0: the two are one score, as the comparator saw them
    if (yTrue[i] === 1) pos[a++] = score[i]! + 0
    else neg[b++] = score[i]! + 0
  }
  pos.sort()
  neg.sort()
  let p = np - 1,
    q = n - np - 1
  while (p >= 0 || q >= 0) {
    const t = q < 0 || (p >= 0 && pos[p]! >= neg[q]!) ? pos[p]! : neg[q]!
    while (p >= 0 && pos[p] === t) p--
    while (q >= 0 && neg[q] === t) q--
    group(t, np - 1 - p, n - np - 1 - q)
  }
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
  // by loops: a spread of a data-sized array goes through the iterator protocol (slow) and is what issue #10 bans
  const m = fps.length
  const fpr = new Array<number>(m + 1),
    tpr = new Array<number>(m + 1),
    th = new Array<number>(m + 1)
  fpr[0] = 0
  tpr[0] = 0
  th[0] = thresholds[0]! + 1
  for (let i = 0; i < m; i++) {
    fpr[i + 1] = fps[i]! / negatives
    tpr[i + 1] = tps[i]! / positives
    th[i + 1] = thresholds[i]!
  }
  return { fpr, tpr, thresholds: th }
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
