import { Effect } from "effect"
import { registeredModelName } from "../domain/config.js"
import { RegistryError } from "../domain/errors.js"
import { Registry } from "../services/Registry.js"
import { Tracker } from "../services/Tracker.js"
import { deploymentManifest, manifestPromotion } from "./deployStage.js"
import { evaluateStage } from "./evaluateStage.js"
import type { PipelineContext } from "./pipelineTypes.js"
import { promoteWithGate } from "./promoteStage.js"
import { loadRunContext } from "./runContext.js"

/**
 * `driftgate promote --run ID`: takes a run that was trained and evaluated earlier (for example in
 * CI with the promotion stage left out), re-evaluates it against the *current* Production, then
 * applies the same rules and approval gate as `run`, and refreshes the deployment manifest.
 */
export const promoteRun = Effect.fn("program.promoteRun")(function* (runId: string) {
  const registry = yield* Registry
  const tracker = yield* Tracker
  const { doc, config } = yield* loadRunContext(runId)
  const name = registeredModelName(config)
  const existing = (yield* registry.listVersions(name)).find((v) => v.runId === runId)
  if (existing !== undefined) {
    return yield* Effect.fail(
      new RegistryError({
        model: name,
        message: `run ${runId} is already registered as version ${existing.version} (${existing.stage})`
      })
    )
  }
  const ctx: PipelineContext = {
    runId,
    executionId: doc.execution_id,
    input: {
      loaded: { config, file: doc.config_file, dir: doc.config_dir, hash: doc.config_hash },
      codeRevision: doc.anchors.code_revision ?? "unknown",
      driftgateVersion: doc.anchors.driftgate_version ?? "unknown",
      fineTune: doc.fine_tune
    },
    anchors: { ...doc.anchors },
    config,
    fineTune: doc.fine_tune,
    prepared: doc.prepared,
    preprocessed: doc.preprocessed,
    trained: undefined,
    evaluation: undefined,
    driftEvaluation: undefined,
    promotion: "not_run"
  }
  const evaluated = yield* evaluateStage(ctx, doc.prepared, doc.preprocessed)
  const evaluation = evaluated.evaluation
  ctx.evaluation = evaluation
  ctx.driftEvaluation = evaluated.driftEvaluation
  // Metrics from stages that are not re-run here (model_analysis's robustness) come from the run's record.
  const recorded = (yield* tracker.getRun(runId)).metrics
  for (const m of recorded) {
    const [split, key] = m.key.split(".", 2)
    if (split === "val" && key?.startsWith("robustness_") && evaluation.metrics.val !== undefined)
      evaluation.metrics.val[key] = m.value
  }
  const result = yield* promoteWithGate(ctx, evaluation).pipe(
    Effect.tapError(() =>
      deploymentManifest({ runId, config, promotion: manifestPromotion(ctx.promotion) }).pipe(Effect.ignore)
    )
  )
  const manifest = yield* deploymentManifest({ runId, config, promotion: "approved" })
  return { version: result.version, manifest, evaluation }
})
