import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either } from "effect"
import { TrainerAll } from "../../../../src/layers/trainer/TrainerAll.js"
import { tfBackendConfig } from "../../../../src/layers/trainer/tfjs/backendConfig.js"
import { Trainer } from "../../../../src/services/Trainer.js"

// DRIFTGATE_TF_BACKEND is read through Effect's Config: the ConfigProvider decides, not process.env.

const provider = (entries: Record<string, string>) => ConfigProvider.fromMap(new Map(Object.entries(entries)))
const read = (entries: Record<string, string>) =>
  Effect.either(tfBackendConfig).pipe(Effect.withConfigProvider(provider(entries)))

// 8 tiny 4×4 greyscale images, two classes (bright top half or bright bottom half)
const images = (() => {
  const n = 8
  const data = new Float64Array(n * 16)
  const y = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    y[i] = i % 2
    for (let p = 0; p < 16; p++) data[i * 16 + p] = p < 8 === (i % 2 === 0) ? 0.9 : 0.1
  }
  return { x: { rows: n, cols: 16, data }, y }
})()

const cnnFit = Effect.flatMap(Trainer, (t) =>
  t.fit({
    kind: "cnn",
    task: "classification",
    params: {
      conv: [{ filters: 2, kernel: 3 }],
      pool: "max",
      dense: [],
      dropout: 0,
      epochs: 1,
      batch_size: 4,
      learning_rate: 0.01,
      optimizer: "adam",
      early_stopping_patience: 1,
      fine_tune_learning_rate_factor: 0.1,
      fine_tune_freeze_layers: 0
    },
    x: images.x,
    y: images.y,
    nClasses: 2,
    featureNames: [],
    seed: 1,
    imageShape: [4, 4, 1]
  })
)

const tabularFit = Effect.flatMap(Trainer, (t) =>
  t.fit({
    kind: "logistic_regression",
    task: "classification",
    params: {},
    x: { rows: 4, cols: 1, data: Float64Array.from([0, 1, 2, 3]) },
    y: Float64Array.from([0, 0, 1, 1]),
    nClasses: 2,
    featureNames: ["a"],
    seed: 1
  })
)

describe("DRIFTGATE_TF_BACKEND through Config", () => {
  it.effect("unset or empty is auto; a known value is taken as it is", () =>
    Effect.gen(function* () {
      expect(yield* read({})).toEqual(Either.right("auto"))
      expect(yield* read({ DRIFTGATE_TF_BACKEND: "" })).toEqual(Either.right("auto"))
      for (const value of ["auto", "node-gpu", "node", "wasm", "cpu"] as const)
        expect(yield* read({ DRIFTGATE_TF_BACKEND: value })).toEqual(Either.right(value))
    })
  )

  it.effect("another value is an error naming the variable, the values it takes and the one given", () =>
    Effect.gen(function* () {
      const r = yield* read({ DRIFTGATE_TF_BACKEND: "tpu" })
      expect(Either.isLeft(r)).toBe(true)
      if (Either.isLeft(r)) {
        expect(String(r.left)).toContain("at DRIFTGATE_TF_BACKEND")
        expect(String(r.left)).toContain("must be one of auto, node-gpu, node, wasm, cpu")
        expect(String(r.left)).toContain('"tpu"')
      }
    })
  )

  it.live(
    "TrainerAll trains a CNN on the backend the ConfigProvider names, whatever process.env says",
    () =>
      Effect.gen(function* () {
        const before = process.env.DRIFTGATE_TF_BACKEND
        process.env.DRIFTGATE_TF_BACKEND = "wasm"
        try {
          const fitted = yield* cnnFit.pipe(
            Effect.provide(TrainerAll),
            Effect.withConfigProvider(provider({ DRIFTGATE_TF_BACKEND: "cpu" }))
          )
          expect(fitted.info.backend).toBe("cpu")
        } finally {
          if (before === undefined) delete process.env.DRIFTGATE_TF_BACKEND
          else process.env.DRIFTGATE_TF_BACKEND = before
        }
      }),
    60_000
  )

  it.live(
    "an invalid value fails the first CNN with the sentence, and leaves tabular learners alone",
    () =>
      Effect.gen(function* () {
        const outcome = yield* Effect.gen(function* () {
          const tabular = yield* tabularFit
          const cnn = yield* Effect.either(cnnFit)
          return { tabular, cnn }
        }).pipe(Effect.provide(TrainerAll), Effect.withConfigProvider(provider({ DRIFTGATE_TF_BACKEND: "tpu" })))
        expect(outcome.tabular.kind).toBe("logistic_regression")
        expect(Either.isLeft(outcome.cnn)).toBe(true)
        if (Either.isLeft(outcome.cnn)) {
          expect(outcome.cnn.left._tag).toBe("TrainingError")
          expect(outcome.cnn.left.message).toContain("DRIFTGATE_TF_BACKEND")
          expect(outcome.cnn.left.message).toContain("must be one of auto, node-gpu, node, wasm, cpu")
        }
      }),
    60_000
  )
})
