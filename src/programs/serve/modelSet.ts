import { Cause, Clock, Effect, Exit, Option, Runtime, Schema } from "effect"
import { describeError, mismatchReason } from "../../domain/describe.js"
import { StorageError, TrainingError } from "../../domain/errors.js"
import type { FeatureMap } from "../../domain/featureMap.js"
import type { ModelVersion, RegistryHead, RollbackIntent, Stage } from "../../domain/registry.js"
import type { Scalar } from "../../ml/frame.js"
import type { Matrix } from "../../ml/matrix.js"
import { type ColumnTransformerState, transformRow } from "../../ml/preprocess.js"
import { Registry } from "../../services/Registry.js"
import { ImageCodec } from "../../services/ImageCodec.js"
import { type Predictions, Trainer } from "../../services/Trainer.js"
import { loadBundle, type ModelBundle } from "../modelBundle.js"
import { requireVerifiedFiles } from "../artifactIntegrity.js"
import { artifactKeys } from "../workspace.js"
import { imageRequestSchemas, requestSchemas, type RequestSchemas } from "./requestSchema.js"
import { decodeRawBytes } from "../rawImages.js"
import { ImageTransformSchema } from "../../domain/featureMap.js"

/** Values the model cannot take (non-finite after the transform, …): the client's fault, a 422. */
export class PredictInputError extends Error {
  override readonly name = "PredictInputError"
}

/** An uploaded image that cannot be decoded: the client's fault, a 422 naming the image. */
export class ImageDecodeError extends Error {
  override readonly name = "ImageDecodeError"
  constructor(
    readonly index: number,
    message: string
  ) {
    super(message)
  }
}

/** What an image model takes: every image is decoded, resized to height × width and scaled to [0, 1]. */
export interface ServedImageInput {
  readonly height: number
  readonly width: number
  readonly channels: 1 | 3
  /** Image bytes (PNG, JPEG …) → one NHWC matrix (rows = images). Rejects with ImageDecodeError. */
  readonly decode: (images: ReadonlyArray<Uint8Array>) => Promise<Matrix>
  /** Decoded images → predictions (class indices) and probabilities. Rejects with PredictInputError. */
  readonly predictAsync: (x: Matrix) => Promise<Predictions>
}

/**
 * One model version ready to answer requests: its contract, its fitted transform and a synchronous
 * predict (tabular models), or, for image models, `image` with an asynchronous decode and predict.
 */
export interface ServedModel {
  readonly name: string
  readonly version: number
  readonly stage: Stage
  readonly aliases: ReadonlyArray<string>
  readonly runId: string
  readonly taskType: "classification" | "regression" | "image_classification"
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
  /** Image models only (their `predict` throws): input geometry, decode and async predict. */
  readonly image: ServedImageInput | null
}

/** The models one server answers with. Replaced as a whole on reload, never mutated. */
export interface ModelSet {
  readonly stage: Stage
  readonly models: ReadonlyMap<string, ServedModel>
  readonly loadedAt: string
  /** Why a requested model is not in the set (not registered, nothing at the stage). */
  readonly notes: ReadonlyArray<string>
  /**
   * Interrupted rollbacks of the served models (or of any model when all are served): the version
   * served is the pre-rollback one until `driftgate rollback --resume` (or `--abandon`) finishes them.
   */
  readonly pendingRollbacks?: ReadonlyArray<RollbackIntent> | undefined
  /**
   * The registry's head read before the models were: the set reflects at least this version of
   * the registry (/ready reports it; following the registry reloads when the head moves past it).
   */
  readonly registryHead?: RegistryHead | undefined
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
  /**
   * A version whose files do not match the digests recorded at registration is never served. "fail"
   * (default, a reload): the whole load fails, so the server keeps its previous set. "skip" (start-up):
   * that model is left out with a note saying why (/ready shows it) and the others are served.
   */
  readonly onMismatch?: "fail" | "skip" | undefined
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
  Object.fromEntries(
    fm.input_features.map((f) => {
      if (f.dtype === "float" || f.dtype === "int") {
        const mid = f.min !== undefined && f.max !== undefined ? (f.min + f.max) / 2 : 0
        // Six significant digits: a readable default in the form (2.43, not 2.4299999999999997).
        return [f.name, f.dtype === "int" ? Math.round(mid) : Number(mid.toPrecision(6))]
      }
      if (f.dtype === "bool") return [f.name, false]
      return [f.name, f.categories?.[0] ?? ""]
    })
  )

const fail = (model: string, message: string) => new TrainingError({ model, message })

/**
 * Turns a loaded bundle into a ServedModel: checks that model, feature map and transform agree, wraps
 * the Trainer's predict as a plain function, and runs one prediction so a broken model fails the
 * load (and compiles the model's caches) instead of the first request.
 */
export const makeServedModel = Effect.fn("serve.prepareModel")(function* (
  bundle: ModelBundle,
  version: ModelVersion,
  maxBatchRows: number
) {
  const trainer = yield* Trainer
  const label = `${version.name} v${version.version}`
  const fm = bundle.featureMap
  if (fm.task_type !== bundle.model.task) {
    return yield* Effect.fail(fail(label, `the feature map says ${fm.task_type} but the model is ${bundle.model.task}`))
  }
  if (fm.task_type === "classification" && (fm.classes === null || fm.classes.length < 2)) {
    return yield* Effect.fail(fail(label, "the feature map of a classifier lists no classes"))
  }
  const inputs = fm.input_features
    .map((f) => f.name)
    .sort()
    .join("\u0000")
  const steps = bundle.transform.steps
    .map((s) => s.name)
    .sort()
    .join("\u0000")
  if (inputs !== steps)
    return yield* Effect.fail(fail(label, "the feature map and the fitted transform name different input columns"))

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
    trainedAt:
      (typeof bundle.metadata.trained_at === "string" ? bundle.metadata.trained_at : null) ??
      uuidv7Time(version.runId) ??
      version.createdAt,
    datasetVersion: fm.dataset_version,
    featureMap: fm,
    transform: bundle.transform,
    classes: fm.task_type === "classification" ? fm.classes : null,
    schemas: requestSchemas(fm, maxBatchRows),
    predict,
    image: null
  }
  yield* Effect.try({
    try: () => {
      const values = transformRow(bundle.transform, exampleRow(fm)).values
      const p = predict({ rows: 1, cols: values.length, data: values })
      if (p.predictions.length !== 1) throw new Error(`predict returned ${p.predictions.length} values for one row`)
      if (served.classes !== null && (p.proba === undefined || p.proba.length !== served.classes.length)) {
        throw new Error(
          `the model gives ${p.proba?.length ?? 0} class probabilities for ${served.classes.length} classes`
        )
      }
    },
    catch: (e) => fail(label, `a test prediction failed: ${e instanceof Error ? e.message : String(e)}`)
  })
  return served
})

const failureMessage = (cause: Cause.Cause<{ readonly message: string }>): string => {
  const e = Cause.failureOption(cause)
  return e._tag === "Some" ? e.value.message : Cause.pretty(cause)
}

/**
 * Turns a loaded image-model bundle (a CNN and an image_classification feature map) into a
 * ServedModel. tfjs predicts asynchronously, so decode and predict run as promises on the runtime
 * captured here (never Effect.runSync). One test prediction on a blank image of the model's input
 * size runs at load, so a broken model fails the load instead of the first request.
 * Uploaded bytes are decoded in memory by ImageCodec.decode, exactly like the training images.
 */
/** Larger uploads are refused before decoding (a tiny compressed PNG can hold a huge canvas). */
const MAX_UPLOAD_PIXELS = 4096 * 4096

export const makeServedImageModel = Effect.fn("serve.prepareImageModel")(function* (
  bundle: ModelBundle,
  version: ModelVersion,
  maxBatchRows: number
) {
  const trainer = yield* Trainer
  const codec = yield* ImageCodec
  const runtime = yield* Effect.runtime<never>()
  const label = `${version.name} v${version.version}`
  const fm = bundle.featureMap
  const geometry = fm.image
  if (geometry === undefined)
    return yield* Effect.fail(
      fail(label, "the feature map of an image model gives no input size (image: height, width, channels)")
    )
  if (bundle.model.task !== "classification")
    return yield* Effect.fail(fail(label, `an image model must be a classifier, not ${bundle.model.task}`))
  const classes = fm.classes
  if (classes === null || classes.length < 2)
    return yield* Effect.fail(fail(label, "the feature map of a classifier lists no classes"))
  const { height, width, channels } = geometry
  const size = height * width * channels
  const model = bundle.model
  const run = Runtime.runPromiseExit(runtime)
  // A raw (DNG) model renders uploads through the ISP it was trained with.
  // (the bundle types its transform as the tabular one; an image model's is the image transform)
  const imageTransform = Schema.decodeUnknownOption(ImageTransformSchema)(bundle.transform)
  const isp = Option.isSome(imageTransform) ? imageTransform.value.isp : undefined
  const properties = {
    expected_formats: ["png", "jpg", "jpeg"],
    min_images_per_class: 1,
    target_size: [height, width],
    channels
  } as const

  const predictAsync = async (x: Matrix): Promise<Predictions> => {
    const exit = await run(trainer.predict(model, x))
    if (Exit.isSuccess(exit)) return exit.value
    throw new PredictInputError(failureMessage(exit.cause))
  }

  const decode = async (images: ReadonlyArray<Uint8Array>): Promise<Matrix> => {
    // One decode per image (8 at a time, in memory), so that an undecodable upload is named by its index.
    const decoded = await run(
      Effect.forEach(
        images,
        (bytes) =>
          Effect.exit(
            isp !== undefined
              ? decodeRawBytes([bytes], properties, isp)
              : codec.decode([bytes], properties, { maxPixels: MAX_UPLOAD_PIXELS })
          ),
        { concurrency: 8 }
      )
    )
    if (Exit.isFailure(decoded)) throw new Error(`image decoding failed: ${Cause.pretty(decoded.cause)}`)
    const exits = decoded.value
    const data = new Float32Array(images.length * size)
    for (let i = 0; i < exits.length; i++) {
      const exit = exits[i]!
      if (Exit.isFailure(exit))
        throw new ImageDecodeError(
          i,
          `cannot be decoded as an image: ${failureMessage(exit.cause).replace(/^image #\d+: ?/, "")}`
        )
      if (exit.value.data.length !== size)
        throw new ImageDecodeError(i, `decoded to ${exit.value.data.length} values, expected ${size}`)
      data.set(exit.value.data, i * size)
    }
    return { rows: images.length, cols: size, data: data as unknown as Float64Array }
  }

  const served: ServedModel = {
    name: version.name,
    version: version.version,
    stage: version.stage,
    aliases: version.aliases,
    runId: version.runId,
    taskType: "image_classification",
    algorithm: model.kind,
    trainedAt:
      (typeof bundle.metadata.trained_at === "string" ? bundle.metadata.trained_at : null) ??
      uuidv7Time(version.runId) ??
      version.createdAt,
    datasetVersion: fm.dataset_version,
    featureMap: fm,
    transform: bundle.transform,
    classes,
    schemas: imageRequestSchemas(maxBatchRows),
    predict: () => {
      throw new PredictInputError("an image model predicts asynchronously (image.predictAsync)")
    },
    image: { height, width, channels, decode, predictAsync }
  }
  yield* trainer.predict(model, { rows: 1, cols: size, data: new Float32Array(size) as unknown as Float64Array }).pipe(
    Effect.flatMap((p) => {
      if (p.predictions.length !== 1)
        return Effect.fail(fail(label, `predict returned ${p.predictions.length} values for one image`))
      if (p.proba === undefined || p.proba.length !== classes.length) {
        return Effect.fail(
          fail(label, `the model gives ${p.proba?.length ?? 0} class probabilities for ${classes.length} classes`)
        )
      }
      return Effect.void
    }),
    Effect.mapError((e) =>
      fail(label, `a test prediction on a blank ${height}x${width}x${channels} image failed: ${e.message}`)
    )
  )
  return served
})

/**
 * Reads the registry: for each model (all registered, or only `models`), the newest version at the
 * stage, with its bundle (tabular models and image classifiers). Fails as a whole if any of them
 * cannot be loaded; a model that is not registered or has nothing at the stage is left out, with a note.
 */
export const loadModelSet = Effect.fn("serve.loadModels")(function* (options: LoadOptions) {
  const registry = yield* Registry
  const registryHead = yield* registry.head()
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
    const verified = yield* Effect.either(requireVerifiedFiles(newest))
    if (verified._tag === "Left") {
      const e = verified.left
      const reason = e._tag === "ArtifactMismatch" ? mismatchReason(e) : describeError(e)
      if (e._tag !== "ArtifactMismatch" || options.onMismatch !== "skip") {
        return yield* Effect.fail(
          new StorageError({
            op: "load",
            key: artifactKeys(newest.runId).dir,
            message: `model ${name} version ${newest.version} cannot be served: ${reason}`
          })
        )
      }
      notes.push(`model ${name} version ${newest.version} is not served: ${reason}`)
      continue
    }
    const served = yield* Effect.flatMap(loadBundle(newest.runId), (bundle) =>
      bundle.featureMap.task_type === "image_classification"
        ? makeServedImageModel(bundle, newest, options.maxBatchRows)
        : makeServedModel(bundle, newest, options.maxBatchRows)
    ).pipe(
      Effect.mapError(
        (e) =>
          new StorageError({
            op: "load",
            key: artifactKeys(newest.runId).dir,
            message: `model ${name} version ${newest.version} cannot be served: ${e._tag === "StorageError" ? `${e.key}: ${e.message}` : e.message}`
          })
      )
    )
    models.set(name, served)
  }
  if (names.length === 0) notes.push("no model is registered")
  const wanted = new Set(names)
  const pendingRollbacks = (yield* registry.pendingRollbacks()).filter((i) => wanted.has(i.model))
  const now = yield* Clock.currentTimeMillis
  return {
    stage: options.stage,
    models,
    loadedAt: new Date(now).toISOString(),
    notes,
    pendingRollbacks,
    registryHead
  } satisfies ModelSet
})
