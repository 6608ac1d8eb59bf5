/**
 * ISP sensitivity: model_analysis for raw (DNG) pipelines. For each ISP parameter within its declared
 * bounds, the validation raws are rendered again with only that parameter changed, scored, and the
 * accuracy drop against the pipeline's own rendering reported with a severity. The largest drop
 * becomes the metric isp_max_drop on val and each parameter's worst drop isp_<parameter>_drop, so
 * promotion rules can use them like the robustness metrics.
 */
import { Effect } from "effect"
import { UsageError } from "../domain/errors.js"
import {
  type IspBounds,
  type IspParams,
  type IspSensitivityParameter,
  IspSensitivityParameter as ParameterSchema,
  ispParamsOf
} from "../domain/isp.js"
import { accuracy } from "../ml/metrics.js"
import { Storage } from "../services/Storage.js"
import { Tracker } from "../services/Tracker.js"
import { Trainer } from "../services/Trainer.js"
import type { PipelineContext, PreparedData, Preprocessed } from "./pipelineTypes.js"
import { ispConfigOf, readRaws, renderBatch } from "./rawImages.js"
import { writeReport } from "./reports.js"
import { imageMatrix } from "./scoring.js"
import { artifactKeys } from "./workspace.js"
import { ImageSplitSchema, readWorkspaceJson } from "./workspaceJson.js"
import * as path from "node:path"

export type SweepValue = number | IspParams["demosaic"]

/** Evenly spaced values over [lo, hi] (`steps` of them; one when lo = hi). */
export const linspace = (lo: number, hi: number, steps: number): ReadonlyArray<number> =>
  lo === hi ? [lo] : Array.from({ length: steps }, (_, i) => lo + ((hi - lo) * i) / (steps - 1))

/** The values each parameter is rendered at. */
export const sweepOf = (b: IspBounds): ReadonlyArray<readonly [IspSensitivityParameter, ReadonlyArray<SweepValue>]> =>
  ParameterSchema.literals.map((p) => [p, p === "demosaic" ? b.demosaic : linspace(b[p][0], b[p][1], b.steps)] as const)

/** The pipeline's parameters with one of them set to `value`. */
export const withParameter = (base: IspParams, p: IspSensitivityParameter, value: SweepValue): IspParams => {
  const v = value as number
  switch (p) {
    case "wb_red_scale":
      return { ...base, white_balance: { ...base.white_balance, red_scale: v } }
    case "wb_blue_scale":
      return { ...base, white_balance: { ...base.white_balance, blue_scale: v } }
    case "gamma":
      return { ...base, gamma: { ...base.gamma, value: v } }
    case "denoise_sigma":
      // sigma 0 is "no denoising"; above it, a Gaussian of that sigma.
      return v <= 0
        ? { ...base, denoise: { ...base.denoise, method: "none" } }
        : { ...base, denoise: { ...base.denoise, method: "gaussian", sigma: Math.max(0.1, v) } }
    case "sharpen_amount":
      return { ...base, sharpen: { ...base.sharpen, amount: v } }
    case "demosaic":
      return { ...base, demosaic: value as IspParams["demosaic"] }
  }
}

export const ispSensitivityStage = Effect.fn("stage.isp_sensitivity")(function* (
  ctx: PipelineContext,
  prepared: PreparedData,
  pre: Preprocessed
) {
  const storage = yield* Storage
  const trainer = yield* Trainer
  const tracker = yield* Tracker
  if (prepared.splits.val.rows === 0)
    return yield* Effect.fail(
      new UsageError({
        message: "ISP sensitivity renders the validation raws again, and this split has none (set split.val above 0)"
      })
    )
  const image = pre.featureMap.image!
  const classes = pre.featureMap.classes ?? []
  const split = yield* readWorkspaceJson(prepared.splits.val.key, ImageSplitSchema, "image split list")
  const files = split.sources ?? split.paths.map((f) => path.join(prepared.rawFile, f))
  const raws = yield* readRaws(files)
  const index = new Map(classes.map((c, i) => [c, i]))
  const y = Float64Array.from(split.labels, (l) => index.get(l) ?? NaN)
  const model = yield* Effect.flatMap(storage.readText(artifactKeys(ctx.runId).model), trainer.decode)
  const props = { target_size: [image.height, image.width] as const, channels: image.channels as 1 | 3 }
  const score = (params: IspParams) =>
    Effect.gen(function* () {
      const batch = yield* renderBatch(raws, props, params, undefined, split.paths)
      const p = yield* trainer.predict(model, imageMatrix(batch))
      return accuracy(y, p.predictions)
    })
  const cfg = ispConfigOf(ctx.config)
  const base = ispParamsOf(cfg)
  const clean = yield* score(base)
  const severityOf = (drop: number) =>
    drop >= cfg.severity.high ? "high" : drop >= cfg.severity.medium ? "medium" : drop > 0 ? "low" : "none"
  const round = (v: number) => Math.round(v * 1e4) / 1e4
  const parameters: Array<{
    parameter: IspSensitivityParameter
    values: ReadonlyArray<{ value: SweepValue; accuracy: number; drop: number }>
    max_drop: number
    worst_value: SweepValue
    severity: string
  }> = []
  for (const [p, values] of sweepOf(cfg.bounds)) {
    const rows: Array<{ value: SweepValue; accuracy: number; drop: number }> = []
    for (const v of values) {
      const acc = yield* score(withParameter(base, p, v))
      rows.push({ value: typeof v === "number" ? round(v) : v, accuracy: round(acc), drop: round(clean - acc) })
    }
    const worst = rows.reduce((a, b) => (b.drop > a.drop ? b : a), rows[0]!)
    const maxDrop = Math.max(0, worst.drop)
    parameters.push({
      parameter: p,
      values: rows,
      max_drop: maxDrop,
      worst_value: worst.value,
      severity: severityOf(maxDrop)
    })
  }
  const overall = parameters.reduce((a, b) => (b.max_drop > a.max_drop ? b : a), parameters[0]!)
  const maxDrop = overall.max_drop
  yield* writeReport(storage, ctx.runId, "isp_sensitivity_report.json", {
    run_id: ctx.runId,
    split: "val",
    images: raws.length,
    isp: base,
    bounds: cfg.bounds,
    clean_accuracy: round(clean),
    thresholds: cfg.severity,
    max_drop: maxDrop,
    most_sensitive: maxDrop > 0 ? overall.parameter : null,
    parameters
  })
  const metrics: Record<string, number> = { isp_max_drop: maxDrop }
  for (const p of parameters) metrics[`isp_${p.parameter}_drop`] = p.max_drop
  const evaluation = ctx.evaluation
  if (evaluation?.metrics.val !== undefined) Object.assign(evaluation.metrics.val, metrics)
  yield* tracker.logMetrics(
    ctx.runId,
    Object.entries(metrics).map(([k, value]) => ({ key: `val.${k}`, value }))
  )
  return {
    clean_accuracy: round(clean),
    isp_max_drop: maxDrop,
    most_sensitive: maxDrop > 0 ? overall.parameter : null,
    high: parameters.filter((p) => p.severity === "high").map((p) => p.parameter)
  }
})
