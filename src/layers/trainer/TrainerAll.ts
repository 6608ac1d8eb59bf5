import { type ConfigError, Effect, Either, Layer } from "effect"
import { TrainingError } from "../../domain/errors.js"
import { sha256Hex } from "../../domain/hash.js"
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
  readonly fineTunedFrom?: string
}

const MODEL_FORMAT = "driftgate.model/1"
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
  tfBackend: Either.Either<TfBackendPreference, ConfigError.ConfigError> = Either.right("auto")
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
  // object) but must not load, and leak, a second copy of the same weights.
  const loaded = new WeakMap<object, Promise<CnnModel>>()
  const byContent = new Map<string, Promise<CnnModel>>()
  const modelOf = (state: CnnState) => {
    let m = loaded.get(state)
    if (m === undefined) {
      const key = sha256Hex(state.modelJson + "\n" + state.weights)
      m = byContent.get(key)
      if (m === undefined) {
        m = ready().then(({ cnn }) => cnn.loadCnn(artifactOf(state)))
        byContent.set(key, m)
      }
      loaded.set(state, m)
    }
    return m
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
              const p = req.params as {
                conv: CnnMeta["arch"]["conv"]
                pool: "max" | "avg"
                dense: ReadonlyArray<number>
                dropout: number
                epochs: number
                batch_size: number
                learning_rate: number
                optimizer: "adam" | "sgd"
                early_stopping_patience: number
                fine_tune_learning_rate_factor: number
                fine_tune_freeze_layers: number
              }
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
                ...(fineTunedFrom !== undefined ? { fineTunedFrom } : {})
              }
              loaded.set(state, Promise.resolve(result.model))
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
              const proba = cnn.predictProba(m, toImages(x, [h, w, c]))
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
              const e = cnn.embed(await modelOf(state), toImages(x, [h, w, c]))
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
