import { Effect, Schema } from "effect"
import type { DatasetSpec } from "../domain/dataset.js"
import { TrainingError } from "../domain/errors.js"
import { type FeatureMap, FeatureMapSchema } from "../domain/featureMap.js"
import type { ModelVersion } from "../domain/registry.js"
import type { Frame } from "../domain/table.js"
import { type ColumnTransformerState, transformFrame } from "../ml/preprocess.js"
import { Storage } from "../services/Storage.js"
import { type FittedModel, Trainer } from "../services/Trainer.js"
import { requireVerifiedFiles } from "./artifactIntegrity.js"
import { TransformSchema } from "./pipelineTypes.js"
import { artifactKeys } from "./workspace.js"
import { readWorkspaceJson } from "./workspaceJson.js"

/** Everything needed to use a trained model on raw rows: the model, its fitted transform, its contract. */
export interface ModelBundle {
  readonly runId: string
  readonly model: FittedModel
  readonly transform: ColumnTransformerState
  readonly featureMap: FeatureMap
  readonly metadata: Readonly<Record<string, unknown>>
}

const MetadataSchema = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * A model's own files keep the error a model load has always had (serve names the model and the
 * file with it): TrainingError "cannot parse <file>: …", with the decode failure as its cause.
 */
const readArtifactJson = <A, I>(key: string, schema: Schema.Schema<A, I>, what: string) =>
  readWorkspaceJson(key, schema, what).pipe(
    Effect.catchTag("WorkspaceFileInvalid", (e) => {
      const name = key.slice(key.lastIndexOf("/") + 1)
      return Effect.fail(new TrainingError({ model: name, message: `cannot parse ${name}: ${e.message}`, cause: e }))
    })
  )

/** Loads artifacts/<run-id>/model/ (model.json, transform.json, feature_map.json, metadata.json). */
export const loadBundle = Effect.fn("model.load")(function* (runId: string) {
  const storage = yield* Storage
  const trainer = yield* Trainer
  const keys = artifactKeys(runId)
  const model = yield* Effect.flatMap(storage.readText(keys.model), trainer.decode)
  const fitted = yield* readArtifactJson(keys.transform, TransformSchema, "fitted transform")
  // An image model's transform (decode and scale) is never applied through the bundle: serving and
  // evaluation of images go through ImageCodec, so the field keeps the tabular type its users need.
  const transform = fitted as ColumnTransformerState
  const featureMap = yield* readArtifactJson(keys.featureMap, FeatureMapSchema, "feature map")
  const metadata = yield* readArtifactJson(keys.metadata, MetadataSchema, "model metadata file")
  return { runId, model, transform, featureMap, metadata } satisfies ModelBundle
})

/**
 * A registered version's bundle, after checking every file against the SHA-256 recorded when it was
 * registered: a modified or missing file is refused (ArtifactMismatch) before anything is decoded.
 */
export const loadVersionBundle = Effect.fn("model.loadVersion")(function* (version: ModelVersion) {
  yield* requireVerifiedFiles(version)
  return yield* loadBundle(version.runId)
})

/** The input columns of a bundle as a DatasetSpec-like schema, to read raw CSVs for it. */
export const specOfBundle = (b: ModelBundle): DatasetSpec => ({
  name: b.featureMap.dataset,
  task_type: b.featureMap.task_type,
  features: b.featureMap.input_features.map((f) => f.name),
  target: b.featureMap.target,
  schema: Object.fromEntries([
    ...b.featureMap.input_features.map((f) => [f.name, f.dtype] as const),
    [b.featureMap.target, b.featureMap.task_type === "classification" ? "string" : "float"] as const
  ]),
  constraints: { min_rows: 1 }
})

/** Applies the bundle's own fitted transform to raw feature columns, then predicts. */
export const predictFrame = Effect.fn("model.predictFrame")(function* (bundle: ModelBundle, frame: Frame) {
  const trainer = yield* Trainer
  const t = yield* Effect.try({
    try: () => transformFrame(bundle.transform, frame),
    catch: (e) =>
      new TrainingError({ model: bundle.model.kind, message: e instanceof Error ? e.message : String(e), cause: e })
  })
  const p = yield* trainer.predict(bundle.model, t.matrix)
  return { ...p, unknownCategories: t.unknownCategories }
})
