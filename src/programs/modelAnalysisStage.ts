import { Effect } from "effect"
import { deriveSeed, rng } from "../domain/random.js"
import { UsageError } from "../domain/errors.js"
import { accuracy } from "../ml/metrics.js"
import type { Matrix } from "../ml/matrix.js"
import { ImageCodec } from "../services/ImageCodec.js"
import { Storage } from "../services/Storage.js"
import { Tracker } from "../services/Tracker.js"
import { Trainer } from "../services/Trainer.js"
import { DEFAULT_PERTURBATIONS } from "../vision/perturb.js"
import type { PipelineContext, PreparedData, Preprocessed } from "./pipelineTypes.js"
import { writeReport } from "./reports.js"
import { readSplit } from "./trainStage.js"
import { artifactKeys } from "./workspace.js"
import { ispSensitivityStage } from "./ispSensitivity.js"
import { isRawPipeline } from "./rawImages.js"

/** JPEG re-encoding quality per severity level (sharp/mozjpeg). */
const JPEG_LEVELS: ReadonlyArray<readonly [1 | 3 | 5, number]> = [
  [1, 80],
  [3, 40],
  [5, 10]
]

/**
 * model_analysis (image models): accuracy on the validation images under a fixed, seeded set of
 * perturbations (brightness, contrast, noise, blur, rotation, crop, flip, JPEG re-encoding), the
 * drop against clean accuracy with a severity each, into model_analysis_report.json. The largest
 * drop becomes the metric robustness_max_drop on val, so a promotion rule can use it.
 */
export const modelAnalysisStage = Effect.fn("stage.model_analysis")(function* (
  ctx: PipelineContext,
  prepared: PreparedData,
  pre: Preprocessed
) {
  // Raw pipelines: the analysis is ISP sensitivity (each ISP parameter within its bounds).
  if (isRawPipeline(ctx.config)) return yield* ispSensitivityStage(ctx, prepared, pre)
  const storage = yield* Storage
  const trainer = yield* Trainer
  const tracker = yield* Tracker
  const codec = yield* ImageCodec
  const image = pre.featureMap.image!
  const classes = pre.featureMap.classes
  if (prepared.splits.val.rows === 0) {
    return yield* Effect.fail(
      new UsageError({
        message: "model_analysis perturbs the validation images, and this split has none (set split.val above 0)"
      })
    )
  }
  const model = yield* Effect.flatMap(storage.readText(artifactKeys(ctx.runId).model), trainer.decode)
  const { x, y } = yield* readSplit(pre, "val", classes)
  const shape = [x.rows, image.height, image.width, image.channels] as const
  const clean = x.data as unknown as Float32Array
  const score = (data: Float32Array) =>
    Effect.map(
      trainer.predict(model, { rows: x.rows, cols: x.cols, data: data as unknown as Float64Array } as Matrix),
      (p) => accuracy(y, p.predictions)
    )
  const base = yield* score(clean)
  const cfg = ctx.config.model_analysis
  const wanted = cfg.perturbations === undefined ? undefined : new Set<string>(cfg.perturbations)
  const severityOf = (drop: number) =>
    drop >= cfg.severity.high ? "high" : drop >= cfg.severity.medium ? "medium" : drop > 0 ? "low" : "none"

  const results: Array<{
    name: string
    family: string
    level: number
    accuracy: number
    drop: number
    severity: string
  }> = []
  for (const [i, p] of DEFAULT_PERTURBATIONS.entries()) {
    if (wanted !== undefined && !wanted.has(p.family)) continue
    const perturbed = p.apply(clean, shape, rng(deriveSeed(ctx.config.random_seed, i)))
    const acc = yield* score(perturbed)
    results.push({
      name: p.name,
      family: p.family,
      level: p.severity,
      accuracy: acc,
      drop: base - acc,
      severity: severityOf(base - acc)
    })
  }
  if (wanted === undefined || wanted.has("jpeg")) {
    for (const [level, quality] of JPEG_LEVELS) {
      const re = yield* codec.jpegReencode({ data: clean, shape }, quality)
      const acc = yield* score(re.data)
      results.push({
        name: `jpeg_s${level}`,
        family: "jpeg",
        level,
        accuracy: acc,
        drop: base - acc,
        severity: severityOf(base - acc)
      })
    }
  }
  const worst = results.reduce((a, b) => (b.drop > a.drop ? b : a), results[0]!)
  const maxDrop = Math.max(0, worst?.drop ?? 0)
  const meanDrop = results.reduce((a, r) => a + r.drop, 0) / Math.max(1, results.length)
  const round = (v: number) => Math.round(v * 1e4) / 1e4
  yield* writeReport(storage, ctx.runId, "model_analysis_report.json", {
    run_id: ctx.runId,
    split: "val",
    images: x.rows,
    clean_accuracy: round(base),
    thresholds: cfg.severity,
    max_drop: round(maxDrop),
    mean_drop: round(meanDrop),
    worst: worst ? worst.name : null,
    perturbations: results.map((r) => ({ ...r, accuracy: round(r.accuracy), drop: round(r.drop) }))
  })
  const evaluation = ctx.evaluation
  if (evaluation?.metrics.val !== undefined) {
    evaluation.metrics.val.robustness_max_drop = maxDrop
    evaluation.metrics.val.robustness_mean_drop = meanDrop
  }
  yield* tracker.logMetrics(ctx.runId, [
    { key: "val.robustness_max_drop", value: maxDrop },
    { key: "val.robustness_mean_drop", value: meanDrop }
  ])
  return {
    clean_accuracy: round(base),
    max_drop: round(maxDrop),
    worst: worst?.name ?? null,
    high: results.filter((r) => r.severity === "high").map((r) => r.name)
  }
})
