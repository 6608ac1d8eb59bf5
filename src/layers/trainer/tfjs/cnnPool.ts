// Data-parallel CNN training and inference on the wasm backend, which runs one thread under Node:
// N − 1 worker threads (cnnWorker.ts), each with its own wasm engine and model replica, plus the
// main thread as rank 0. Images, labels, weights and gradients live in SharedArrayBuffers shared
// once; a step posts a small command to each worker, every rank computes the gradients of its rows
// (cnnShard.ts), the main thread sums them in rank order, takes one optimizer step and publishes
// the new weights in the shared buffer, which the workers load before their next step.
import * as os from "node:os"
import type { Worker } from "node:worker_threads"
import { startModuleWorker } from "../../../ml/parallel.js"
import type { ImageTensor } from "../../../vision/tensor.js"
import { checkImages, type CnnModel, embed, predictProba, readyBackend } from "./cnnNetwork.js"
import {
  CTRL,
  CTRL_BYTES,
  ERROR_BYTES,
  type ForwardWhat,
  forwardRows,
  readWeights,
  shardOf,
  writeWeights,
  weightLayout,
  type WorkerCommand,
  type WorkerInit
} from "./cnnShard.js"

/** Cores this process may use. */
export const availableCores = (): number =>
  typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length

/** Rows below which a thread costs more than it saves. */
export const MIN_ROWS_PER_THREAD = 16

/** `training.params.threads` when unset: every core, but at least MIN_ROWS_PER_THREAD rows each. */
export const defaultThreads = (rows: number, cores = availableCores()): number =>
  Math.max(1, Math.min(cores, Math.floor(rows / MIN_ROWS_PER_THREAD)))

interface Pool {
  readonly threads: number
  readonly workers: ReadonlyArray<Worker>
  readonly ctrl: Int32Array
  readonly errorBytes: Uint8Array
  /** The model the replicas hold, and whether a training session owns them. */
  bound: CnnModel | undefined
  busy: boolean
  broken: string | undefined
}

const startWorker = (init: WorkerInit): Worker =>
  startModuleWorker(import.meta.url, "./cnnWorker.ts", "cnn-worker", { workerData: init })

const pools = new Map<number, Promise<Pool>>()
/** The pools that started, for synchronous bookkeeping. */
const started = new Set<Pool>()

const openPool = async (threads: number): Promise<Pool> => {
  const sab = new SharedArrayBuffer(CTRL_BYTES + ERROR_BYTES)
  const workers: Array<Worker> = []
  try {
    for (let rank = 1; rank < threads; rank++) workers.push(startWorker({ rank, threads, ctrl: sab }))
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once("message", (m: { ready: boolean; error?: string }) =>
              m.ready ? resolve() : reject(new Error(m.error ?? "worker failed"))
            )
            w.once("error", reject)
            w.once("exit", (code) => reject(new Error(`worker exited with code ${code}`)))
          })
      )
    )
  } catch (e) {
    for (const w of workers) void w.terminate()
    throw e
  }
  const pool: Pool = {
    threads,
    workers,
    ctrl: new Int32Array(sab, 0, CTRL_BYTES / 4),
    errorBytes: new Uint8Array(sab, CTRL_BYTES),
    bound: undefined,
    busy: false,
    broken: undefined
  }
  // A worker that dies (crash, out of memory, terminated) marks the pool broken and wakes the
  // main thread's wait (runAll waits asynchronously, so these events arrive mid-step).
  workers.forEach((w, i) => {
    w.removeAllListeners()
    w.on("error", (e) => {
      pool.broken ??= `CNN worker thread ${i + 1} failed: ${e instanceof Error ? e.message : String(e)}`
      Atomics.notify(pool.ctrl, CTRL.done)
    })
    w.on("exit", (code) => {
      pool.broken ??= `CNN worker thread ${i + 1} exited with code ${code} (it crashed, ran out of memory or was terminated)`
      Atomics.notify(pool.ctrl, CTRL.done)
    })
    // idle workers do not keep the process alive
    w.unref()
  })
  started.add(pool)
  return pool
}

/** The process-wide pool for `threads` ranks; undefined (use one thread) if workers cannot start. */
const poolOf = async (threads: number): Promise<Pool | undefined> => {
  let p = pools.get(threads)
  if (p === undefined) {
    p = openPool(threads)
    pools.set(threads, p)
  }
  try {
    const pool = await p
    if (pool.broken === undefined) return pool
    // a worker died earlier: replace the whole pool
    pools.delete(threads)
    started.delete(pool)
    for (const w of pool.workers) void w.terminate()
    const fresh = openPool(threads)
    pools.set(threads, fresh)
    return await fresh
  } catch {
    pools.delete(threads)
    return undefined
  }
}

/** The worker threads of the running pool of `threads` ranks, none if it has not started (tests kill one). */
export const poolWorkers = async (threads: number): Promise<ReadonlyArray<Worker>> => {
  const p = pools.get(threads)
  return p === undefined ? [] : ((await p.catch(() => undefined))?.workers ?? [])
}

/** Stops every worker (tests, and a CLI that wants to exit promptly; idle workers never block exit). */
export const closeCnnPools = async (): Promise<void> => {
  const all = [...pools.values()]
  pools.clear()
  started.clear()
  for (const p of all) {
    const pool = await p.catch(() => undefined)
    if (pool !== undefined) await Promise.all(pool.workers.map((w) => w.terminate()))
  }
}

// Node ≥ 16 has Atomics.waitAsync; the project's TypeScript lib (ES2022) does not declare it yet.
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      a: Int32Array,
      index: number,
      value: number,
      timeoutMs: number
    ): { async: false; value: string } | { async: true; value: Promise<string> }
  }
).waitAsync

// No progress for this long means a worker is stuck (a worker that dies is noticed at once).
const STALL_MS = 120_000

/**
 * Posts `command` to every worker, runs the main thread's share, then waits for all of them
 * without blocking the event loop (Atomics.waitAsync), so that a worker's exit or error event is
 * delivered mid-step: a dead worker fails the call promptly with a sentence saying which and why.
 */
const runAll = async (pool: Pool, command: WorkerCommand, mainShare: () => void): Promise<void> => {
  if (pool.broken !== undefined) throw new Error(brokenMessage(pool.broken))
  const { ctrl, workers } = pool
  Atomics.store(ctrl, CTRL.done, 0)
  Atomics.store(ctrl, CTRL.failed, 0)
  // a pending Atomics.waitAsync does not keep Node's event loop alive: the busy workers do (idle
  // ones are unref'd), else a script whose only work is this wait would exit mid-step (code 13)
  for (const w of workers) {
    w.ref()
    w.postMessage(command)
  }
  let mainError: unknown
  try {
    mainShare()
  } catch (e) {
    mainError = e
  }
  try {
    let last = performance.now()
    for (;;) {
      const done = Atomics.load(ctrl, CTRL.done)
      if (done >= workers.length) break
      if (pool.broken !== undefined) throw new Error(brokenMessage(pool.broken))
      const waited = waitAsync(ctrl, CTRL.done, done, 1000)
      if (waited.async) await waited.value
      if (Atomics.load(ctrl, CTRL.done) !== done) last = performance.now()
      else if (performance.now() - last > STALL_MS) {
        pool.broken = `a CNN worker thread stopped answering for ${STALL_MS / 1000} s`
        throw new Error(brokenMessage(pool.broken))
      }
    }
  } finally {
    for (const w of workers) w.unref()
  }
  if (mainError !== undefined) throw mainError
  if (Atomics.load(ctrl, CTRL.failed) !== 0) {
    const n = Atomics.load(ctrl, CTRL.errorLength)
    throw new Error(new TextDecoder().decode(pool.errorBytes.slice(0, n)))
  }
}

const brokenMessage = (why: string): string =>
  `${why}; the data-parallel CNN step cannot finish (rerun, or set training.params.threads to 1)`

const shared = <T extends Float32Array | Int32Array | Float64Array>(
  Ctor: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number },
  length: number
): T => new Ctor(new SharedArrayBuffer(Math.max(1, length) * Ctor.BYTES_PER_ELEMENT))

const sab = (a: { readonly buffer: ArrayBufferLike }): SharedArrayBuffer => a.buffer as SharedArrayBuffer

const sharedImages = (images: ImageTensor) => {
  const data = shared(Float32Array, images.data.length)
  data.set(images.data)
  return { data, shape: images.shape }
}

/** Loads `m`'s current weights into every replica (all layers; `trainable` = indices of layerWeights). */
const bind = async (pool: Pool, m: CnnModel, trainable: ReadonlyArray<number>): Promise<Float32Array> => {
  const weights = shared(Float32Array, weightLayout(m).total)
  readWeights(m, weights)
  await runAll(
    pool,
    {
      type: "bind",
      arch: m.arch,
      inputShape: m.inputShape,
      nClasses: m.nClasses,
      weights: sab(weights),
      trainable
    },
    () => undefined
  )
  pool.bound = m
  return weights
}

export interface TrainingSession {
  readonly threads: number
  /** This epoch's order of the training rows. */
  setIndex(index: Int32Array): void
  /**
   * The gradient of the mean loss of batch index[start, end) for the trained weights (flat, in
   * their layerWeights order, summed over ranks in rank order) and the batch's summed loss.
   * `mainShare(lo, hi, out)` computes rank 0's rows into out and returns their summed loss.
   */
  step(
    start: number,
    end: number,
    dropoutSeed: number,
    mainShare: (lo: number, hi: number, out: Float32Array) => number
  ): Promise<{ readonly grads: Float32Array; readonly lossSum: number }>
  /**
   * Every weight of the model, flat in layerWeights order, shared with the replicas: the optimizer
   * updates the trained `segments` (in the gradients' order) here, then calls publish().
   */
  readonly weights: Float32Array
  readonly segments: ReadonlyArray<{ readonly offset: number; readonly size: number }>
  /** After the optimizer step on `weights`: the main thread's model and the replicas load them. */
  publish(): void
  /** Loss and accuracy over a labelled set, split over the ranks. */
  evaluate(images: ImageTensor, labels: Int32Array): Promise<{ loss: number; accuracy: number }>
  close(): void
}

/**
 * A data-parallel training session over `threads` ranks for `m` (trained weights: the indices
 * `trainable` of layerWeights(m)); undefined when the workers cannot start or the pool is in use,
 * and the caller trains on one thread.
 */
export const openTrainingSession = async (
  m: CnnModel,
  trainable: ReadonlyArray<number>,
  images: ImageTensor,
  labels: Int32Array,
  threads: number
): Promise<TrainingSession | undefined> => {
  if (threads < 2) return undefined
  const pool = await poolOf(threads)
  if (pool === undefined || pool.busy) return undefined
  pool.busy = true
  try {
    const weights = await bind(pool, m, trainable)
    const { offsets, sizes } = weightLayout(m)
    const trainedSize = trainable.reduce((a, i) => a + sizes[i]!, 0)
    const data = sharedImages(images)
    const sharedLabels = shared(Int32Array, labels.length)
    sharedLabels.set(labels)
    const index = shared(Int32Array, images.shape[0])
    const grads = shared(Float32Array, threads * trainedSize)
    const losses = shared(Float64Array, threads)
    await runAll(
      pool,
      {
        type: "data",
        images: sab(data.data),
        shape: data.shape,
        labels: sab(sharedLabels),
        index: sab(index),
        grads: sab(grads),
        losses: sab(losses)
      },
      () => undefined
    )
    const sum = new Float32Array(trainedSize)
    let reload = false
    let valCache: { images: ImageTensor; labels: Int32Array; data: ReturnType<typeof sharedImages>; l: Int32Array }
    let closed = false
    return {
      threads,
      weights,
      segments: trainable.map((i) => ({ offset: offsets[i]!, size: sizes[i]! })),
      setIndex: (order) => index.set(order),
      step: async (start, end, dropoutSeed, mainShare) => {
        await runAll(pool, { type: "step", reload, start, end, dropoutSeed }, () => {
          const [lo, hi] = shardOf(end - start, 0, threads)
          losses[0] = mainShare(lo, hi, grads.subarray(0, trainedSize))
        })
        reload = false
        // rank order, so a given thread count always sums the same way
        sum.set(grads.subarray(0, trainedSize))
        let lossSum = losses[0]!
        for (let r = 1; r < threads; r++) {
          const g = grads.subarray(r * trainedSize, (r + 1) * trainedSize)
          for (let k = 0; k < trainedSize; k++) sum[k] = sum[k]! + g[k]!
          lossSum += losses[r]!
        }
        return { grads: sum, lossSum }
      },
      publish: () => {
        writeWeights(m, weights, trainable)
        reload = true
      },
      evaluate: async (valImages, valLabels) => {
        if (valCache === undefined || valCache.images !== valImages || valCache.labels !== valLabels) {
          const l = shared(Int32Array, valLabels.length)
          l.set(valLabels)
          valCache = { images: valImages, labels: valLabels, data: sharedImages(valImages), l }
        }
        if (reload) {
          // the replicas evaluate the weights of the last optimizer step
          await runAll(pool, { type: "step", reload: true, start: 0, end: 0, dropoutSeed: 0 }, () => undefined)
          reload = false
        }
        return evaluateOn(pool, m, valCache.data, valCache.l)
      },
      close: () => {
        if (closed) return
        closed = true
        pool.busy = false
        // the model will change (best weights restored, fine-tuned): replicas must load it again
        pool.bound = undefined
      }
    }
  } catch (e) {
    pool.busy = false
    pool.bound = undefined
    throw e
  }
}

const evaluateOn = async (
  pool: Pool,
  m: CnnModel,
  images: { data: Float32Array; shape: ImageTensor["shape"] },
  labels: Int32Array
): Promise<{ loss: number; accuracy: number }> => {
  const n = images.shape[0]
  const stats = shared(Float64Array, 2 * pool.threads)
  await runAll(
    pool,
    {
      type: "forward",
      what: "eval",
      images: sab(images.data),
      shape: images.shape,
      labels: sab(labels),
      out: sab(stats),
      cols: 0
    },
    () => {
      const [lo, hi] = shardOf(n, 0, pool.threads)
      const r = forwardRows(m, "eval", images, lo, hi, undefined, 0, labels)
      stats[0] = r.loss
      stats[1] = r.correct
    }
  )
  let loss = 0
  let correct = 0
  for (let r = 0; r < pool.threads; r++) {
    loss += stats[2 * r]!
    correct += stats[2 * r + 1]!
  }
  return { loss: n === 0 ? Number.NaN : loss / n, accuracy: n === 0 ? Number.NaN : correct / n }
}

/**
 * Inference over `images` split across `threads` ranks: probabilities (rows × classes) or
 * embeddings (rows × cols), Float32, row-major. undefined when it would not pay (too few rows, one
 * thread) or the pool is unavailable or training: the caller runs on one thread.
 */
export const forwardParallel = async (
  m: CnnModel,
  what: Exclude<ForwardWhat, "eval">,
  images: ImageTensor,
  cols: number,
  threads: number
): Promise<Float32Array | undefined> => {
  const n = images.shape[0]
  const t = Math.min(threads, Math.floor(n / MIN_ROWS_PER_THREAD))
  if (t < 2) return undefined
  const pool = await poolOf(t)
  if (pool === undefined || pool.busy) return undefined
  if (pool.bound !== m) await bind(pool, m, [])
  const data = sharedImages(images)
  const out = shared(Float32Array, n * cols)
  await runAll(
    pool,
    {
      type: "forward",
      what,
      images: sab(data.data),
      shape: data.shape,
      out: sab(out),
      cols
    },
    () => {
      const [lo, hi] = shardOf(n, 0, t)
      forwardRows(m, what, data, lo, hi, out, cols)
    }
  )
  return out
}

/** The replicas no longer hold `m` (its weights are about to change outside a session). */
export const forgetModel = (m: CnnModel): void => {
  for (const pool of started) if (pool.bound === m) pool.bound = undefined
}

/** Class probabilities (rows × classes, row-major), on every thread where the rows are enough. */
export const predictProbaParallel = async (
  m: CnnModel,
  images: ImageTensor,
  threads = availableCores()
): Promise<Float64Array> => {
  if (readyBackend() === "wasm") {
    checkImages(images, m.inputShape, "The images")
    const out = await forwardParallel(m, "proba", images, m.nClasses, threads)
    if (out !== undefined) return Float64Array.from(out)
  }
  return predictProba(m, images)
}

/** Penultimate-layer activations (embed's result), on every thread where the rows are enough. */
export const embedParallel = async (
  m: CnnModel,
  images: ImageTensor,
  threads = availableCores()
): Promise<{ rows: number; cols: number; data: Float32Array }> => {
  if (readyBackend() === "wasm") {
    checkImages(images, m.inputShape, "The images")
    const layers = m.model.layers
    const cols = (layers[layers.length - 2]!.outputShape as Array<number>).at(-1)!
    const out = await forwardParallel(m, "embed", images, cols, threads)
    if (out !== undefined) return { rows: images.shape[0], cols, data: out }
  }
  return embed(m, images)
}
