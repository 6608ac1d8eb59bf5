import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { rng } from "../../../../src/domain/random.js"
import { selectTfBackend } from "../../../../src/layers/trainer/tfjs/backend.js"
import { flatAdam, flatSgd, type FlatOptimizer } from "../../../../src/layers/trainer/tfjs/flatOptimizer.js"

// The data-parallel optimizer step (one loop over the shared flat weights) against tfjs's own
// optimizers on the backend that trains (wasm): the same float32 values, bit for bit, step after
// step, for weights laid out as segments with gaps (frozen layers in between).

beforeAll(async () => {
  await selectTfBackend("wasm")
})

const segments = [
  { offset: 3, size: 40 },
  { offset: 50, size: 7 },
  { offset: 60, size: 33 }
]
const total = 100
const trained = segments.reduce((a, s) => a + s.size, 0)

const run = (make: (lr: number) => [tf.Optimizer, FlatOptimizer], lr: number, steps: number) => {
  const r = rng(9)
  const weights = Float32Array.from({ length: total }, () => r.next() * 2 - 1)
  const vars = segments.map((s) => tf.variable(tf.tensor1d(weights.slice(s.offset, s.offset + s.size))))
  const [tfOptimizer, flat] = make(lr)
  for (let step = 0; step < steps; step++) {
    // gradients over several orders of magnitude, some exactly zero
    const grads = Float32Array.from({ length: trained }, (_, i) =>
      i % 11 === 0 ? 0 : (r.next() - 0.5) * 10 ** -(i % 6)
    )
    tf.tidy(() => {
      let at = 0
      tfOptimizer.applyGradients(
        vars.map((v, k) => {
          const tensor = tf.tensor1d(grads.subarray(at, at + segments[k]!.size))
          at += segments[k]!.size
          return { name: v.name, tensor }
        })
      )
    })
    flat.step(weights, segments, grads)
  }
  const expected = vars.map((v) => Array.from(v.dataSync()))
  const got = segments.map((s) => Array.from(weights.subarray(s.offset, s.offset + s.size)))
  tfOptimizer.dispose()
  tf.dispose(vars)
  return { expected, got, untouched: [weights[0], weights[45], weights[99]] }
}

describe("flat optimizer step = tfjs's optimizer, bit for bit", () => {
  it("adam, 25 steps", () => {
    const r = run((lr) => [tf.train.adam(lr), flatAdam(lr, trained)], 2e-3, 25)
    expect(r.got).toEqual(r.expected)
    // the gaps (weights not trained) keep their values
    const again = rng(9)
    const start = Array.from({ length: total }, () => Math.fround(again.next() * 2 - 1))
    expect(r.untouched).toEqual([start[0], start[45], start[99]])
  })
  it("sgd, 25 steps", () => {
    const r = run((lr) => [tf.train.sgd(lr), flatSgd(lr)], 0.05, 25)
    expect(r.got).toEqual(r.expected)
  })
})
