import { Effect } from "effect"
import type { SplitMetrics } from "../domain/comparison.js"
import type { ImageProperties } from "../domain/dataset.js"
import type { PipelineConfig } from "../domain/config.js"
import type { StagedImage } from "../domain/staging.js"
import type { Matrix } from "../ml/matrix.js"
import { classificationMetrics, regressionMetrics } from "../ml/metrics.js"
import type { ImageBatch } from "../services/ImageCodec.js"
import { type FittedModel, Trainer } from "../services/Trainer.js"
import { decodePipelineImages } from "./rawImages.js"

/**
 * The positive class of a two-class task as a class index, as scikit-learn picks it: the one
 * dataset.yaml declares (`positive_class`), else the second of the sorted labels (whatever order
 * `label_classes` lists them in). Undefined for any other number of classes.
 */
export const positiveClassIndex = (
  classes: ReadonlyArray<string> | null | undefined,
  declared?: string | undefined
): number | undefined => {
  if (classes === null || classes === undefined || classes.length !== 2) return undefined
  const label = declared ?? [...classes].sort()[1]!
  const i = classes.indexOf(label)
  return i < 0 ? undefined : i
}

/** Metrics of predictions against a target: the task's full set (rules may use any of them). */
export const scorePredictions = (
  task: string,
  y: Float64Array,
  predictions: Float64Array,
  proba: Float64Array | undefined,
  nClasses: number,
  /** Two classes: the positive class index (positiveClassIndex). */
  positive?: number | undefined
) =>
  task !== "regression"
    ? classificationMetrics(y, predictions, proba, nClasses, positive)
    : regressionMetrics(y, predictions)

export const round4 = (v: number) => Math.round(v * 1e4) / 1e4

export const roundAll = (m: SplitMetrics): SplitMetrics =>
  Object.fromEntries(
    Object.entries(m).map(([s, v]) => [s, Object.fromEntries(Object.entries(v).map(([k, x]) => [k, round4(x)]))])
  )

/** Rows `keep` of a row-major array with `width` values per row. */
export const pickRows = (a: Float64Array, keep: ReadonlyArray<number>, width: number): Float64Array => {
  const out = new Float64Array(keep.length * width)
  keep.forEach((i, k) => out.set(a.subarray(i * width, (i + 1) * width), k * width))
  return out
}

export const imageMatrix = (b: ImageBatch): Matrix => ({
  rows: b.shape[0],
  cols: b.shape[1] * b.shape[2] * b.shape[3],
  data: b.data as unknown as Float64Array
})

/** Decodes staged images and scores a model on them (held-out drift evaluation, staging baseline). */
export const scoreImages = (
  config: PipelineConfig,
  model: FittedModel,
  files: ReadonlyArray<StagedImage>,
  classes: ReadonlyArray<string>,
  props: ImageProperties
) =>
  Effect.gen(function* () {
    const trainer = yield* Trainer
    // the pipeline's own decoder: the ISP for DNGs (raw_dng), sharp for the others
    const images = yield* decodePipelineImages(
      config,
      files.map((f) => f.source),
      props
    )
    const p = yield* trainer.predict(model, imageMatrix(images))
    const index = new Map(classes.map((c, i) => [c, i]))
    const y = Float64Array.from(files, (f) => index.get(f.label) ?? NaN)
    return scorePredictions(
      "image_classification",
      y,
      p.predictions,
      p.proba,
      classes.length,
      positiveClassIndex(classes)
    )
  })
