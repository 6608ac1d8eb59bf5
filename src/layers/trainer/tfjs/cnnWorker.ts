// A data-parallel CNN replica in a worker thread (started by cnnPool.ts): its own tfjs engine on the
// wasm backend with driftgate's kernels, a copy of the model, and the same shard functions as the
// main thread. Data, weights and gradients live in SharedArrayBuffers the main thread handed over
// once; per step only a small command object is posted, and completion is an Atomics counter.
import { parentPort, workerData } from "node:worker_threads"
import type * as Tf from "@tensorflow/tfjs"
import { selectTfBackend } from "./backend.js"
import { buildCnn, type CnnModel, disposeCnn } from "./cnnNetwork.js"
import {
  CTRL,
  CTRL_BYTES,
  ERROR_BYTES,
  forwardRows,
  layerWeights,
  shardGradients,
  shardOf,
  type WorkerCommand,
  type WorkerInit,
  writeWeights
} from "./cnnShard.js"

const port = parentPort
if (port !== null) {
  const init = workerData as WorkerInit
  const ctrl = new Int32Array(init.ctrl)
  const errorBytes = new Uint8Array(init.ctrl, CTRL_BYTES)
  let tf: typeof Tf
  let model: CnnModel | undefined
  let weights: Float32Array | undefined
  let trainable: ReadonlyArray<number> = []
  let vars: Array<Tf.Variable> = []
  let data:
    | {
        images: { data: Float32Array; shape: readonly [number, number, number, number] }
        labels: Int32Array
        index: Int32Array
        grads: Float32Array
        losses: Float64Array
      }
    | undefined

  const finish = () => {
    Atomics.add(ctrl, CTRL.done, 1)
    Atomics.notify(ctrl, CTRL.done)
  }
  const fail = (e: unknown) => {
    const text = new TextEncoder().encode(
      `CNN worker thread ${init.rank}: ${e instanceof Error ? e.message : String(e)}`.slice(0, 1000)
    )
    errorBytes.set(text.subarray(0, ERROR_BYTES))
    Atomics.store(ctrl, CTRL.errorLength, Math.min(text.length, ERROR_BYTES))
    Atomics.store(ctrl, CTRL.failed, 1)
  }

  const handle = (c: WorkerCommand): void => {
    const { rank, threads } = init
    switch (c.type) {
      case "bind": {
        if (model !== undefined) disposeCnn(model)
        model = buildCnn(c.arch, c.inputShape, c.nClasses, 0)
        weights = new Float32Array(c.weights)
        writeWeights(model, weights)
        trainable = c.trainable
        const all = layerWeights(model)
        vars = trainable.map((i) => all[i]!.read() as Tf.Variable)
        return
      }
      case "data":
        data = {
          images: { data: new Float32Array(c.images), shape: c.shape },
          labels: new Int32Array(c.labels),
          index: new Int32Array(c.index),
          grads: new Float32Array(c.grads),
          losses: new Float64Array(c.losses)
        }
        return
      case "step": {
        if (model === undefined || data === undefined) throw new Error("step before bind/data")
        if (c.reload) writeWeights(model, weights!, trainable)
        const size = data.grads.length / threads
        const [lo, hi] = shardOf(c.end - c.start, rank, threads)
        const out = data.grads.subarray(rank * size, (rank + 1) * size)
        data.losses[rank] = shardGradients(
          model,
          vars,
          { ...data, start: c.start, end: c.end, lo, hi, dropoutSeed: c.dropoutSeed },
          out
        )
        return
      }
      case "forward": {
        if (model === undefined) throw new Error("forward before bind")
        const images = { data: new Float32Array(c.images), shape: c.shape }
        const [lo, hi] = shardOf(c.shape[0], rank, threads)
        const labels = c.labels === undefined ? undefined : new Int32Array(c.labels)
        if (c.what !== "eval") {
          forwardRows(model, c.what, images, lo, hi, new Float32Array(c.out), c.cols)
          return
        }
        const r = forwardRows(model, c.what, images, lo, hi, undefined, c.cols, labels)
        const stats = new Float64Array(c.out)
        stats[2 * rank] = r.loss
        stats[2 * rank + 1] = r.correct
        return
      }
      case "release":
        if (model !== undefined) disposeCnn(model)
        model = undefined
        data = undefined
        weights = undefined
        vars = []
        tf.disposeVariables()
        return
    }
  }

  void selectTfBackend("wasm").then(
    (info) => {
      tf = info.tf
      port.on("message", (c: WorkerCommand) => {
        try {
          handle(c)
        } catch (e) {
          fail(e)
        }
        finish()
      })
      port.postMessage({ ready: true })
    },
    (e: unknown) => port.postMessage({ ready: false, error: e instanceof Error ? e.message : String(e) })
  )
}
