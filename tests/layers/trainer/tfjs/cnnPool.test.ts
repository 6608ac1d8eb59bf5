import { spawnSync } from "node:child_process"
import * as tf from "@tensorflow/tfjs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { rng } from "../../../../src/domain/random.js"
import { selectTfBackend } from "../../../../src/layers/trainer/tfjs/backend.js"
import {
  buildCnn,
  closeCnnPools,
  defaultThreads,
  disposeCnn,
  embed,
  embedParallel,
  predictProba,
  predictProbaParallel,
  trainCnn,
  type CnnArch
} from "../../../../src/layers/trainer/tfjs/cnn.js"
import { forward, labelTensor, batchTensor } from "../../../../src/layers/trainer/tfjs/cnnNetwork.js"
import { poolWorkers } from "../../../../src/layers/trainer/tfjs/cnnPool.js"
import { shardGradients, shardOf } from "../../../../src/layers/trainer/tfjs/cnnShard.js"

// Data-parallel training and inference (cnnPool.ts). The claim under test: a sharded step is the
// single-thread step up to float summation order, so
//  - the shards' gradients sum to the batch gradient within 1e-5 of its largest component
//    (float32 sums of 32–64 terms in another order: a few ulps of the largest term),
//  - two threads train weights within 1e-4 of one thread's after 2 epochs of Adam at lr 1e-3
//    (Adam's step is ≤ lr per weight, so the drift is bounded by lr × the few steps where a
//    gradient component is near zero and its sign may flip; measured: ~1e-5),
//  - a given thread count is bit-for-bit deterministic,
//  - inference is row-independent: identical probabilities and embeddings on 1 or 2 threads.

const arch: CnnArch = {
  conv: [
    { filters: 4, kernel: 3 },
    { filters: 8, kernel: 3 }
  ],
  pool: "max",
  dense: [12],
  dropout: 0.3
}

const synthetic = (n: number, seed: number) => {
  const r = rng(seed)
  const data = new Float32Array(n * 12 * 12 * 2)
  for (let i = 0; i < data.length; i++) data[i] = r.next()
  const labels = Int32Array.from({ length: n }, () => r.int(3))
  return { images: { data, shape: [n, 12, 12, 2] as const }, labels }
}

const maxAbs = (a: ArrayLike<number>) => {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!))
  return m
}
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}
const flatWeights = (m: { model: tf.LayersModel }) =>
  Float32Array.from(m.model.getWeights().flatMap((w) => Array.from(w.dataSync())))

beforeAll(async () => {
  await selectTfBackend("wasm")
})
afterAll(async () => {
  await closeCnnPools()
})

describe("shards", () => {
  it("cover a batch's rows exactly once, in order, for any thread count", () => {
    for (const size of [1, 7, 32, 64, 65])
      for (const threads of [1, 2, 3, 8]) {
        let next = 0
        for (let r = 0; r < threads; r++) {
          const [lo, hi] = shardOf(size, r, threads)
          expect(lo).toBe(next)
          expect(hi).toBeGreaterThanOrEqual(lo)
          next = hi
        }
        expect(next).toBe(size)
      }
  })

  it("default thread count: every core, at least 16 rows each, 1 for tiny batches", () => {
    expect(defaultThreads(8, 2)).toBe(1)
    expect(defaultThreads(32, 2)).toBe(2)
    expect(defaultThreads(64, 16)).toBe(4)
    expect(defaultThreads(512, 16)).toBe(16)
  })

  it("gradients of the shards (dropout included) sum to the batch's gradient", () => {
    const m = buildCnn(arch, [12, 12, 2], 3, 5)
    const { images, labels } = synthetic(24, 9)
    const index = Int32Array.from({ length: 24 }, (_, i) => (i * 7) % 24)
    const vars = m.model.trainableWeights.map((w) => w.read() as tf.Variable)
    const [start, end, seed] = [0, 24, 1234]
    const whole = tf.tidy(() => {
      const x = batchTensor(images, index, start, end)
      const y = labelTensor(labels, index, start, end, 3)
      const { grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, forward(m, x, true, seed)) as tf.Scalar,
        vars
      )
      return Float32Array.from(vars.flatMap((v) => Array.from(grads[v.name]!.dataSync())))
    })
    for (const threads of [2, 3]) {
      const sum = new Float32Array(whole.length)
      const part = new Float32Array(whole.length)
      for (let r = 0; r < threads; r++) {
        const [lo, hi] = shardOf(end - start, r, threads)
        shardGradients(m, vars, { images, labels, index, start, end, lo, hi, dropoutSeed: seed }, part)
        for (let k = 0; k < sum.length; k++) sum[k] = sum[k]! + part[k]!
      }
      expect(maxDiff(sum, whole)).toBeLessThanOrEqual(1e-5 * maxAbs(whole))
    }
    // a different dropout seed changes the gradient: the masks really are applied
    const other = new Float32Array(whole.length)
    shardGradients(m, vars, { images, labels, index, start, end, lo: 0, hi: 24, dropoutSeed: 99 }, other)
    expect(maxDiff(other, whole)).toBeGreaterThan(1e-3 * maxAbs(whole))
    disposeCnn(m)
  })
})

describe("data-parallel training on worker threads", () => {
  const { images, labels } = synthetic(96, 3)
  const valid = synthetic(40, 4)
  const run = (threads: number) =>
    trainCnn({
      images,
      labels,
      valImages: valid.images,
      valLabels: valid.labels,
      arch,
      nClasses: 3,
      epochs: 2,
      batchSize: 32,
      learningRate: 1e-3,
      optimizer: "adam",
      seed: 11,
      threads
    })

  it("matches one thread up to summation order, and is bit-identical for a given thread count", async () => {
    const one = await run(1)
    const two = await run(2)
    const again = await run(2)
    expect(one.threads).toBe(1)
    expect(two.threads).toBe(2)
    expect(two.firstBatchLoss).toBeCloseTo(one.firstBatchLoss, 5)
    two.history.forEach((h, i) => {
      expect(h.loss).toBeCloseTo(one.history[i]!.loss, 4)
      expect(h.valLoss).toBeCloseTo(one.history[i]!.valLoss, 4)
    })
    const w1 = flatWeights(one.model)
    const w2 = flatWeights(two.model)
    expect(maxDiff(w2, w1)).toBeLessThanOrEqual(1e-4)
    expect(maxDiff(w2, w1)).toBeLessThan(maxDiff(w1, flatWeights(buildCnn(arch, [12, 12, 2], 3, 11))) / 10)
    expect(Array.from(flatWeights(again.model))).toEqual(Array.from(w2))
    for (const r of [one, two, again]) disposeCnn(r.model)
  })

  it("fails promptly, naming the dead worker, when a worker thread dies mid-training; the next run gets a fresh pool", async () => {
    // 3 ranks (2 workers): kill worker 2 after the first epoch, while the main thread trains on
    let killed = false
    const t0 = performance.now()
    const failed = trainCnn({
      images,
      labels,
      arch,
      nClasses: 3,
      epochs: 50,
      batchSize: 48,
      learningRate: 1e-3,
      optimizer: "adam",
      seed: 11,
      threads: 3,
      onEpoch: () => {
        if (killed) return
        killed = true
        void poolWorkers(3).then((ws) => ws[1]!.terminate())
      }
    })
    await expect(failed).rejects.toThrow(/CNN worker thread 2 exited with code 1 .*threads to 1/)
    expect(killed).toBe(true)
    // without detection the main thread would wait 120 s for the dead worker
    expect(performance.now() - t0).toBeLessThan(60_000)
    const again = await trainCnn({
      images,
      labels,
      arch,
      nClasses: 3,
      epochs: 1,
      batchSize: 48,
      learningRate: 1e-3,
      optimizer: "adam",
      seed: 11,
      threads: 3
    })
    expect(again.threads).toBe(3)
    disposeCnn(again.model)
  }, 120_000)

  it("runs in a process with nothing else to do, and lets it exit afterwards", () => {
    // the main thread's wait for the workers does not hold the event loop by itself: a bare
    // script used to exit with code 13 (unsettled top-level await) in the middle of a step
    const child = spawnSync(
      process.execPath,
      ["--import", "tsx", new URL("./cnnPool-child.ts", import.meta.url).pathname],
      { encoding: "utf8", timeout: 110_000 }
    )
    expect(child.status, child.stderr).toBe(0)
    expect(JSON.parse(child.stdout.trim().split("\n").at(-1)!)).toEqual({ threads: 2, epochs: 2 })
  }, 120_000)

  it("rejects a thread count that is not a whole number ≥ 1", async () => {
    await expect(run(0)).rejects.toThrow("threads must be a whole number ≥ 1, got 0")
    await expect(run(1.5)).rejects.toThrow("threads must be a whole number ≥ 1, got 1.5")
  })
})

describe("data-parallel inference", () => {
  it("gives the single-thread probabilities and embeddings, in row order", async () => {
    const m = buildCnn(arch, [12, 12, 2], 3, 21)
    const { images } = synthetic(70, 8)
    expect(Array.from(await predictProbaParallel(m, images, 2))).toEqual(Array.from(predictProba(m, images)))
    const e1 = embed(m, images)
    const e2 = await embedParallel(m, images, 2)
    expect([e2.rows, e2.cols]).toEqual([e1.rows, e1.cols])
    expect(Array.from(e2.data)).toEqual(Array.from(e1.data))
    // another model in the same pool: the replicas load its weights
    const m2 = buildCnn(arch, [12, 12, 2], 3, 22)
    expect(Array.from(await predictProbaParallel(m2, images, 2))).toEqual(Array.from(predictProba(m2, images)))
    disposeCnn(m)
    disposeCnn(m2)
  })
})
