// A small-CNN trainer on tfjs as plain functions over typed arrays: build, train (seeded,
// early stopping), predict, embed (for image-drift MMD), fine-tune, and save/load to bytes.
// Choose the backend first with selectTfBackend() (backend.ts); training records which ran.
import * as tf from "@tensorflow/tfjs"
import { rng, type Rng } from "../../../domain/random.js"
import { checkShape, imageSize, type ImageTensor } from "../../../vision/tensor.js"
import { convBlock, convBlockSupported, registerConvBlockKernels } from "./convBlock.js"
import { registerWasmGradients } from "./wasmGradients.js"

export interface ConvSpec {
  readonly filters: number
  readonly kernel: number
  readonly stride?: number
  readonly padding?: "same" | "valid"
}

/** conv blocks (conv → ReLU → 2×2 pool), then flatten, hidden dense ReLU layers, dropout, logits. */
export interface CnnArch {
  readonly conv: ReadonlyArray<ConvSpec>
  readonly pool: "max" | "avg"
  readonly dense: ReadonlyArray<number>
  /** Rate of the one dropout layer in front of the classifier; 0 leaves it out. */
  readonly dropout: number
}

/** [height, width, channels] of one image. */
export type CnnInputShape = readonly [h: number, w: number, c: number]

export interface CnnModel {
  readonly model: tf.LayersModel
  readonly arch: CnnArch
  readonly inputShape: CnnInputShape
  readonly nClasses: number
}

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
}

/** What saveCnn returns and loadCnn takes; the caller writes the files (model.json, weights.bin, meta). */
export interface CnnArtifact {
  /** tfjs "layers-model" model.json, its manifest pointing at "weights.bin". */
  readonly modelJson: string
  readonly weights: Uint8Array
  readonly meta: CnnMeta
}

export interface CnnMeta {
  readonly format: "driftgate-cnn"
  readonly version: 1
  readonly arch: CnnArch
  readonly inputShape: CnnInputShape
  readonly nClasses: number
  readonly seed?: number
  readonly backend?: string
  readonly learningRate?: number
}

const WEIGHTS_FILE = "weights.bin"

const seedsOf = (seed: number): Rng => rng(seed ^ 0x5eed)

/** Builds the network with seeded initialisers (He for ReLU layers, Glorot for the logits). */
export const buildCnn = (arch: CnnArch, inputShape: CnnInputShape, nClasses: number, seed: number): CnnModel => {
  if (arch.conv.length === 0 && arch.dense.length === 0)
    throw new Error("A CNN needs at least one conv or dense layer.")
  if (!(arch.dropout >= 0 && arch.dropout < 1)) throw new Error(`dropout must be in [0, 1), got ${arch.dropout}`)
  const seeds = seedsOf(seed)
  const nextSeed = () => seeds.int(2 ** 31 - 1)
  const layers: Array<tf.layers.Layer> = []
  let [h, w] = [inputShape[0], inputShape[1]]
  arch.conv.forEach((spec, i) => {
    const stride = spec.stride ?? 1
    const padding = spec.padding ?? "same"
    layers.push(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape: [...inputShape] } : {}),
        name: `conv${i}`,
        filters: spec.filters,
        kernelSize: spec.kernel,
        strides: stride,
        padding,
        activation: "relu",
        kernelInitializer: tf.initializers.heNormal({ seed: nextSeed() }),
        biasInitializer: "zeros"
      })
    )
    h = padding === "same" ? Math.ceil(h / stride) : Math.floor((h - spec.kernel) / stride) + 1
    w = padding === "same" ? Math.ceil(w / stride) : Math.floor((w - spec.kernel) / stride) + 1
    if (h < 1 || w < 1) throw new Error(`conv${i} leaves no pixels (input ${inputShape.join("×")})`)
    // a block pools only while there is something to pool
    if (h >= 2 && w >= 2) {
      const pool = { name: `pool${i}`, poolSize: 2, strides: 2, padding: "valid" as const }
      layers.push(arch.pool === "max" ? tf.layers.maxPooling2d(pool) : tf.layers.averagePooling2d(pool))
      h = Math.floor(h / 2)
      w = Math.floor(w / 2)
    }
  })
  layers.push(
    tf.layers.flatten({ name: "flatten", ...(arch.conv.length === 0 ? { inputShape: [...inputShape] } : {}) })
  )
  arch.dense.forEach((units, i) => {
    layers.push(
      tf.layers.dense({
        name: `dense${i}`,
        units,
        activation: "relu",
        kernelInitializer: tf.initializers.heNormal({ seed: nextSeed() }),
        biasInitializer: "zeros"
      })
    )
  })
  if (arch.dropout > 0) layers.push(tf.layers.dropout({ name: "dropout", rate: arch.dropout }))
  layers.push(
    tf.layers.dense({
      name: "logits",
      units: nClasses,
      kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }),
      biasInitializer: "zeros"
    })
  )
  const model = tf.sequential({ layers })
  return { model, arch, inputShape, nClasses }
}

// Runs the layers eagerly. Conv blocks go through convBlock (one fused op each way) where the
// backend has its kernel; dropout is applied here with a per-step seed (a seeded tfjs Dropout
// layer would draw the same mask every step, an unseeded one is not reproducible).
const forward = (m: CnnModel, x: tf.Tensor, training: boolean, dropoutSeed: number, upTo?: number): tf.Tensor => {
  let y = x
  const layers = m.model.layers
  const end = upTo ?? layers.length
  const fused = convBlockSupported(tf)
  for (let i = 0; i < end; i++) {
    const layer = layers[i]!
    const kind = layer.getClassName()
    if (kind === "Dropout") {
      if (training) y = tf.dropout(y, layer.getConfig()["rate"] as number, undefined, dropoutSeed)
      continue
    }
    if (kind === "Conv2D" && fused) {
      const next = i + 1 < end ? layers[i + 1]!.getClassName() : ""
      const pool = next === "MaxPooling2D" ? "max" : next === "AveragePooling2D" ? "avg" : "none"
      const config = layer.getConfig()
      const [kernel, bias] = layer.getWeights()
      y = convBlock(
        tf,
        y as tf.Tensor4D,
        kernel as tf.Tensor4D,
        bias as tf.Tensor1D,
        {
          strides: (config["strides"] as Array<number>)[0]!,
          pad: config["padding"] as "same" | "valid",
          pool
        },
        i > 0
      )
      if (pool !== "none") i++
      continue
    }
    y = layer.apply(y) as tf.Tensor
  }
  return y
}

/**
 * The logits as a tensor (inference mode unless `training`), for custom losses and gradient
 * checks; the caller disposes the result (or runs inside tf.tidy).
 */
export const cnnLogits = (
  m: CnnModel,
  x: tf.Tensor4D,
  options: { readonly training?: boolean; readonly dropoutSeed?: number } = {}
): tf.Tensor2D => {
  readyBackend()
  return forward(m, x, options.training ?? false, options.dropoutSeed ?? 0) as tf.Tensor2D
}

const checkImages = (images: ImageTensor, inputShape: CnnInputShape | undefined, what: string): void => {
  checkShape(images.data, images.shape)
  if (
    inputShape !== undefined &&
    (images.shape[1] !== inputShape[0] || images.shape[2] !== inputShape[1] || images.shape[3] !== inputShape[2])
  ) {
    throw new Error(`${what} are ${images.shape.slice(1).join("×")} but the model takes ${inputShape.join("×")}.`)
  }
}

const batchTensor = (images: ImageTensor, index: Int32Array | undefined, start: number, end: number): tf.Tensor4D => {
  const size = imageSize(images.shape)
  const n = end - start
  const [, h, w, c] = images.shape
  if (index === undefined) return tf.tensor4d(images.data.subarray(start * size, end * size), [n, h, w, c])
  const out = new Float32Array(n * size)
  for (let i = 0; i < n; i++) {
    const src = index[start + i]! * size
    out.set(images.data.subarray(src, src + size), i * size)
  }
  return tf.tensor4d(out, [n, h, w, c])
}

const labelTensor = (
  labels: Int32Array,
  index: Int32Array | undefined,
  start: number,
  end: number,
  nClasses: number
): tf.Tensor2D => {
  const out = new Int32Array(end - start)
  for (let i = 0; i < out.length; i++) out[i] = labels[index === undefined ? start + i : index[start + i]!]!
  return tf.tidy(() => tf.oneHot(tf.tensor1d(out, "int32"), nClasses) as tf.Tensor2D)
}

const EVAL_BATCH = 256

// Makes sure the active backend can train: wasm needs our gradient kernels (idempotent).
const readyBackend = (): string => {
  const name = tf.getBackend()
  if (name === "wasm") registerWasmGradients(tf)
  registerConvBlockKernels(tf)
  return name
}

/** Mean cross-entropy and accuracy over a labelled set, in inference mode. */
export const evaluateCnn = (
  m: CnnModel,
  images: ImageTensor,
  labels: Int32Array
): { loss: number; accuracy: number } => {
  readyBackend()
  checkImages(images, m.inputShape, "The images")
  const n = images.shape[0]
  if (labels.length !== n) throw new Error(`${n} images but ${labels.length} labels.`)
  let lossSum = 0
  let correct = 0
  for (let start = 0; start < n; start += EVAL_BATCH) {
    const end = Math.min(n, start + EVAL_BATCH)
    const [l, c] = tf.tidy(() => {
      const x = batchTensor(images, undefined, start, end)
      const y = labelTensor(labels, undefined, start, end, m.nClasses)
      const logits = forward(m, x, false, 0)
      const loss = tf.losses.softmaxCrossEntropy(y, logits, undefined, undefined, tf.Reduction.SUM)
      const hits = tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)).sum()
      return [loss.dataSync()[0]!, hits.dataSync()[0]!]
    })
    lossSum += l
    correct += c
  }
  return { loss: n === 0 ? Number.NaN : lossSum / n, accuracy: n === 0 ? Number.NaN : correct / n }
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

  for (const layer of m.model.layers) layer.trainable = !(o.frozen?.has(layer.name) ?? false)
  // an explicit variable list: the default is every trainable variable in the engine
  const vars = m.model.trainableWeights.map((w) => w.read() as tf.Variable)
  const optimizer = o.optimizer === "adam" ? tf.train.adam(o.learningRate) : tf.train.sgd(o.learningRate)
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
      let lossSum = 0
      const t0 = performance.now()
      for (let start = 0; start < n; start += o.batchSize) {
        const end = Math.min(n, start + o.batchSize)
        const dropoutSeed = r.int(2 ** 31 - 1)
        const loss = tf.tidy(() => {
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
      const val = hasVal ? evaluateCnn(m, o.valImages!, o.valLabels!) : { loss: Number.NaN, accuracy: Number.NaN }
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
    optimizer.dispose()
  }
  if (bestWeights !== undefined && bestEpoch !== history.length) restore(m, bestWeights)
  return { model: m, history, bestEpoch, stoppedEarly, firstBatchLoss, backend }
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

/** Class probabilities, rows × classes, row-major. */
export const predictProba = (m: CnnModel, images: ImageTensor): Float64Array => {
  readyBackend()
  checkImages(images, m.inputShape, "The images")
  const n = images.shape[0]
  const out = new Float64Array(n * m.nClasses)
  for (let start = 0; start < n; start += EVAL_BATCH) {
    const end = Math.min(n, start + EVAL_BATCH)
    const p = tf.tidy(() => tf.softmax(forward(m, batchTensor(images, undefined, start, end), false, 0)).dataSync())
    out.set(p, start * m.nClasses)
  }
  return out
}

/** Penultimate-layer activations (the input of the logits layer), for image drift (MMD). */
export const embed = (m: CnnModel, images: ImageTensor): { rows: number; cols: number; data: Float32Array } => {
  readyBackend()
  checkImages(images, m.inputShape, "The images")
  const n = images.shape[0]
  const upTo = m.model.layers.length - 1
  let cols = 0
  const parts: Array<Float32Array> = []
  for (let start = 0; start < n; start += EVAL_BATCH) {
    const end = Math.min(n, start + EVAL_BATCH)
    const e = tf.tidy(() => {
      const y = forward(m, batchTensor(images, undefined, start, end), false, 0, upTo)
      cols = y.shape[1]!
      return y.dataSync() as Float32Array
    })
    parts.push(e)
  }
  if (n === 0) cols = (m.model.layers[upTo]!.getConfig()["units"] as number | undefined) ?? 0
  const data = new Float32Array(n * cols)
  let at = 0
  for (const p of parts) {
    data.set(p, at)
    at += p.length
  }
  return { rows: n, cols, data }
}

const concatWeights = (data: ArrayBuffer | ArrayBuffer[]): Uint8Array => {
  const parts = Array.isArray(data) ? data : [data]
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0))
  let at = 0
  for (const p of parts) {
    out.set(new Uint8Array(p), at)
    at += p.byteLength
  }
  return out
}

/** Serialises to a standard tfjs model.json + weights.bin pair (no file I/O here). */
export const saveCnn = async (
  m: CnnModel,
  extra: { readonly seed?: number; readonly backend?: string; readonly learningRate?: number } = {}
): Promise<CnnArtifact> => {
  let saved: tf.io.ModelArtifacts | undefined
  await m.model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: "JSON" } }
    })
  )
  if (saved === undefined || saved.weightData === undefined || saved.weightSpecs === undefined) {
    throw new Error("tfjs returned no weights to save")
  }
  const modelJson = JSON.stringify({
    format: "layers-model",
    generatedBy: saved.generatedBy,
    convertedBy: null,
    modelTopology: saved.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: saved.weightSpecs }]
  })
  const meta: CnnMeta = {
    format: "driftgate-cnn",
    version: 1,
    arch: m.arch,
    inputShape: m.inputShape,
    nClasses: m.nClasses,
    ...extra
  }
  return { modelJson, weights: concatWeights(saved.weightData), meta }
}

/** Rebuilds a model from saveCnn's output (bytes in memory; the caller read the files). */
export const loadCnn = async (artifact: CnnArtifact): Promise<CnnModel> => {
  const { meta } = artifact
  if (meta.format !== "driftgate-cnn" || meta.version !== 1)
    throw new Error(`Not a driftgate CNN artifact (format ${String(meta.format)}, version ${String(meta.version)}).`)
  const json = JSON.parse(artifact.modelJson) as {
    modelTopology: object
    weightsManifest: Array<{ weights: Array<tf.io.WeightsManifestEntry> }>
  }
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights)
  const bytes = artifact.weights
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData })
  )
  return { model, arch: meta.arch, inputShape: meta.inputShape, nClasses: meta.nClasses }
}

/** Frees the model's variables (tfjs memory is not garbage-collected). */
export const disposeCnn = (m: CnnModel): void => {
  m.model.dispose()
}
