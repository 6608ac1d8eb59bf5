import type { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import type { PipelineConfig, PipelineStage } from "../domain/config.js"
import type { DriftgateError } from "../domain/describe.js"
import { UsageError } from "../domain/errors.js"
import type { Approver } from "../services/Approver.js"
import type { Prompt } from "../services/Prompt.js"
import type { Registry } from "../services/Registry.js"
import type { Storage } from "../services/Storage.js"
import type { Tracker } from "../services/Tracker.js"
import type { Trainer } from "../services/Trainer.js"
import type { DriftDetector } from "../services/DriftDetector.js"
import type { ImageCodec } from "../services/ImageCodec.js"
import { deploymentManifest } from "./deployStage.js"
import { type Evaluation, evaluateStage } from "./evaluateStage.js"
import type { PreparedData } from "./prepareData.js"
import { preprocessStage } from "./preprocessStage.js"
import { promote } from "./promoteStage.js"
import type { RunInput } from "./runPipeline.js"
import { trainStage } from "./trainStage.js"
import { modelAnalysisStage } from "./modelAnalysisStage.js"
import { gateContext } from "./drift/gate.js"
import type { MetricComparison } from "../services/Approver.js"

export type StageError = DriftgateError

/** What the stages of one run share: ids, anchors, and the keys of what earlier stages wrote. */
export interface PipelineContext {
  readonly runId: string
  readonly executionId: string
  readonly input: RunInput
  readonly anchors: Record<string, string>
  readonly config: PipelineConfig
  prepared: PreparedData | undefined
  artifacts: Record<string, unknown>
}

/** The services a stage may ask for (all provided by the live and test bundles). */
export type StageRequirements =
  Storage | Tracker | Prompt | Approver | Registry | Trainer | DriftDetector | ImageCodec | FileSystem.FileSystem

export type StageImpl = (
  ctx: PipelineContext
) => Effect.Effect<Readonly<Record<string, unknown>> | undefined, StageError, StageRequirements>

const needs = (ctx: PipelineContext, key: string, stage: string, before: string) =>
  ctx.artifacts[key] === undefined
    ? Effect.fail(
        new UsageError({
          message: `stage ${stage} needs ${before} to run first in the same run (check stages: in the config)`
        })
      )
    : Effect.void

export const stageTable: Record<PipelineStage, StageImpl> = {
  preprocessing: (ctx) => preprocessStage(ctx),
  training: (ctx) => Effect.zipRight(needs(ctx, "preprocessed", "training", "preprocessing"), trainStage(ctx)),
  evaluation: (ctx) => Effect.zipRight(needs(ctx, "trained", "evaluation", "training"), evaluateStage(ctx)),
  model_analysis: (ctx) =>
    ctx.config.task_type !== "image_classification"
      ? Effect.fail(new UsageError({ message: "stage model_analysis applies to image models only" }))
      : Effect.zipRight(needs(ctx, "trained", "model_analysis", "training"), modelAnalysisStage(ctx)),
  promotion: (ctx) =>
    Effect.zipRight(
      needs(ctx, "evaluation", "promotion", "evaluation"),
      Effect.gen(function* () {
        ctx.artifacts.promotion = "pending"
        const gate = yield* gateContext(ctx)
        const r = yield* promote({
          runId: ctx.runId,
          config: ctx.config,
          anchors: ctx.anchors,
          evaluation: ctx.artifacts.evaluation as Evaluation,
          driftEvaluation: (ctx.artifacts.driftEvaluation as ReadonlyArray<MetricComparison> | undefined) ?? null,
          driftSummary: gate.driftSummary,
          driftSeverity: gate.driftSeverity,
          ...(ctx.prepared?.stagedFrom ? { extraTags: { drift_staging_id: ctx.prepared.stagedFrom } } : {})
        }).pipe(
          Effect.tapError((e) =>
            Effect.sync(() => {
              ctx.artifacts.promotion =
                e._tag === "PromotionBlocked"
                  ? "blocked"
                  : e._tag === "ApprovalRejected"
                    ? "rejected"
                    : e._tag === "ApprovalCancelled"
                      ? "cancelled"
                      : "failed"
            })
          )
        )
        ctx.artifacts.promotion = "approved"
        return { outcome: r.outcome, version: r.version.version, stage: r.version.stage, aliases: r.version.aliases }
      })
    ),
  deployment: (ctx) =>
    Effect.gen(function* () {
      const p = ctx.artifacts.promotion
      const promotion = p === "approved" || p === "blocked" || p === "rejected" || p === "cancelled" ? p : "not_run"
      const m = yield* deploymentManifest({ runId: ctx.runId, config: ctx.config, promotion })
      return { readiness: m.readiness, version: m.version, artifact_exists: m.artifact_exists, warnings: m.warnings }
    })
}
