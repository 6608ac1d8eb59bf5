// The small CNN on tfjs as plain functions over typed arrays: build (seeded), run the layers
// (fused conv blocks where the backend has them), evaluate, predict, embed.
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
  // A fixed name: tfjs would number it from a process-wide counter (sequential_1, _2 …), so the same
  // seed would save a different model.json depending on how many models the process built before.
  const model = tf.sequential({ layers, name: "driftgate_cnn" })
  return { model, arch, inputShape, nClasses }
}

// Runs the layers eagerly. Conv blocks go through convBlock (one fused op each way) where the
// backend has its kernel; dropout is applied here with a per-step seed (a seeded tfjs Dropout
// layer would draw the same mask every step, an unseeded one is not reproducible).
// Exported for training (cnnTrain.ts); callers outside the CNN use cnnLogits.
export const forward = (
  m: CnnModel,
  x: tf.Tensor,
  training: boolean,
  dropoutSeed: number,
  upTo?: number,
  /** x is rows [start, start + n) of a batch of `batch` rows: cut dropout masks from the batch's mask. */
  rows?: { readonly batch: number; readonly start: number }
): tf.Tensor => {
  let y = x
  const layers = m.model.layers
  const end = upTo ?? layers.length
  const fused = convBlockSupported(tf)
  for (let i = 0; i < end; i++) {
    const layer = layers[i]!
    const kind = layer.getClassName()
    if (kind === "Dropout") {
      if (!training) continue
      const rate = layer.getConfig()["rate"] as number
      if (rows === undefined) y = tf.dropout(y, rate, undefined, dropoutSeed)
      else {
        // tf.dropout's own multiplier, drawn for the whole batch, then this shard's rows
        const keep = 1 - rate
        const full = tf.div(
          tf.floor(tf.add(tf.randomUniform([rows.batch, ...y.shape.slice(1)], 0, 1, "float32", dropoutSeed), keep)),
          keep
        )
        y = tf.mul(y, tf.slice(full, rows.start, y.shape[0]))
      }
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

export const checkImages = (images: ImageTensor, inputShape: CnnInputShape | undefined, what: string): void => {
  checkShape(images.data, images.shape)
  if (
    inputShape !== undefined &&
    (images.shape[1] !== inputShape[0] || images.shape[2] !== inputShape[1] || images.shape[3] !== inputShape[2])
  ) {
    throw new Error(`${what} are ${images.shape.slice(1).join("×")} but the model takes ${inputShape.join("×")}.`)
  }
}

export const batchTensor = (
  images: ImageTensor,
  index: Int32Array | undefined,
  start: number,
  end: number
): tf.Tensor4D => {
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

export const labelTensor = (
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
export const readyBackend = (): string => {
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

/** Frees the model's variables (tfjs memory is not garbage-collected). */
export const disposeCnn = (m: CnnModel): void => {
  m.model.dispose()
}
