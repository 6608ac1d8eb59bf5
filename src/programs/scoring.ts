import { Effect, Option, Schema } from "effect"
import type { SplitMetrics } from "../domain/comparison.js"
import type { ImageProperties } from "../domain/dataset.js"
import type { PipelineConfig } from "../domain/config.js"
import { ImageTransformSchema } from "../domain/featureMap.js"
import type { IspParams } from "../domain/isp.js"
import type { StagedImage } from "../domain/staging.js"
import type { Matrix } from "../ml/matrix.js"
import { classificationMetrics, regressionMetrics } from "../ml/metrics.js"
import type { ImageBatch } from "../services/ImageCodec.js"
import { Storage } from "../services/Storage.js"
import { type FittedModel, Trainer } from "../services/Trainer.js"
import { decodePipelineImages, decodeRawFiles, isRawPipeline } from "./rawImages.js"
import { artifactKeys } from "./workspace.js"

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
/**
 * The ISP a raw (DNG) model was trained with, from its transform.json: a model is scored on the pixels
 * it learned from, as serving renders them, not on the current config's rendering (which "adjust ISP"
 * may have changed since). None for models without one.
 */
export const trainedIsp = (runId: string) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const text = yield* storage.readText(artifactKeys(runId).transform)
    const t = Schema.decodeUnknownOption(Schema.parseJson(ImageTransformSchema))(text)
    return Option.isSome(t) && t.value.isp !== undefined ? Option.some(t.value.isp) : Option.none<IspParams>()
  })

/** A model on labelled images (staged drift files): `runId` names the run that trained it (its ISP). */
export const scoreImages = (
  config: PipelineConfig,
  runId: string,
  model: FittedModel,
  files: ReadonlyArray<StagedImage>,
  classes: ReadonlyArray<string>,
  props: ImageProperties
) =>
  Effect.gen(function* () {
    const trainer = yield* Trainer
    const sources = files.map((f) => f.source)
    // the pipeline's own decoder (sharp, or the ISP for raw_dng), with the model's own ISP parameters
    const isp = isRawPipeline(config) ? yield* trainedIsp(runId) : Option.none<IspParams>()
    const images = Option.isSome(isp)
      ? yield* decodeRawFiles(sources, props, isp.value)
      : yield* decodePipelineImages(config, sources, props)
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
