import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, ManagedRuntime } from "effect"
import type { FastifyInstance } from "fastify"
import * as fs from "node:fs"
import * as path from "node:path"
import { defaultServeConfig } from "../../src/domain/serveConfig.js"
import { testLayer } from "../../src/layers/test.js"
import type { ModelSource } from "../../src/programs/serve/modelSet.js"
import { readPredictionLog } from "../../src/programs/serve/predictionLog.js"
import { modelSource } from "../../src/programs/serve/serve.js"
import { makeServer } from "../../src/programs/serve/server.js"
import { Storage } from "../../src/services/Storage.js"
import { configVariant, root, runConfig } from "./helpers.js"

// A tiny Fashion-MNIST CNN (2 epochs, no analysis) trained by the real pipeline on in-memory layers,
// then served: base64 PNGs in, class labels and probabilities out.

const approve = { outcome: "approved" as const, by: "user:test", reason: "ok" }
const runtime = ManagedRuntime.make(testLayer({ decisions: [approve, approve] }))
const CLASSES = fs.readdirSync(path.join(root, "data/raw/fashion_mnist/images")).sort()
const png = (cls: string, i = 0) => {
  const dir = path.join(root, "data/raw/fashion_mnist/images", cls)
  return fs.readFileSync(path.join(dir, fs.readdirSync(dir).sort()[i]!)).toString("base64")
}

let source: ModelSource
let app: FastifyInstance

beforeAll(async () => {
  const file = configVariant("fashion_mnist.yaml", (t) =>
    t
      .replace("epochs: 12", "epochs: 2")
      .replace(/stages: \[.*\]/, "stages: [preprocessing, training, evaluation, promotion]")
      .replace(
        /rules:[\s\S]*?deployment:/,
        'rules:\n    - { id: min_accuracy, metric: accuracy, operator: ">=", threshold: 0.0 }\ndeployment:'
      )
  )
  const r = await runtime.runPromise(runConfig(file))
  if (r.status !== "completed")
    throw new Error(
      `pipeline ended ${r.status}: ${JSON.stringify(r.report.stages.map((s) => [s.name, s.status, s.error]))}`
    )
  source = modelSource(await runtime.runtime(), { stage: "Production", maxBatchRows: 4 })
  const sink = {
    append: (key: string, text: string) => runtime.runPromise(Effect.flatMap(Storage, (s) => s.append(key, text)))
  }
  app = await makeServer({
    source,
    config: { ...defaultServeConfig(), max_batch_rows: 4 },
    log: () => {},
    predictionSink: sink
  })
}, 120_000)

afterAll(async () => {
  await app?.close()
  await runtime.dispose()
})

const predict = (payload: unknown) =>
  app.inject({ method: "POST", url: "/predict/fashion-mnist", payload: payload as object })

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0)

describe("serve: image models", () => {
  it("lists the image model with its task type and input shape", async () => {
    const res = await app.inject({ method: "GET", url: "/models" })
    expect(res.statusCode).toBe(200)
    const m = res.json().models.find((x: { name: string }) => x.name === "fashion-mnist")
    expect(m).toMatchObject({
      task_type: "image_classification",
      algorithm: "cnn",
      input_shape: [28, 28, 1],
      classes: CLASSES
    })
    expect(res.json().notes).toEqual([])
    const page = await app.inject({ method: "GET", url: "/" })
    expect(page.body).toContain('data-image-model="fashion-mnist"')
    expect(page.body).toContain('type="file"')
  })

  it("predicts one base64 PNG: a class label and 10 probabilities summing to 1", async () => {
    const res = await predict({ image: png("trouser") })
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ model: "fashion-mnist", version: 1, stage: "Production" })
    expect(body.request_id).toBe(res.headers["x-request-id"])
    expect(CLASSES).toContain(body.prediction)
    expect(Object.keys(body.probabilities).sort()).toEqual(CLASSES)
    expect(sum(body.probabilities)).toBeCloseTo(1, 4)
  })

  it("predicts a batch of 3 and logs hashes, not pixels", async () => {
    const res = await predict({ images: [png("bag"), png("sneaker"), png("coat", 1)] })
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json()
    expect(body.predictions).toHaveLength(3)
    for (const p of body.predictions) expect(CLASSES).toContain(p)
    expect(body.probabilities).toHaveLength(3)
    for (const p of body.probabilities) expect(sum(p)).toBeCloseTo(1, 4)
    await app.close() // flushes the prediction log
    const logged = await runtime.runPromise(Effect.flatMap(Storage, (s) => readPredictionLog(s, "fashion-mnist")))
    const rows = logged.filter((r) => r.request_id === body.request_id)
    expect(rows).toHaveLength(3)
    expect(rows[0]!.features).toEqual({
      image_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      bytes: Buffer.from(png("bag"), "base64").length
    })
    app = await makeServer({ source, config: { ...defaultServeConfig(), max_batch_rows: 4 }, log: () => {} })
  })

  it("rejects garbage, extra fields and too many images with 422 naming the field", async () => {
    const notBase64 = await predict({ image: "this is not base64!" })
    expect(notBase64.statusCode).toBe(422)
    expect(notBase64.json().fields[0].field).toBe("image")
    const notImage = await predict({
      images: [png("bag"), Buffer.from("definitely not a png file").toString("base64")]
    })
    expect(notImage.statusCode).toBe(422)
    expect(notImage.json()).toMatchObject({ error: "undecodable_image", fields: [{ field: "images[1]" }] })
    const extra = await predict({ image: png("bag"), extra: 1 })
    expect(extra.statusCode).toBe(422)
    expect(extra.json().fields.map((f: { field: string }) => f.field)).toContain("extra")
    const tabular = await predict({ features: { image: png("bag") } })
    expect(tabular.statusCode).toBe(422)
    const many = await predict({ images: Array.from({ length: 5 }, () => png("bag")) })
    expect(many.statusCode).toBe(422)
    expect(many.json().fields[0]).toEqual({ field: "images", message: "has more than 4 images (max_batch_rows)" })
    const number = await predict({ image: 12 })
    expect(number.statusCode).toBe(422)
  })

  it("refuses formats outside the model's contract and huge canvases (422), so uploads cannot burn the CPU", async () => {
    const sharp = (await import("sharp")).default
    const file = path.join(
      root,
      "data/raw/fashion_mnist/images/bag",
      fs.readdirSync(path.join(root, "data/raw/fashion_mnist/images/bag"))[0]!
    )
    const gif = (await sharp(file).gif().toBuffer()).toString("base64")
    const wrong = await predict({ image: gif })
    expect(wrong.statusCode).toBe(422)
    expect(wrong.json()).toMatchObject({ error: "undecodable_image" })
    expect(JSON.stringify(wrong.json())).toContain("gif")
    const huge = (
      await sharp({ create: { width: 5000, height: 5000, channels: 3, background: { r: 0, g: 0, b: 0 } } })
        .png()
        .toBuffer()
    ).toString("base64")
    const big = await predict({ image: huge })
    expect(big.statusCode).toBe(422)
    expect(big.json()).toMatchObject({ error: "undecodable_image" })
  })
})
