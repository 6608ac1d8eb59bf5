// Training the CNN: the seeded loop (shuffling, dropout masks, early stopping on the validation
// loss, best weights kept), from scratch or fine-tuned from a saved artifact.
import * as tf from "@tensorflow/tfjs"
import { rng, type Rng } from "../../../domain/random.js"
import type { ImageTensor } from "../../../vision/tensor.js"
import { type CnnArtifact, loadCnn } from "./cnnArtifact.js"
import {
  batchTensor,
  buildCnn,
  checkImages,
  type CnnArch,
  type CnnModel,
  evaluateCnn,
  forward,
  labelTensor,
  readyBackend
} from "./cnnNetwork.js"
import { defaultThreads, forgetModel, openTrainingSession, type TrainingSession } from "./cnnPool.js"
import { layerWeights, shardGradients } from "./cnnShard.js"
import { type FlatOptimizer, flatAdam, flatSgd } from "./flatOptimizer.js"

export interface EpochStats {
  readonly epoch: number
  readonly loss: number
  /** NaN without a validation set. */
  readonly valLoss: number
  readonly valAccuracy: number
  /** Training images per second in this epoch (forward + backward + update; no validation). */
  readonly imagesPerSecond: number
}

export interface TrainCnnOptions {
  readonly images: ImageTensor
  readonly labels: Int32Array
  readonly valImages?: ImageTensor
  readonly valLabels?: Int32Array
  readonly arch: CnnArch
  /** Defaults to max(label) + 1. */
  readonly nClasses?: number
  readonly epochs: number
  readonly batchSize: number
  readonly learningRate: number
  readonly optimizer: "adam" | "sgd"
  /** Stop after this many epochs without a lower validation loss; undefined: never stop early. */
  readonly earlyStoppingPatience?: number
  readonly seed: number
  /**
   * Data-parallel threads on the wasm backend (the main thread and threads − 1 workers, each with a
   * model replica, gradients averaged through shared memory). Default: every core, but at least 16
   * rows of a batch per thread (1 for tiny batches). Deterministic for a given thread count; other
   * counts differ only by float summation order. Other backends always use 1.
   */
  readonly threads?: number
  readonly onEpoch?: (epoch: number, stats: Omit<EpochStats, "epoch">) => void
}

export interface TrainCnnResult {
  readonly model: CnnModel
  readonly history: ReadonlyArray<EpochStats>
  /** The epoch whose weights were kept (lowest validation loss; the last epoch without validation). */
  readonly bestEpoch: number
  readonly stoppedEarly: boolean
  /** Loss of the very first batch, before any update (fine-tuning should start lower than scratch). */
  readonly firstBatchLoss: number
  /** The tfjs backend that trained it, e.g. "wasm": record it with the run. */
  readonly backend: string
  /** Threads that computed each step's gradients (1 without workers). */
  readonly threads: number
}

const snapshot = (m: CnnModel): Array<Float32Array> =>
  m.model
    .getWeights()
    .map((t) => t.dataSync() as Float32Array)
    .map((a) => a.slice())

const restore = (m: CnnModel, weights: ReadonlyArray<Float32Array>): void => {
  const current = m.model.getWeights()
  const tensors = weights.map((data, i) => tf.tensor(data, current[i]!.shape))
  m.model.setWeights(tensors)
  tf.dispose(tensors)
}

/**
 * One data-parallel step: every rank's gradients, summed, then one optimizer step here, in one
 * loop over the shared weights (flatOptimizer.ts: the same float32 values as tfjs's optimizer).
 */
const parallelStep = async (
  session: TrainingSession,
  m: CnnModel,
  vars: ReadonlyArray<tf.Variable>,
  optimizer: FlatOptimizer,
  o: FitOptions,
  index: Int32Array,
  start: number,
  end: number,
  dropoutSeed: number
): Promise<number> => {
  const { grads, lossSum } = await session.step(start, end, dropoutSeed, (lo, hi, out) =>
    shardGradients(m, vars, { images: o.images, labels: o.labels, index, start, end, lo, hi, dropoutSeed }, out)
  )
  optimizer.step(session.weights, session.segments, grads)
  session.publish()
  return lossSum / (end - start)
}

const shuffleInPlace = (index: Int32Array, r: Rng): void => {
  for (let i = index.length - 1; i > 0; i--) {
    const j = r.int(i + 1)
    const t = index[i]!
    index[i] = index[j]!
    index[j] = t
  }
}

interface FitOptions extends Omit<TrainCnnOptions, "arch" | "nClasses"> {
  /** Layer names whose weights stay fixed. */
  readonly frozen?: ReadonlySet<string>
}

const fit = async (m: CnnModel, o: FitOptions): Promise<TrainCnnResult> => {
  const backend = readyBackend()
  checkImages(o.images, m.inputShape, "The training images")
  const n = o.images.shape[0]
  if (o.labels.length !== n) throw new Error(`${n} training images but ${o.labels.length} labels.`)
  for (const l of o.labels) if (!(l >= 0 && l < m.nClasses)) throw new Error(`label ${l} outside [0, ${m.nClasses}).`)
  const hasVal = o.valImages !== undefined && o.valLabels !== undefined && o.valImages.shape[0] > 0
  if (hasVal) checkImages(o.valImages!, m.inputShape, "The validation images")
  if (!(o.batchSize >= 1) || !(o.epochs >= 0) || !(n >= 1))
    throw new Error("trainCnn needs images, epochs ≥ 0 and batchSize ≥ 1.")

  if (o.threads !== undefined && !(Number.isInteger(o.threads) && o.threads >= 1))
    throw new Error(`threads must be a whole number ≥ 1, got ${o.threads}`)
  for (const layer of m.model.layers) layer.trainable = !(o.frozen?.has(layer.name) ?? false)
  forgetModel(m)
  const all = layerWeights(m)
  const trainable = all.flatMap((w, i) => (w.trainable ? [i] : []))
  const threads = backend === "wasm" ? (o.threads ?? defaultThreads(o.batchSize)) : 1
  const session: TrainingSession | undefined =
    threads > 1 ? await openTrainingSession(m, trainable, o.images, o.labels, threads) : undefined
  // an explicit variable list: the default is every trainable variable in the engine
  const vars =
    session === undefined
      ? m.model.trainableWeights.map((w) => w.read() as tf.Variable)
      : trainable.map((i) => all[i]!.read() as tf.Variable)
  const optimizer = o.optimizer === "adam" ? tf.train.adam(o.learningRate) : tf.train.sgd(o.learningRate)
  const trainedSize = vars.reduce((a, v) => a + v.size, 0)
  const flat = o.optimizer === "adam" ? flatAdam(o.learningRate, trainedSize) : flatSgd(o.learningRate)
  const r = rng(o.seed)
  const index = Int32Array.from({ length: n }, (_, i) => i)
  const history: Array<EpochStats> = []
  let best = Number.POSITIVE_INFINITY
  let bestWeights: Array<Float32Array> | undefined
  let bestEpoch = 0
  let sinceBest = 0
  let stoppedEarly = false
  let firstBatchLoss = Number.NaN
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      shuffleInPlace(index, r)
      session?.setIndex(index)
      let lossSum = 0
      const t0 = performance.now()
      for (let start = 0; start < n; start += o.batchSize) {
        const end = Math.min(n, start + o.batchSize)
        const dropoutSeed = r.int(2 ** 31 - 1)
        const loss = session
          ? await parallelStep(session, m, vars, flat, o, index, start, end, dropoutSeed)
          : tf.tidy(() => {
              const x = batchTensor(o.images, index, start, end)
              const y = labelTensor(o.labels, index, start, end, m.nClasses)
              const cost = optimizer.minimize(
                () => tf.losses.softmaxCrossEntropy(y, forward(m, x, true, dropoutSeed)) as tf.Scalar,
                true,
                vars
              )
              return cost!.dataSync()[0]!
            })
        if (Number.isNaN(firstBatchLoss)) firstBatchLoss = loss
        lossSum += loss * (end - start)
      }
      const seconds = (performance.now() - t0) / 1000
      const val = !hasVal
        ? { loss: Number.NaN, accuracy: Number.NaN }
        : session
          ? await session.evaluate(o.valImages!, o.valLabels!)
          : evaluateCnn(m, o.valImages!, o.valLabels!)
      const stats = { loss: lossSum / n, valLoss: val.loss, valAccuracy: val.accuracy, imagesPerSecond: n / seconds }
      history.push({ epoch, ...stats })
      o.onEpoch?.(epoch, stats)
      if (hasVal) {
        if (val.loss < best) {
          best = val.loss
          bestEpoch = epoch
          bestWeights = snapshot(m)
          sinceBest = 0
        } else if (o.earlyStoppingPatience !== undefined && ++sinceBest >= o.earlyStoppingPatience) {
          stoppedEarly = epoch < o.epochs
          break
        }
      } else bestEpoch = epoch
      // lets timers and log writes run between epochs
      await new Promise((resolve) => setImmediate(resolve))
    }
  } finally {
    session?.close()
    optimizer.dispose()
  }
  if (bestWeights !== undefined && bestEpoch !== history.length) restore(m, bestWeights)
  return { model: m, history, bestEpoch, stoppedEarly, firstBatchLoss, backend, threads: session?.threads ?? 1 }
}

/**
 * Trains a CNN from scratch. Deterministic for a seed on one backend (initialisers, shuffling
 * and dropout masks all derive from `seed`). With a validation set the weights of the epoch
 * with the lowest validation loss are kept.
 */
export const trainCnn = async (o: TrainCnnOptions): Promise<TrainCnnResult> => {
  checkImages(o.images, undefined, "The training images")
  let maxLabel = -1
  for (const l of o.labels) if (l > maxLabel) maxLabel = l
  const nClasses = o.nClasses ?? maxLabel + 1
  const [, h, w, c] = o.images.shape
  const m = buildCnn(o.arch, [h, w, c], nClasses, o.seed)
  return fit(m, o)
}

export interface FineTuneOptions extends Omit<TrainCnnOptions, "arch" | "nClasses" | "learningRate"> {
  /** Defaults to a tenth of the learning rate recorded in the artifact (1e-4 if none). */
  readonly learningRate?: number
  /** Keep the first k conv layers fixed (feature extractors); 0 trains everything. */
  readonly freezeConvLayers?: number
}

/** Continues training from saved weights (same architecture and classes), lower learning rate. */
export const fineTune = async (from: CnnArtifact, o: FineTuneOptions): Promise<TrainCnnResult> => {
  const m = await loadCnn(from)
  const k = o.freezeConvLayers ?? 0
  if (k < 0 || k > m.arch.conv.length)
    throw new Error(`freezeConvLayers must be in [0, ${m.arch.conv.length}], got ${k}`)
  const frozen = new Set(Array.from({ length: k }, (_, i) => `conv${i}`))
  const learningRate = o.learningRate ?? (from.meta.learningRate !== undefined ? from.meta.learningRate / 10 : 1e-4)
  return fit(m, { ...o, learningRate, frozen })
}
