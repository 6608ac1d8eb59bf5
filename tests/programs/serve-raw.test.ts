import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, ManagedRuntime } from "effect"
import type { FastifyInstance } from "fastify"
import * as fs from "node:fs"
import * as path from "node:path"
import { type IspParams, defaultIspParams } from "../../src/domain/isp.js"
import { defaultServeConfig } from "../../src/domain/serveConfig.js"
import { testLayer } from "../../src/layers/test.js"
import { loadConfig } from "../../src/programs/loadConfig.js"
import { decodeRawBytes, ispConfigOf } from "../../src/programs/rawImages.js"
import { trainedIsp as trainedIspOf } from "../../src/programs/scoring.js"
import type { ModelSource, ServedModel } from "../../src/programs/serve/modelSet.js"
import { modelSource } from "../../src/programs/serve/serve.js"
import { reportKeys } from "../../src/programs/workspace.js"
import { Storage } from "../../src/services/Storage.js"
import { makeServer } from "../../src/programs/serve/server.js"
import { ispParamsOf } from "../../src/domain/isp.js"
import { configVariant, root, runConfig } from "./helpers.js"

// Issue #15: a model trained by a raw (DNG) pipeline serves DNG uploads through the same ISP as
// training. The pipeline below trains with ISP parameters far from the defaults (Malvar demosaic,
// warmer white balance, gamma 1.6, no sharpening), so a server that rendered uploads any other way
// (defaults, or the PNG/JPEG path) would feed the model other pixels than it was trained on.

const approve = { outcome: "approved" as const, by: "user:test", reason: "ok" }
const runtime = ManagedRuntime.make(testLayer({ decisions: [approve, approve] }))
const images = path.join(root, "data/raw/dng_scenes/images")
const CLASSES = fs.readdirSync(images).sort()
const dng = (cls: string, i = 0): Buffer => {
  const dir = path.join(images, cls)
  return fs.readFileSync(path.join(dir, fs.readdirSync(dir).sort()[i]!))
}

let file: string
let runId: string
let source: ModelSource
let app: FastifyInstance

beforeAll(async () => {
  file = configVariant("dng_scenes.yaml", (t) =>
    t
      .replace("demosaic: bilinear ", "demosaic: malvar ")
      .replace(
        "white_balance: { red_scale: 1.0, blue_scale: 1.0 }",
        "white_balance: { red_scale: 1.2, blue_scale: 0.9 }"
      )
      .replace("sharpen: { amount: 0.5, sigma: 1.0 }", "sharpen: { amount: 0, sigma: 1.0 }")
      .replace("gamma: { curve: power, value: 2.2 }", "gamma: { curve: power, value: 1.6 }")
      .replace("epochs: 15", "epochs: 1")
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
  runId = r.runId
  source = modelSource(await runtime.runtime(), { stage: "Production", maxBatchRows: 4 })
  app = await makeServer({ source, config: { ...defaultServeConfig(), max_batch_rows: 4 }, log: () => {} })
}, 300_000)

afterAll(async () => {
  await app?.close()
  await runtime.dispose()
})

const predict = (payload: unknown) =>
  app.inject({ method: "POST", url: "/predict/dng-scenes", payload: payload as object })

/** The pipeline's own ISP parameters, read from the config as training read them. */
const trainedIsp = async (): Promise<IspParams> => {
  const loaded = await runtime.runPromise(loadConfig(file))
  return ispParamsOf(ispConfigOf(loaded.config))
}

const served = async (): Promise<ServedModel> => {
  const m = (await source.load()).models.get("dng-scenes")
  if (m?.image == null) throw new Error("dng-scenes is not served as an image model")
  return m
}

const render = async (bytes: ReadonlyArray<Uint8Array>, isp: IspParams) =>
  runtime.runPromise(decodeRawBytes(bytes, { target_size: [32, 32], channels: 3 }, isp))

describe("serve: a raw (DNG) model", () => {
  it("renders an upload with the training ISP: the same tensor as training's renderer, not the defaults'", async () => {
    const m = await served()
    const isp = await trainedIsp()
    expect(isp.demosaic).toBe("malvar")
    expect(isp.gamma.value).toBe(1.6)
    const bytes = [dng("coffee", 3), dng("rocket", 7)]
    const x = await m.image!.decode(bytes)
    const expected = await render(bytes, isp)
    expect(x.rows).toBe(2)
    expect(Array.from(x.data)).toEqual(Array.from(expected.data))
    // What a server on the default ISP would have fed the model differs clearly.
    const defaults = await render(bytes, defaultIspParams())
    let maxDiff = 0
    for (let i = 0; i < defaults.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(defaults.data[i]! - x.data[i]!))
    expect(maxDiff).toBeGreaterThan(0.05)
  })

  it("POST /predict with a base64 DNG answers the model's prediction on that tensor", async () => {
    const m = await served()
    const bytes = [dng("china", 1), dng("flower", 2)]
    const res = await predict({ images: bytes.map((b) => b.toString("base64")) })
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json() as { predictions: string[]; probabilities: Array<Record<string, number>> }
    const direct = await m.image!.predictAsync(
      await render(bytes, await trainedIsp()).then((b) => ({
        rows: 2,
        cols: 32 * 32 * 3,
        data: b.data as unknown as Float64Array
      }))
    )
    expect(body.predictions).toEqual(Array.from(direct.predictions, (k) => CLASSES[k]))
    for (const [i, p] of body.probabilities.entries())
      for (const [k, c] of CLASSES.entries()) expect(p[c]).toBeCloseTo(direct.proba![i * CLASSES.length + k]!, 5)
  })

  it("a bad DNG upload is a 422 naming the image and the problem, not a 500", async () => {
    const good = dng("astronaut")
    const truncated = good.subarray(0, 200)
    // IFD0's next-IFD pointer back to IFD0 itself: a loop in the IFD chain.
    const loop = Buffer.from(good)
    const ifd0 = loop.readUInt32LE(4)
    loop.writeUInt32LE(ifd0, ifd0 + 2 + 12 * loop.readUInt16LE(ifd0))
    const pastEnd = Buffer.from(good)
    pastEnd.writeUInt32LE(pastEnd.length + 1000, 4) // IFD0 past the end of the file
    const png = fs.readFileSync(
      path.join(
        root,
        "data/raw/fashion_mnist/images/bag",
        fs.readdirSync(path.join(root, "data/raw/fashion_mnist/images/bag"))[0]!
      )
    )
    // What each message must name (the reader's tag or the format).
    const expectedProblem = [
      /IFD offset \d+ is past the end/,
      /IFD chain loops/,
      /IFD offset \d+ is past the end/,
      /not start with a TIFF byte-order mark/
    ]
    for (const [i, bad] of [truncated, loop, pastEnd, png].entries()) {
      const res = await predict({ images: [good.toString("base64"), bad.toString("base64")] })
      expect(res.statusCode, `case ${i}: ${res.body}`).toBe(422)
      const body = res.json() as { error: string; fields: Array<{ field: string; message: string }> }
      expect(body.error).toBe("undecodable_image")
      expect(body.fields[0]!.field).toBe("images[1]")
      expect(body.fields[0]!.message).not.toMatch(/\n\s+at /)
      expect(body.fields[0]!.message).toMatch(expectedProblem[i]!)
    }
  })

  it("drift scoring (stage-training's baseline, the drift holdout) reads the model's ISP from its artifacts, not the config's", async () => {
    // the shipped config renders with the defaults (bilinear, gamma 2.2 …); the model was trained otherwise
    const shipped = await runtime.runPromise(loadConfig(path.join(root, "configs/dng_scenes.yaml")))
    const fromArtifacts = await runtime.runPromise(trainedIspOf(runId))
    expect(fromArtifacts._tag).toBe("Some")
    if (fromArtifacts._tag === "Some") {
      expect(fromArtifacts.value).toEqual(await trainedIsp())
      expect(fromArtifacts.value).not.toEqual(ispParamsOf(ispConfigOf(shipped.config)))
    }
  })

  it("a later run with another ISP compares Production on its own rendering of the evaluation images (last: it promotes)", async () => {
    // same DNGs, seed and split; only the ISP differs (the shipped defaults): Production's re-scored val
    // metrics must be the ones it was evaluated with, on the pixels it learned from, not the candidate's tensors
    const second = configVariant("dng_scenes.yaml", (t) =>
      t
        .replace("epochs: 15", "epochs: 1")
        .replace(/stages: \[.*\]/, "stages: [preprocessing, training, evaluation, promotion]")
        .replace(
          /rules:[\s\S]*?deployment:/,
          'rules:\n    - { id: min_accuracy, metric: accuracy, operator: ">=", threshold: 0.0 }\ndeployment:'
        )
    )
    const r = await runtime.runPromise(runConfig(second))
    expect(r.status, JSON.stringify(r.report.stages.map((s) => [s.name, s.status, s.error]))).toBe("completed")
    const report = (id: string) =>
      runtime.runPromise(
        Effect.map(
          Effect.flatMap(Storage, (st) => st.readText(reportKeys(id).file("evaluation_report.json"))),
          (t) =>
            JSON.parse(t) as {
              metrics: Record<string, Record<string, number>>
              production: {
                run_id: string
                compared_rows: Record<string, { compared: number; total: number }>
                metrics: Record<string, Record<string, number>>
              }
            }
        )
      )
    const [first, later] = [await report(runId), await report(r.runId)]
    expect(later.production.run_id).toBe(runId)
    expect(later.production.compared_rows.val!.compared).toBe(later.production.compared_rows.val!.total)
    expect(later.production.metrics.val).toEqual(first.metrics.val)
  }, 300_000)
})
