import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, ManagedRuntime } from "effect"
import type { FastifyInstance } from "fastify"
import * as fs from "node:fs"
import * as path from "node:path"
import { defaultServeConfig } from "../../src/domain/serveConfig.js"
import { testLayer } from "../../src/layers/test.js"
import { loadConfig } from "../../src/programs/loadConfig.js"
import { runPipeline } from "../../src/programs/runPipeline.js"
import { modelSource } from "../../src/programs/serve/serve.js"
import { makeServer } from "../../src/programs/serve/server.js"
import { configVariant, root } from "./helpers.js"

// breast_cancer's dataset.yaml says max_null_fraction: 0.0: its features may not be null in a request,
// however the model imputes; a pipeline whose config says serving.allow_nulls: true accepts them.
const approvals = Array.from({ length: 2 }, () => ({ outcome: "approved" as const, by: "test", reason: "test" }))
const runtime = ManagedRuntime.make(testLayer({ decisions: approvals }))

const pipeline = (registered: string, extra: string) =>
  configVariant(
    "breast_cancer.yaml",
    (t) =>
      t
        .replace("model: random_forest", "model: decision_tree")
        .replace("params: { n_estimators: 100, max_features: sqrt }", "params: {}")
        .replace("registered_model: breast-cancer", `registered_model: ${registered}`)
        .replace(/stages: \[.*\]/, "stages: [preprocessing, training, evaluation, promotion]") + extra
  )

let row: Record<string, number> = {}
let app: FastifyInstance

beforeAll(async () => {
  for (const [name, extra] of [
    ["bc-strict", ""],
    ["bc-lenient", "serving: { allow_nulls: true }\n"]
  ] as const) {
    await runtime.runPromise(
      Effect.gen(function* () {
        const loaded = yield* loadConfig(pipeline(name, extra))
        const r = yield* runPipeline({ loaded, codeRevision: "test", driftgateVersion: "0.1.0-test" })
        if (r.status !== "completed") throw new Error(`${name}: ${r.status}`)
      })
    )
  }
  const lines = fs.readFileSync(path.join(root, "data/raw/breast_cancer/data.csv"), "utf8").trim().split("\n")
  const header = lines[0]!.split(",")
  row = Object.fromEntries(
    lines[1]!.split(",").flatMap((c, i) => (header[i] === "diagnosis" ? [] : [[header[i]!, Number(c)]]))
  )
  const source = modelSource(await runtime.runtime(), { stage: "Production", maxBatchRows: 20 })
  app = await makeServer({ source, config: defaultServeConfig(), adminToken: "t".repeat(32), log: () => {} })
}, 120_000)

afterAll(async () => {
  await app.close()
  await runtime.dispose()
})

const predict = (name: string, payload: unknown) =>
  app.inject({ method: "POST", url: `/predict/${name}`, payload: payload as object })

describe("serve: the request schema follows the data contract", () => {
  it("null is refused where dataset.yaml forbids empty cells (max_null_fraction: 0.0)", async () => {
    const res = await predict("bc-strict", { features: { ...row, mean_radius: null } })
    expect(res.statusCode).toBe(422)
    expect(res.json().fields).toEqual([{ field: "features.mean_radius", message: "must be number" }])
    expect((await predict("bc-strict", { features: row })).statusCode).toBe(200)
    const models = (await app.inject({ method: "GET", url: "/models" })).json()
    const strict = models.models.find((m: { name: string }) => m.name === "bc-strict")
    expect(strict.features.every((f: { nullable: boolean }) => !f.nullable)).toBe(true)
  })

  it("serving.allow_nulls: true accepts null (imputed by the fitted transform)", async () => {
    const res = await predict("bc-lenient", { features: { ...row, mean_radius: null } })
    expect(res.statusCode).toBe(200)
  })
})

describe("serve: a flat body gets one sentence", () => {
  it("a row sent without its envelope: one field, the expected shape, the stray keys listed once", async () => {
    const res = await predict("bc-strict", row)
    expect(res.statusCode).toBe(422)
    const body = res.json()
    expect(body.fields).toHaveLength(1)
    expect(body.fields[0].field).toBe("body")
    expect(body.fields[0].message).toContain('{"features": {...}}')
    expect(body.fields[0].message).toContain('{"rows": [...]}')
    for (const k of Object.keys(row)) expect(body.message.split(k).length - 1, k).toBeGreaterThanOrEqual(1)
    // Each stray key appears once: "mean_radius" also prefixes nothing else, so count it exactly.
    expect(body.message.split("mean_radius,").length - 1).toBe(1)
    expect(body.message.split("must be").length - 1).toBe(1)
  })
})
