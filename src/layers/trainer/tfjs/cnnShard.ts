// The work one thread does for a data-parallel step or pass: the gradients of its rows of a batch
// (scaled so that the shards' gradients sum to the gradient of the batch's mean loss), or the
// forward pass over its rows. The main thread and every worker (cnnWorker.ts) run these same
// functions on their own tfjs engine, so the only difference from a single-thread step is the
// order in which floats are summed.
import * as tf from "@tensorflow/tfjs"
import type { ImageTensor } from "../../../vision/tensor.js"
import { batchTensor, type CnnArch, type CnnInputShape, type CnnModel, forward, labelTensor } from "./cnnNetwork.js"

/** Rows [lo, hi) of a batch of `size` rows that thread `rank` of `threads` takes (contiguous, even). */
export const shardOf = (size: number, rank: number, threads: number): readonly [number, number] => [
  Math.floor((size * rank) / threads),
  Math.floor((size * (rank + 1)) / threads)
]

/**
 * Every weight of the model in layer order (conv0 kernel, conv0 bias, …). tfjs's model.weights
 * lists trainable weights before frozen ones, so a fine-tune with frozen layers would order them
 * differently from a fresh replica: the flat layouts below always use this order.
 */
export const layerWeights = (m: CnnModel) => m.model.layers.flatMap((l) => l.weights)

/** Offsets of each weight in the flat layout (layerWeights order) and the total length. */
export const weightLayout = (m: CnnModel): { offsets: Array<number>; sizes: Array<number>; total: number } => {
  const offsets: Array<number> = []
  const sizes: Array<number> = []
  let total = 0
  for (const w of layerWeights(m)) {
    const size = w.shape.reduce((a: number, b) => a * (b ?? 1), 1)
    offsets.push(total)
    sizes.push(size)
    total += size
  }
  return { offsets, sizes, total }
}

/** Copies the model's weights (all, or the indices `only`) into `out` (the layout of weightLayout). */
export const readWeights = (m: CnnModel, out: Float32Array, only?: ReadonlyArray<number>): void => {
  const all = layerWeights(m)
  const { offsets } = weightLayout(m)
  for (const i of only ?? all.map((_, k) => k)) out.set(all[i]!.read().dataSync() as Float32Array, offsets[i])
}

/** Sets the model's weights (all, or the indices `only`) from `flat` (the layout of weightLayout). */
export const writeWeights = (m: CnnModel, flat: Float32Array, only?: ReadonlyArray<number>): void => {
  const all = layerWeights(m)
  const { offsets, sizes } = weightLayout(m)
  for (const i of only ?? all.map((_, k) => k)) {
    const w = all[i]!
    const t = tf.tensor(flat.subarray(offsets[i]!, offsets[i]! + sizes[i]!), w.shape as Array<number>)
    w.write(t)
    t.dispose()
  }
}

export interface ShardStep {
  /** The training images, labels and this epoch's order of rows. */
  readonly images: ImageTensor
  readonly labels: Int32Array
  readonly index: Int32Array
  /** The batch is index[start, end); this shard is its rows [lo, hi). */
  readonly start: number
  readonly end: number
  readonly lo: number
  readonly hi: number
  readonly dropoutSeed: number
}

/**
 * Gradients of sum(loss over the shard's rows) / batchSize for `vars`, written one after the other
 * into `out`; returns the shard's summed loss. Dropout masks are cut from the batch-wide mask the
 * single-thread step draws, so a sharded step is the single-thread step up to summation order.
 */
export const shardGradients = (
  m: CnnModel,
  vars: ReadonlyArray<tf.Variable>,
  s: ShardStep,
  out: Float32Array
): number => {
  const batch = s.end - s.start
  if (s.hi <= s.lo) {
    out.fill(0)
    return 0
  }
  return tf.tidy(() => {
    const x = batchTensor(s.images, s.index, s.start + s.lo, s.start + s.hi)
    const y = labelTensor(s.labels, s.index, s.start + s.lo, s.start + s.hi, m.nClasses)
    let lossSum = 0
    const { grads } = tf.variableGrads(() => {
      const logits = forward(m, x, true, s.dropoutSeed, undefined, { batch, start: s.lo })
      const sum = tf.losses.softmaxCrossEntropy(y, logits, undefined, undefined, tf.Reduction.SUM)
      lossSum = sum.dataSync()[0]!
      return tf.div(sum, batch) as tf.Scalar
    }, vars as Array<tf.Variable>)
    let at = 0
    for (const v of vars) {
      const g = grads[v.name]!.dataSync() as Float32Array
      out.set(g, at)
      at += g.length
    }
    return lossSum
  })
}

export type ForwardWhat = "proba" | "embed" | "eval"

/**
 * Inference over rows [lo, hi) of `images`: class probabilities or embeddings written to `out`
 * at those rows (`cols` values each), or for "eval" the summed cross-entropy and the number of
 * correct predictions returned (labels needed).
 */
export const forwardRows = (
  m: CnnModel,
  what: ForwardWhat,
  images: ImageTensor,
  lo: number,
  hi: number,
  out: Float32Array | undefined,
  cols: number,
  labels?: Int32Array,
  evalBatch = 256
): { loss: number; correct: number } => {
  let loss = 0
  let correct = 0
  const upTo = what === "embed" ? m.model.layers.length - 1 : undefined
  for (let start = lo; start < hi; start += evalBatch) {
    const end = Math.min(hi, start + evalBatch)
    tf.tidy(() => {
      const x = batchTensor(images, undefined, start, end)
      const y = forward(m, x, false, 0, upTo)
      if (what === "eval") {
        const t = labelTensor(labels!, undefined, start, end, m.nClasses)
        loss += tf.losses.softmaxCrossEntropy(t, y, undefined, undefined, tf.Reduction.SUM).dataSync()[0]!
        correct += tf.equal(tf.argMax(y, 1), tf.argMax(t, 1)).sum().dataSync()[0]!
        return
      }
      const values = (what === "proba" ? tf.softmax(y) : y).dataSync() as Float32Array
      out!.set(values, start * cols)
    })
  }
  return { loss, correct }
}

// The protocol between the main thread (cnnPool.ts) and its workers (cnnWorker.ts).

/** Slots of the shared Int32Array `ctrl`. */
export const CTRL = { done: 0, failed: 1, errorLength: 2 } as const
/** ctrl's layout: a few Int32 slots, then the text of the first error. */
export const CTRL_BYTES = 64
export const ERROR_BYTES = 4096

export type WorkerCommand =
  | {
      readonly type: "bind"
      readonly arch: CnnArch
      readonly inputShape: CnnInputShape
      readonly nClasses: number
      readonly weights: SharedArrayBuffer
      /** Indices into layerWeights() of the trained variables (their gradients, in this order). */
      readonly trainable: ReadonlyArray<number>
    }
  | {
      readonly type: "data"
      readonly images: SharedArrayBuffer
      readonly shape: readonly [number, number, number, number]
      readonly labels: SharedArrayBuffer
      readonly index: SharedArrayBuffer
      /** threads × (trained weights), one slot per rank, and one float64 loss per rank. */
      readonly grads: SharedArrayBuffer
      readonly losses: SharedArrayBuffer
    }
  | {
      readonly type: "step"
      /** Reload the trained weights from the shared weights first (the optimizer moved them). */
      readonly reload: boolean
      readonly start: number
      readonly end: number
      readonly dropoutSeed: number
    }
  | {
      readonly type: "forward"
      readonly what: ForwardWhat
      readonly images: SharedArrayBuffer
      readonly shape: readonly [number, number, number, number]
      readonly labels?: SharedArrayBuffer
      /** proba/embed: Float32 rows × cols; eval: Float64 [loss sum, correct] per rank. */
      readonly out: SharedArrayBuffer
      readonly cols: number
    }
  | { readonly type: "release" }

export interface WorkerInit {
  readonly rank: number
  readonly threads: number
  readonly ctrl: SharedArrayBuffer
}
