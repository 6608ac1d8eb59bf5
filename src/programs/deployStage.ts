import { Effect } from "effect"
import { type PipelineConfig, registeredModelName } from "../domain/config.js"
import { Registry } from "../services/Registry.js"
import { Storage } from "../services/Storage.js"
import type { PromotionOutcome, PromotionState } from "./pipelineTypes.js"
import { writeReport } from "./reports.js"
import { artifactKeys } from "./workspace.js"

export type Readiness = "ready" | "no_production_model" | "promotion_not_approved"

/** What the manifest records about promotion: a decision, or not_run (not reached, or failed otherwise). */
export type ManifestPromotion = PromotionOutcome | "not_run"

export const manifestPromotion = (state: PromotionState): ManifestPromotion =>
  state === "approved" || state === "blocked" || state === "rejected" || state === "cancelled" ? state : "not_run"

/**
 * deployment_manifest.json: what `serve` would load for this registered model, whether its artifact
 * exists, and why not when it is not ready. Manifest only: it starts nothing.
 */
export const deploymentManifest = Effect.fn("stage.deployment")(function* (args: {
  readonly runId: string
  readonly config: PipelineConfig
  readonly promotion: ManifestPromotion
}) {
  const registry = yield* Registry
  const storage = yield* Storage
  const name = registeredModelName(args.config)
  const stage = args.config.deployment.allowed_stage
  const current = yield* registry.getByStage(name, stage)
  const served = current[0]
  const warnings: string[] = []
  let readiness: Readiness
  let artifactExists = false
  if (served === undefined) {
    readiness =
      args.promotion === "approved" || args.promotion === "not_run" ? "no_production_model" : "promotion_not_approved"
  } else {
    artifactExists = yield* storage.exists(artifactKeys(served.runId).model)
    readiness = artifactExists ? "ready" : "no_production_model"
    if (!artifactExists)
      warnings.push(`the registry points at ${served.artifactPath} but its model.json is missing from this workspace`)
    if (served.runId !== args.runId) {
      warnings.push(
        args.promotion === "approved"
          ? `this run was approved, yet ${stage} holds version ${served.version} from run ${served.runId}`
          : `this run's candidate was not promoted (${args.promotion}); ${stage} remains version ${served.version}`
      )
    }
  }
  const manifest = {
    run_id: args.runId,
    registered_model: name,
    stage,
    version: served?.version ?? null,
    model_uri: served ? `models:/${name}/${served.version}` : null,
    served_run_id: served?.runId ?? null,
    aliases: served?.aliases ?? [],
    artifact_path: served ? storage.locate(served.artifactPath) : null,
    artifact_exists: artifactExists,
    readiness,
    promotion_outcome: args.promotion,
    warnings
  }
  yield* writeReport(storage, args.runId, "deployment_manifest.json", manifest)
  return manifest
})
