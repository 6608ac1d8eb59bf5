import { Effect } from "effect"
import { registeredModelName } from "../domain/config.js"
import { RegistryError } from "../domain/errors.js"
import { Registry } from "../services/Registry.js"
import { Tracker } from "../services/Tracker.js"
import { deploymentManifest } from "./deployStage.js"
import { type Evaluation, evaluateStage } from "./evaluateStage.js"
import { promote } from "./promoteStage.js"
import { gateContext } from "./drift/gate.js"
import type { MetricComparison } from "../services/Approver.js"
import { loadRunContext } from "./runContext.js"
import type { PipelineContext } from "./stages.js"

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
      driftgateVersion: doc.anchors.driftgate_version ?? "unknown"
    },
    anchors: doc.anchors,
    config,
    prepared: doc.prepared,
    artifacts: { preprocessed: doc.preprocessed, trained: true, ...(doc.staged ? { staged: doc.staged } : {}) }
  }
  yield* evaluateStage(ctx)
  const evaluation = ctx.artifacts.evaluation as Evaluation
  // Metrics from stages that are not re-run here (model_analysis's robustness) come from the run's record.
  const recorded = (yield* tracker.getRun(runId)).metrics
  for (const m of recorded) {
    const [split, key] = m.key.split(".", 2)
    if (split === "val" && key?.startsWith("robustness_") && evaluation.metrics.val !== undefined)
      evaluation.metrics.val[key] = m.value
  }
  // The same gate context as in run: the latest drift check, drift rules, held-out drift comparison.
  const gate = yield* gateContext(ctx)
  const result = yield* promote({
    runId,
    config,
    anchors: doc.anchors,
    evaluation,
    driftSummary: gate.driftSummary,
    driftSeverity: gate.driftSeverity,
    driftEvaluation: (ctx.artifacts.driftEvaluation as ReadonlyArray<MetricComparison> | undefined) ?? null,
    ...(doc.prepared?.stagedFrom ? { extraTags: { drift_staging_id: doc.prepared.stagedFrom } } : {})
  }).pipe(
    Effect.tapError((e) =>
      deploymentManifest({
        runId,
        config,
        promotion:
          e._tag === "PromotionBlocked"
            ? "blocked"
            : e._tag === "ApprovalRejected"
              ? "rejected"
              : e._tag === "ApprovalCancelled"
                ? "cancelled"
                : "not_run"
      }).pipe(Effect.ignore)
    )
  )
  const manifest = yield* deploymentManifest({ runId, config, promotion: "approved" })
  return { version: result.version, manifest, evaluation }
})
