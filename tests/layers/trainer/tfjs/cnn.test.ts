import * as fs from "node:fs"
import * as path from "node:path"
import type * as tf from "@tensorflow/tfjs"
import sharp from "sharp"
import { beforeAll, describe, expect, it } from "vitest"
import { rng } from "../../../../src/domain/random.js"
import { selectTfBackend } from "../../../../src/layers/trainer/tfjs/backend.js"
import {
  buildCnn,
  embed,
  evaluateCnn,
  fineTune,
  loadCnn,
  predictProba,
  saveCnn,
  trainCnn,
  type CnnArch
} from "../../../../src/layers/trainer/tfjs/cnn.js"
import type { ImageTensor } from "../../../../src/vision/tensor.js"

// The shipped copy of the real Fashion-MNIST PNGs (data/raw/fashion_mnist, byte-identical to shared/).
const FASHION = new URL("../../../../data/raw/fashion_mnist/images", import.meta.url).pathname

interface Split {
  readonly images: ImageTensor
  readonly labels: Int32Array
}

/** The first `take` PNGs (sorted) of every class, cut into consecutive per-class slices. */
const loadFashion = async (sizes: ReadonlyArray<number>): Promise<Array<Split>> => {
  const classes = fs
    .readdirSync(FASHION)
    .filter((d) => fs.statSync(path.join(FASHION, d)).isDirectory())
    .sort()
  const take = sizes.reduce((a, b) => a + b, 0)
  const perClass = await Promise.all(
    classes.map(async (c) => {
      const files = fs
        .readdirSync(path.join(FASHION, c))
        .filter((f) => f.endsWith(".png"))
        .sort()
        .slice(0, take)
      return Promise.all(
        files.map(async (f) => {
          const { data, info } = await sharp(path.join(FASHION, c, f))
            .greyscale()
            .raw()
            .toBuffer({ resolveWithObject: true })
          expect([info.width, info.height, info.channels]).toEqual([28, 28, 1])
          return Float32Array.from(data, (v) => v / 255)
        })
      )
    })
  )
  let offset = 0
  return sizes.map((size) => {
    const n = size * classes.length
    const data = new Float32Array(n * 784)
    const labels = new Int32Array(n)
    let i = 0
    // interleave classes so a batch is never one class
    for (let k = 0; k < size; k++) {
      perClass.forEach((imgs, c) => {
        data.set(imgs[offset + k]!, i * 784)
        labels[i++] = c
      })
    }
    offset += size
    return { images: { data, shape: [n, 28, 28, 1] as const }, labels }
  })
}

const noise = (n: number, h: number, w: number, c: number, classes: number, seed: number): Split => {
  const r = rng(seed)
  const data = Float32Array.from({ length: n * h * w * c }, () => r.next())
  const labels = Int32Array.from({ length: n }, () => r.int(classes))
  return { images: { data, shape: [n, h, w, c] as const }, labels }
}

const weightsOf = (m: { model: tf.LayersModel }): Array<Float32Array> =>
  m.model.getWeights().map((t) => (t.dataSync() as Float32Array).slice())

const tiny: CnnArch = { conv: [{ filters: 4, kernel: 3 }], pool: "max", dense: [8], dropout: 0.5 }

let train: Split
let val: Split
let test: Split

beforeAll(async () => {
  await selectTfBackend("wasm")
  ;[train, val, test] = await loadFashion([30, 5, 10])
})

describe("trainCnn on real Fashion-MNIST (30 images a class)", () => {
  it("beats chance (10%) by a wide margin on 100 held-out images", async () => {
    const arch: CnnArch = {
      conv: [
        { filters: 8, kernel: 3 },
        { filters: 16, kernel: 3 }
      ],
      pool: "max",
      dense: [32],
      dropout: 0.25
    }
    const seen: Array<number> = []
    const result = await trainCnn({
      images: train.images,
      labels: train.labels,
      valImages: val.images,
      valLabels: val.labels,
      arch,
      epochs: 12,
      batchSize: 32,
      learningRate: 3e-3,
      optimizer: "adam",
      earlyStoppingPatience: 3,
      seed: 42,
      onEpoch: (epoch) => seen.push(epoch)
    })
    expect(result.backend).toBe("wasm")
    expect(seen).toEqual(result.history.map((h) => h.epoch))
    expect(result.history[0]!.imagesPerSecond).toBeGreaterThan(0)
    const { accuracy } = evaluateCnn(result.model, test.images, test.labels)
    expect(accuracy).toBeGreaterThanOrEqual(0.6)
    // probabilities agree with the accuracy and are normalised
    const p = predictProba(result.model, test.images)
    expect(p.length).toBe(100 * 10)
    let hits = 0
    for (let i = 0; i < 100; i++) {
      const row = p.subarray(i * 10, i * 10 + 10)
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
      if (row.indexOf(Math.max(...row)) === test.labels[i]) hits++
    }
    expect(hits / 100).toBeCloseTo(accuracy, 10)
    result.model.model.dispose()
  })
})

describe("determinism", () => {
  it("same seed and backend → bit-identical weights after an epoch (dropout included); another seed differs", async () => {
    const data = noise(48, 10, 10, 1, 3, 7)
    const run = async (seed: number) => {
      const r = await trainCnn({
        ...data,
        arch: tiny,
        epochs: 1,
        batchSize: 16,
        learningRate: 1e-2,
        optimizer: "adam",
        seed
      })
      const w = weightsOf(r.model)
      r.model.model.dispose()
      return { w, loss: r.history[0]!.loss }
    }
    const a = await run(3)
    const b = await run(3)
    const c = await run(4)
    expect(b.loss).toBe(a.loss)
    a.w.forEach((wa, i) => expect(Buffer.from(b.w[i]!.buffer).equals(Buffer.from(wa.buffer))).toBe(true))
    expect(c.w.some((wc, i) => !Buffer.from(wc.buffer).equals(Buffer.from(a.w[i]!.buffer)))).toBe(true)
  })
})

describe("early stopping", () => {
  it("stops when validation loss stops falling and restores the best epoch's weights", async () => {
    // random labels: the net can only memorise, so validation loss soon rises
    const tr = noise(64, 8, 8, 1, 4, 11)
    const va = noise(32, 8, 8, 1, 4, 12)
    const r = await trainCnn({
      ...tr,
      valImages: va.images,
      valLabels: va.labels,
      nClasses: 4,
      arch: { ...tiny, dropout: 0, dense: [32] },
      epochs: 40,
      batchSize: 16,
      learningRate: 1e-2,
      optimizer: "adam",
      earlyStoppingPatience: 2,
      seed: 1
    })
    expect(r.stoppedEarly).toBe(true)
    expect(r.history.length).toBeLessThan(40)
    expect(r.bestEpoch).toBe(r.history.length - 2)
    const best = r.history[r.bestEpoch - 1]!
    expect(Math.min(...r.history.map((h) => h.valLoss))).toBe(best.valLoss)
    expect(evaluateCnn(r.model, va.images, va.labels).loss).toBeCloseTo(best.valLoss, 5)
    r.model.model.dispose()
  })
})

describe("save, load, embed, fine-tune", () => {
  const arch: CnnArch = {
    conv: [
      { filters: 6, kernel: 3 },
      { filters: 8, kernel: 3 }
    ],
    pool: "max",
    dense: [16],
    dropout: 0.1
  }

  it("round-trips through model.json + weights bytes with identical predictions", async () => {
    const r = await trainCnn({
      ...train,
      arch,
      epochs: 1,
      batchSize: 32,
      learningRate: 3e-3,
      optimizer: "adam",
      seed: 5
    })
    const artifact = await saveCnn(r.model, { seed: 5, backend: r.backend, learningRate: 3e-3 })
    const json = JSON.parse(artifact.modelJson) as {
      format: string
      weightsManifest: Array<{ paths: Array<string>; weights: Array<{ shape: Array<number> }> }>
    }
    expect(json.format).toBe("layers-model")
    expect(json.weightsManifest[0]!.paths).toEqual(["weights.bin"])
    const floats = json.weightsManifest[0]!.weights.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0)
    expect(artifact.weights.byteLength).toBe(floats * 4)
    expect(artifact.meta).toMatchObject({
      format: "driftgate-cnn",
      version: 1,
      nClasses: 10,
      inputShape: [28, 28, 1],
      backend: "wasm",
      seed: 5
    })
    // the artifact is plain data: it survives a JSON/bytes round trip as files would
    const loaded = await loadCnn({
      modelJson: artifact.modelJson,
      weights: new Uint8Array(artifact.weights),
      meta: JSON.parse(JSON.stringify(artifact.meta))
    })
    expect(predictProba(loaded, test.images)).toEqual(predictProba(r.model, test.images))
    r.model.model.dispose()
    loaded.model.dispose()
  })

  it("embeds images as the penultimate layer's activations", async () => {
    const m = buildCnn(arch, [28, 28, 1], 10, 1)
    const e = embed(m, test.images)
    expect([e.rows, e.cols, e.data.length]).toEqual([100, 16, 1600])
    expect(e.data.every((v) => v >= 0)).toBe(true) // ReLU outputs
    const flat = buildCnn({ ...arch, dense: [] }, [28, 28, 1], 10, 1)
    expect(embed(flat, test.images).cols).toBe(7 * 7 * 8)
    m.model.dispose()
    flat.model.dispose()
  })

  it("fine-tuning starts from the saved weights (lower first-batch loss than from scratch) and can freeze early layers", async () => {
    const base = await trainCnn({
      ...train,
      arch,
      epochs: 3,
      batchSize: 32,
      learningRate: 3e-3,
      optimizer: "adam",
      seed: 8
    })
    const artifact = await saveCnn(base.model, { learningRate: 3e-3 })
    const conv0Before = base.model.model
      .getLayer("conv0")
      .getWeights()
      .map((t) => (t.dataSync() as Float32Array).slice())
    base.model.model.dispose()

    const scratch = await trainCnn({
      ...val,
      nClasses: 10,
      arch,
      epochs: 1,
      batchSize: 25,
      learningRate: 3e-4,
      optimizer: "adam",
      seed: 9
    })
    const tuned = await fineTune(artifact, {
      ...val,
      epochs: 1,
      batchSize: 25,
      optimizer: "adam",
      seed: 9,
      freezeConvLayers: 1
    })
    expect(tuned.firstBatchLoss).toBeLessThan(scratch.firstBatchLoss)
    expect(tuned.firstBatchLoss).toBeLessThan(Math.log(10))

    const layer = (name: string) =>
      tuned.model.model
        .getLayer(name)
        .getWeights()
        .map((t) => (t.dataSync() as Float32Array).slice())
    expect(layer("conv0")).toEqual(conv0Before)
    const loaded = await loadCnn(artifact)
    expect(layer("conv1")).not.toEqual(
      loaded.model
        .getLayer("conv1")
        .getWeights()
        .map((t) => (t.dataSync() as Float32Array).slice())
    )
    for (const m of [scratch.model, tuned.model, loaded]) m.model.dispose()
  })
})
