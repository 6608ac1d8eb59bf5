import { Effect } from "effect"
import { type PipelineConfig, registeredModelName } from "../domain/config.js"
import { NoDeployedVersion } from "../domain/errors.js"
import { Registry } from "../services/Registry.js"
import { Storage } from "../services/Storage.js"
import { Trainer } from "../services/Trainer.js"
import { requireVerifiedFiles } from "./artifactIntegrity.js"
import { artifactKeys } from "./workspace.js"

/**
 * The version of a pipeline's registered model at its deployment stage, its files checked against
 * the digests recorded at registration; `purpose` ends the error sentence.
 */
export const deployedVersion = Effect.fn("registry.deployed")(function* (config: PipelineConfig, purpose: string) {
  const registry = yield* Registry
  const name = registeredModelName(config)
  const stage = config.deployment.allowed_stage
  const version = (yield* registry.getByStage(name, stage))[0]
  if (version === undefined) return yield* Effect.fail(new NoDeployedVersion({ model: name, stage, purpose }))
  yield* requireVerifiedFiles(version)
  return { name, version }
})

/** The deployed version with its decoded model. */
export const deployedModel = Effect.fn("registry.deployedModel")(function* (config: PipelineConfig, purpose: string) {
  const storage = yield* Storage
  const trainer = yield* Trainer
  const { name, version } = yield* deployedVersion(config, purpose)
  const model = yield* Effect.flatMap(storage.readText(artifactKeys(version.runId).model), trainer.decode)
  return { name, version, model }
})
