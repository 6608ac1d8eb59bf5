import { Effect } from "effect"
import type { PipelineStage } from "../domain/config.js"
import { UsageError } from "../domain/errors.js"
import { deploymentManifest, manifestPromotion } from "./deployStage.js"
import { evaluateStage } from "./evaluateStage.js"
import { modelAnalysisStage } from "./modelAnalysisStage.js"
import type { PipelineContext, StageImpl } from "./pipelineTypes.js"
import { preprocessStage } from "./preprocessStage.js"
import { promoteWithGate } from "./promoteStage.js"
import { trainStage } from "./trainStage.js"

export type { PipelineContext, StageError, StageImpl, StageRequirements } from "./pipelineTypes.js"

/** What an earlier stage produced, or the sentence saying which stage must run first. */
const need = <A>(value: A | undefined, stage: string, before: string) =>
  value === undefined
    ? Effect.fail(
        new UsageError({
          message: `stage ${stage} needs ${before} to run first in the same run (check stages: in the config)`
        })
      )
    : Effect.succeed(value)

/** Data preparation always runs first and a failure halts the run, so later stages always find it. */
const prepared = (ctx: PipelineContext, stage: string) => need(ctx.prepared, stage, "data preparation")

export const stageTable: Record<PipelineStage, StageImpl> = {
  preprocessing: (ctx) =>
    Effect.gen(function* () {
      const out = yield* preprocessStage(ctx, yield* prepared(ctx, "preprocessing"))
      ctx.preprocessed = out.preprocessed
      return out.summary
    }),
  training: (ctx) =>
    Effect.gen(function* () {
      const pre = yield* need(ctx.preprocessed, "training", "preprocessing")
      const out = yield* trainStage(ctx, yield* prepared(ctx, "training"), pre)
      ctx.trained = out.trained
      return out.summary
    }),
  evaluation: (ctx) =>
    Effect.gen(function* () {
      yield* need(ctx.trained, "evaluation", "training")
      const pre = yield* need(ctx.preprocessed, "evaluation", "preprocessing")
      const out = yield* evaluateStage(ctx, yield* prepared(ctx, "evaluation"), pre)
      ctx.evaluation = out.evaluation
      ctx.driftEvaluation = out.driftEvaluation
      return out.summary
    }),
  model_analysis: (ctx) =>
    ctx.config.task_type !== "image_classification"
      ? Effect.fail(new UsageError({ message: "stage model_analysis applies to image models only" }))
      : Effect.gen(function* () {
          yield* need(ctx.trained, "model_analysis", "training")
          const pre = yield* need(ctx.preprocessed, "model_analysis", "preprocessing")
          return yield* modelAnalysisStage(ctx, yield* prepared(ctx, "model_analysis"), pre)
        }),
  promotion: (ctx) =>
    Effect.gen(function* () {
      const evaluation = yield* need(ctx.evaluation, "promotion", "evaluation")
      const r = yield* promoteWithGate(ctx, evaluation)
      return { outcome: r.outcome, version: r.version.version, stage: r.version.stage, aliases: r.version.aliases }
    }),
  deployment: (ctx) =>
    Effect.gen(function* () {
      const m = yield* deploymentManifest({
        runId: ctx.runId,
        config: ctx.config,
        promotion: manifestPromotion(ctx.promotion)
      })
      return { readiness: m.readiness, version: m.version, artifact_exists: m.artifact_exists, warnings: m.warnings }
    })
}
