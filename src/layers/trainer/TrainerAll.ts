import { type ConfigError, Effect, Either, Layer } from "effect"
import { TrainingError } from "../../domain/errors.js"
import { sha256Hex } from "../../domain/hash.js"
import type { ParamsOf } from "../../domain/training.js"
import type { Matrix } from "../../ml/matrix.js"
import { type FittedModel, Trainer } from "../../services/Trainer.js"
import type { CnnArtifact, CnnMeta, CnnModel } from "./tfjs/cnn.js"
import type { TfBackendInfo, TfBackendPreference } from "./tfjs/backend.js"
import { tfBackendConfig } from "./tfjs/backendConfig.js"
import { makeTrainerTabular } from "./TrainerTabular.js"

/** A CNN's fitted state inside model.json: the tfjs model.json, its weights (base64) and metadata. */
interface CnnState {
  readonly format: "driftgate.cnn/1"
  readonly modelJson: string
  readonly weights: string
  readonly meta: CnnMeta
  readonly backend: string
  readonly history: ReadonlyArray<{
    epoch: number
    loss: number
    valLoss: number
    valAccuracy: number
    imagesPerSecond: number
  }>
  readonly bestEpoch: number
  /** Threads that computed each training step (data-parallel wasm replicas; absent in older models). */
  readonly threads?: number
  readonly fineTunedFrom?: string
}

const MODEL_FORMAT = "driftgate.model/1"
const CNN_CACHE_SIZE = 8
const fail = (e: unknown) =>
  new TrainingError({ model: "cnn", message: e instanceof Error ? e.message : String(e), cause: e })

const toImages = (x: Matrix, shape: readonly [number, number, number]) => ({
  data: x.data instanceof Float32Array ? x.data : Float32Array.from(x.data),
  shape: [x.rows, shape[0], shape[1], shape[2]] as const
})
const toLabels = (y: Float64Array) => Int32Array.from(y)

/**
 * The Trainer for every model kind: tabular learners in-process (src/ml), CNNs on tfjs, whose
 * modules load on first use only so tabular runs do not pay for them. The tfjs backend is chosen
 * once (tfjs-node(-gpu) if installed, else wasm with driftgate's gradient kernels, else cpu;
 * DRIFTGATE_TF_BACKEND forces one) and recorded with every CNN it trains.
 */
export const makeTrainerAll = (
  tfBackend: Either.Either<TfBackendPreference, ConfigError.ConfigError> = Either.right("auto"),
  /** Distinct CNN weight sets kept loaded (least recently used beyond it are disposed). */
  cnnCacheSize = CNN_CACHE_SIZE
) => {
  const tab = makeTrainerTabular()
  let backend: Promise<TfBackendInfo> | undefined
  const ready = async () => {
    backend ??= import("./tfjs/backend.js").then((b) =>
      // an invalid DRIFTGATE_TF_BACKEND fails the first CNN, not the tabular runs that never use tfjs
      b.selectTfBackend(Either.getOrThrowWith(tfBackend, (e) => new Error(String(e))))
    )
    const info = await backend
    return { info, cnn: await import("./tfjs/cnn.js") }
  }
  // Loaded tfjs models are shared by content: a serving reload decodes model.json again (a new state
  // object) but must not load, and leak, a second copy of the same weights. At most cnnCacheSize
  // distinct weight sets stay loaded: every use moves one to the front, the least recently used
  // beyond the bound is disposed (tfjs tensors are not garbage-collected), and a state whose model
  // was disposed loads it again on its next use. What is being served is in use, so it stays.
  interface Entry {
    readonly key: string
    readonly model: Promise<CnnModel>
    disposed: boolean
  }
  const keyOf = new WeakMap<object, string>()
  const byContent = new Map<string, Entry>()
  const touch = (e: Entry) => {
    byContent.delete(e.key)
    byContent.set(e.key, e)
    while (byContent.size > cnnCacheSize) {
      const oldest = byContent.values().next().value as Entry
      byContent.delete(oldest.key)
      oldest.disposed = true
      void Promise.all([oldest.model, ready()]).then(
        ([m, { cnn }]) => cnn.disposeCnn(m),
        () => undefined
      )
    }
    return e
  }
  const contentKey = (state: CnnState) => {
    let key = keyOf.get(state)
    if (key === undefined) {
      key = sha256Hex(state.modelJson + "\n" + state.weights)
      keyOf.set(state, key)
    }
    return key
  }
  const entryOf = (state: CnnState): Entry => {
    const key = contentKey(state)
    const cached = byContent.get(key)
    return touch(cached ?? { key, model: ready().then(({ cnn }) => cnn.loadCnn(artifactOf(state))), disposed: false })
  }
  /** The loaded model of a state; loads again if it was evicted while this call waited. */
  const modelOf = async (state: CnnState): Promise<CnnModel> => {
    for (;;) {
      const e = entryOf(state)
      const m = await e.model
      if (!e.disposed) return m
    }
  }
  const artifactOf = (state: CnnState): CnnArtifact => ({
    modelJson: state.modelJson,
    weights: new Uint8Array(Buffer.from(state.weights, "base64")),
    meta: state.meta
  })
  return Trainer.of({
    fit: (req) =>
      req.kind !== "cnn"
        ? tab.fit(req)
        : Effect.tryPromise({
            try: async (): Promise<FittedModel> => {
              const { info, cnn } = await ready()
              if (req.imageShape === undefined) throw new Error("a CNN needs the image shape")
              const p = req.params as ParamsOf<"cnn">
              const common = {
                images: toImages(req.x, req.imageShape),
                labels: toLabels(req.y),
                ...(req.validation
                  ? { valImages: toImages(req.validation.x, req.imageShape), valLabels: toLabels(req.validation.y) }
                  : {}),
                epochs: p.epochs,
                batchSize: p.batch_size,
                optimizer: p.optimizer,
                earlyStoppingPatience: p.early_stopping_patience,
                seed: req.seed,
                ...(p.threads !== undefined ? { threads: p.threads } : {}),
                onEpoch: (
                  epoch: number,
                  s: { loss: number; valLoss: number; valAccuracy: number; imagesPerSecond: number }
                ) =>
                  req.onProgress?.(
                    epoch,
                    p.epochs,
                    `loss ${s.loss.toFixed(4)} val_loss ${s.valLoss.toFixed(4)} val_acc ${s.valAccuracy.toFixed(4)} ${Math.round(s.imagesPerSecond)} img/s`
                  )
              }
              let result
              let fineTunedFrom: string | undefined
              if (req.initial !== undefined) {
                const from = req.initial.state as CnnState
                const learningRate = (from.meta.learningRate ?? p.learning_rate) * p.fine_tune_learning_rate_factor
                result = await cnn.fineTune(artifactOf(from), {
                  ...common,
                  learningRate,
                  freezeConvLayers: p.fine_tune_freeze_layers
                })
                fineTunedFrom = from.meta.seed !== undefined ? `seed ${from.meta.seed}` : "production"
              } else {
                result = await cnn.trainCnn({
                  ...common,
                  arch: { conv: p.conv, pool: p.pool, dense: p.dense, dropout: p.dropout },
                  ...(req.nClasses !== undefined ? { nClasses: req.nClasses } : {}),
                  learningRate: p.learning_rate
                })
              }
              const artifact = await cnn.saveCnn(result.model, {
                seed: req.seed,
                backend: info.name,
                learningRate: p.learning_rate
              })
              const state: CnnState = {
                format: "driftgate.cnn/1",
                modelJson: artifact.modelJson,
                weights: Buffer.from(artifact.weights).toString("base64"),
                meta: artifact.meta,
                backend: `${info.name} (${info.provider}${info.threads !== undefined ? `, ${info.threads} threads` : ""}${info.simd ? ", simd" : ""})`,
                history: result.history.map((h) => ({ ...h })),
                bestEpoch: result.bestEpoch,
                threads: result.threads,
                ...(fineTunedFrom !== undefined ? { fineTunedFrom } : {})
              }
              // Same weights already loaded (the same seed trained twice in one process): keep one copy.
              const same = byContent.get(contentKey(state))
              if (same !== undefined) {
                touch(same)
                cnn.disposeCnn(result.model)
              } else touch({ key: contentKey(state), model: Promise.resolve(result.model), disposed: false })
              // Epochs are numbered from 1; bestEpoch is the one whose weights were kept.
              const last = result.history.find((h) => h.epoch === result.bestEpoch) ?? result.history.at(-1)
              return {
                kind: "cnn",
                task: req.task,
                state,
                info: {
                  backend: info.name,
                  epochs_run: result.history.length,
                  best_epoch: result.bestEpoch,
                  threads: result.threads,
                  stopped_early: result.stoppedEarly,
                  first_batch_loss: Number(result.firstBatchLoss.toFixed(6)),
                  images_per_second: Math.round(
                    result.history.reduce((a, h) => a + h.imagesPerSecond, 0) / Math.max(1, result.history.length)
                  ),
                  ...(last ? { val_loss: Number(last.valLoss.toFixed(6)) } : {}),
                  fine_tuned: req.initial !== undefined
                }
              }
            },
            catch: fail
          }),
    predict: (model, x) =>
      model.kind !== "cnn"
        ? tab.predict(model, x)
        : Effect.tryPromise({
            try: async () => {
              const { cnn } = await ready()
              const state = model.state as CnnState
              const m = await modelOf(state)
              const [h, w, c] = state.meta.inputShape
              const proba = await cnn.predictProbaParallel(m, toImages(x, [h, w, c]))
              const k = state.meta.nClasses
              const predictions = new Float64Array(x.rows)
              for (let i = 0; i < x.rows; i++) {
                let best = 0
                for (let j = 1; j < k; j++) if (proba[i * k + j]! > proba[i * k + best]!) best = j
                predictions[i] = best
              }
              return { predictions, proba }
            },
            catch: fail
          }),
    embed: (model, x) =>
      model.kind !== "cnn"
        ? tab.embed(model, x)
        : Effect.tryPromise({
            try: async () => {
              const { cnn } = await ready()
              const state = model.state as CnnState
              const [h, w, c] = state.meta.inputShape
              const e = await cnn.embedParallel(await modelOf(state), toImages(x, [h, w, c]))
              return { rows: e.rows, cols: e.cols, data: Float64Array.from(e.data) }
            },
            catch: fail
          }),
    encode: (model) =>
      model.kind !== "cnn"
        ? tab.encode(model)
        : JSON.stringify({ format: MODEL_FORMAT, kind: model.kind, task: model.task, state: model.state }),
    decode: (json) =>
      Effect.flatMap(
        Effect.try({
          try: () => JSON.parse(json) as { format?: string; kind?: string; task?: string; state?: CnnState },
          catch: fail
        }),
        (doc) =>
          doc.kind !== "cnn"
            ? tab.decode(json)
            : doc.format !== MODEL_FORMAT || doc.state?.format !== "driftgate.cnn/1"
              ? Effect.fail(fail(`model.json is not a driftgate CNN (format ${String(doc.format)})`))
              : Effect.succeed<FittedModel>({
                  kind: "cnn",
                  task: "classification",
                  state: doc.state,
                  info: { backend: doc.state.backend }
                })
      )
  })
}

/** DRIFTGATE_TF_BACKEND is read through Config when the layer is built. */
export const TrainerAll = Layer.effect(Trainer, Effect.map(Effect.either(tfBackendConfig), makeTrainerAll))
