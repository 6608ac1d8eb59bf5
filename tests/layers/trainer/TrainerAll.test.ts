import { describe, expect, it } from "vitest"
import { Effect, Either, Schema } from "effect"
import { CnnParams } from "../../../src/domain/training.js"
import { makeTrainerAll } from "../../../src/layers/trainer/TrainerAll.js"
import { rng } from "../../../src/domain/random.js"

/** A tiny CNN fitted on seeded noise, then variants that differ in one weight byte (distinct contents). */
const setup = async (cacheSize: number) => {
  const trainer = makeTrainerAll(Either.right("cpu"), cacheSize)
  const r = rng(5)
  const rows = 24
  const x = { rows, cols: 8 * 8, data: Float64Array.from({ length: rows * 64 }, () => r.next()) }
  const y = Float64Array.from({ length: rows }, (_, i) => i % 2)
  const params = Schema.decodeUnknownSync(CnnParams)({
    conv: [{ filters: 2, kernel: 3 }],
    dense: [4],
    epochs: 1,
    batch_size: 8
  })
  const fitted = await Effect.runPromise(
    trainer.fit({
      kind: "cnn",
      task: "classification",
      params,
      x,
      y,
      nClasses: 2,
      featureNames: [],
      seed: 1,
      imageShape: [8, 8, 1]
    })
  )
  const json = trainer.encode(fitted)
  const variant = async (k: number) => {
    const doc = JSON.parse(json)
    const bytes = Buffer.from(doc.state.weights, "base64")
    bytes[bytes.length - 1 - k] = (bytes[bytes.length - 1 - k]! + 1) % 256
    doc.state.weights = bytes.toString("base64")
    return Effect.runPromise(trainer.decode(JSON.stringify(doc)))
  }
  const tf = await import("@tensorflow/tfjs")
  return { trainer, x, variant, tf }
}

describe("TrainerAll: the CNN model cache is bounded", () => {
  it("loading ten distinct models keeps at most the cache size loaded; an evicted one still predicts", async () => {
    const { trainer, x, variant, tf } = await setup(2)
    const models = await Promise.all(Array.from({ length: 10 }, (_, k) => variant(k)))
    const first = await Effect.runPromise(trainer.predict(models[0]!, x))
    await Effect.runPromise(trainer.predict(models[1]!, x))
    const base = tf.memory().numTensors
    for (const m of models.slice(2)) await Effect.runPromise(trainer.predict(m, x))
    await new Promise((r) => setTimeout(r, 0))
    // 8 more distinct models went through a cache of 2: the tensors held did not grow with them.
    expect(tf.memory().numTensors).toBeLessThanOrEqual(base)
    // The first model was evicted long ago: it loads again and answers the same.
    const again = await Effect.runPromise(trainer.predict(models[0]!, x))
    expect(Array.from(again.proba!)).toEqual(Array.from(first.proba!))
  }, 60_000)
})
