import { Cause, Clock, Effect, Exit } from "effect"
import { StorageError, TrainingError } from "../../domain/errors.js"
import type { FeatureMap } from "../../domain/featureMap.js"
import type { ModelVersion, Stage } from "../../domain/registry.js"
import type { Scalar } from "../../ml/frame.js"
import type { Matrix } from "../../ml/matrix.js"
import { type ColumnTransformerState, transformRow } from "../../ml/preprocess.js"
import { Registry } from "../../services/Registry.js"
import { Storage } from "../../services/Storage.js"
import { type Predictions, Trainer } from "../../services/Trainer.js"
import { loadBundle, type ModelBundle } from "../modelBundle.js"
import { artifactKeys } from "../workspace.js"
import { requestSchemas, type RequestSchemas } from "./requestSchema.js"

/** Values the model cannot take (non-finite after the transform, …): the client's fault, a 422. */
export class PredictInputError extends Error {
  override readonly name = "PredictInputError"
}

/** One model version ready to answer requests: its contract, its fitted transform and a synchronous predict. */
export interface ServedModel {
  readonly name: string
  readonly version: number
  readonly stage: Stage
  readonly aliases: ReadonlyArray<string>
  readonly runId: string
  readonly taskType: "classification" | "regression"
  readonly algorithm: string
  readonly trainedAt: string
  readonly datasetVersion: string
  readonly featureMap: FeatureMap
  readonly transform: ColumnTransformerState
  /** Class labels in class-index order (classification), else null. */
  readonly classes: ReadonlyArray<string> | null
  readonly schemas: RequestSchemas
  /** Transformed rows → predictions (class indices or values) and, for classifiers, probabilities. Throws PredictInputError. */
  readonly predict: (x: Matrix) => Predictions
}

/** The models one server answers with. Replaced as a whole on reload, never mutated. */
export interface ModelSet {
  readonly stage: Stage
  readonly models: ReadonlyMap<string, ServedModel>
  readonly loadedAt: string
  /** Why a requested model is not in the set (not registered, nothing at the stage). */
  readonly notes: ReadonlyArray<string>
}

/** Loads (and reloads) the model set; rejects with an Error whose message says why. */
export interface ModelSource {
  readonly load: () => Promise<ModelSet>
}

export interface LoadOptions {
  readonly stage: "Production" | "Staging"
  /** Only these models (default: every registered model with a version at the stage). */
  readonly models?: ReadonlyArray<string> | undefined
  readonly maxBatchRows: number
}

const UUID_V7 = /^([0-9a-f]{8})-([0-9a-f]{4})-7/

/** The run's start time from its UUIDv7 id (48-bit milliseconds), or null. */
const uuidv7Time = (id: string): string | null => {
  const m = UUID_V7.exec(id)
  if (m === null) return null
  const ms = parseInt(m[1]! + m[2]!, 16)
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null
}

/** A row the model accepts: midpoint of each training range, first category, false. */
export const exampleRow = (fm: FeatureMap): Record<string, Scalar> =>
  Object.fromEntries(fm.input_features.map((f) => {
    if (f.dtype === "float" || f.dtype === "int") {
      const mid = f.min !== undefined && f.max !== undefined ? (f.min + f.max) / 2 : 0
      // Six significant digits: a readable default in the form (2.43, not 2.4299999999999997).
      return [f.name, f.dtype === "int" ? Math.round(mid) : Number(mid.toPrecision(6))]
    }
    if (f.dtype === "bool") return [f.name, false]
    return [f.name, f.categories?.[0] ?? ""]
  }))

const fail = (model: string, message: string) => new TrainingError({ model, message })

/**
 * Turns a loaded bundle into a ServedModel: checks that model, feature map and transform agree, wraps
 * the Trainer's predict as a plain function, and runs one prediction so a broken model fails the
 * load (and compiles the model's caches) instead of the first request.
 */
export const makeServedModel = Effect.fn("serve.prepareModel")(function* (bundle: ModelBundle, version: ModelVersion, maxBatchRows: number) {
  const trainer = yield* Trainer
  const label = `${version.name} v${version.version}`
  const fm = bundle.featureMap
  if (fm.task_type !== bundle.model.task) {
    return yield* Effect.fail(fail(label, `the feature map says ${fm.task_type} but the model is ${bundle.model.task}`))
  }
  if (fm.task_type === "classification" && (fm.classes === null || fm.classes.length < 2)) {
    return yield* Effect.fail(fail(label, "the feature map of a classifier lists no classes"))
  }
  const inputs = fm.input_features.map((f) => f.name).sort().join("\u0000")
  const steps = bundle.transform.steps.map((s) => s.name).sort().join("\u0000")
  if (inputs !== steps) return yield* Effect.fail(fail(label, "the feature map and the fitted transform name different input columns"))

  const model = bundle.model
  const predict = (x: Matrix): Predictions => {
    const exit = Effect.runSyncExit(trainer.predict(model, x))
    if (Exit.isSuccess(exit)) return exit.value
    const e = Cause.failureOption(exit.cause)
    throw new PredictInputError(e._tag === "Some" ? e.value.message : Cause.pretty(exit.cause))
  }
  const served: ServedModel = {
    name: version.name,
    version: version.version,
    stage: version.stage,
    aliases: version.aliases,
    runId: version.runId,
    taskType: fm.task_type,
    algorithm: model.kind,
    trainedAt: (typeof bundle.metadata.trained_at === "string" ? bundle.metadata.trained_at : null) ?? uuidv7Time(version.runId) ?? version.createdAt,
    datasetVersion: fm.dataset_version,
    featureMap: fm,
    transform: bundle.transform,
    classes: fm.task_type === "classification" ? fm.classes : null,
    schemas: requestSchemas(fm, maxBatchRows),
    predict
  }
  yield* Effect.try({
    try: () => {
      const values = transformRow(bundle.transform, exampleRow(fm)).values
      const p = predict({ rows: 1, cols: values.length, data: values })
      if (p.predictions.length !== 1) throw new Error(`predict returned ${p.predictions.length} values for one row`)
      if (served.classes !== null && (p.proba === undefined || p.proba.length !== served.classes.length)) {
        throw new Error(`the model gives ${p.proba?.length ?? 0} class probabilities for ${served.classes.length} classes`)
      }
    },
    catch: (e) => fail(label, `a test prediction failed: ${e instanceof Error ? e.message : String(e)}`)
  })
  return served
})

/** Image models are skipped before their (large) model.json is decoded: one look at the feature map. */
const isImageModel = (runId: string) =>
  Effect.flatMap(Storage, (storage) => storage.readText(artifactKeys(runId).featureMap)).pipe(
    Effect.map((text) => {
      try {
        return (JSON.parse(text) as { task_type?: unknown }).task_type === "image_classification"
      } catch {
        return false // loadBundle reports the broken file
      }
    }),
    Effect.orElseSucceed(() => false)
  )

/**
 * Reads the registry: for each model (all registered, or only `models`), the newest version at the
 * stage, with its bundle. Fails as a whole if any of them cannot be loaded; a model that is not
 * registered, has nothing at the stage, or is an image model is left out, with a note.
 */
export const loadModelSet = Effect.fn("serve.loadModels")(function* (options: LoadOptions) {
  const registry = yield* Registry
  const registered = (yield* registry.listModels()).map((m) => m.name)
  const known = new Set(registered)
  const names = options.models === undefined ? [...registered].sort() : [...new Set(options.models)]
  const notes: string[] = []
  const models = new Map<string, ServedModel>()
  for (const name of names) {
    if (!known.has(name)) {
      notes.push(`model ${name} is not registered`)
      continue
    }
    const versions = yield* registry.getByStage(name, options.stage)
    const newest = [...versions].sort((a, b) => b.version - a.version)[0]
    if (newest === undefined) {
      notes.push(`model ${name} has no ${options.stage} version`)
      continue
    }
    if (yield* isImageModel(newest.runId)) {
      notes.push(`model ${name} version ${newest.version} is an image classifier: this service takes tabular features only`)
      continue
    }
    const served = yield* Effect.flatMap(loadBundle(newest.runId), (bundle) => makeServedModel(bundle, newest, options.maxBatchRows)).pipe(
      Effect.mapError((e) => new StorageError({
        op: "load", key: artifactKeys(newest.runId).dir,
        message: `model ${name} version ${newest.version} cannot be served: ${e._tag === "StorageError" ? `${e.key}: ${e.message}` : e.message}`
      }))
    )
    models.set(name, served)
  }
  if (names.length === 0) notes.push("no model is registered")
  const now = yield* Clock.currentTimeMillis
  return { stage: options.stage, models, loadedAt: new Date(now).toISOString(), notes } satisfies ModelSet
})
