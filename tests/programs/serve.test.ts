import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Either, ManagedRuntime } from "effect"
import fc from "fast-check"
import type { FastifyInstance } from "fastify"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { decodeServeConfig, defaultServeConfig, type ServeConfig } from "../../src/domain/serveConfig.js"
import { frameFromRecords } from "../../src/ml/frame.js"
import { testLayer } from "../../src/layers/test.js"
import { loadConfig } from "../../src/programs/loadConfig.js"
import { loadBundle, predictFrame } from "../../src/programs/modelBundle.js"
import { runPipeline } from "../../src/programs/runPipeline.js"
import { makeAdminCheck } from "../../src/programs/serve/adminToken.js"
import { loadModelSet, type ModelSource } from "../../src/programs/serve/modelSet.js"
import { escapeHtml } from "../../src/programs/serve/page.js"
import { PredictionLog, readPredictionLog } from "../../src/programs/serve/predictionLog.js"
import { modelSource } from "../../src/programs/serve/serve.js"
import { makeServer } from "../../src/programs/serve/server.js"
import { Registry } from "../../src/services/Registry.js"
import { Storage } from "../../src/services/Storage.js"

const root = path.resolve(__dirname, "../..")
const TOKEN = "test-admin-token-0123456789"

// ---- fixtures: two models trained by the real pipeline on in-memory layers ---------------------
// breast-cancer: random forest classifier, 30 float features, impute median, serving.allow_nulls (nullable
// features; its dataset.yaml forbids empty cells, so without allow_nulls null would be refused).
// mixed: ridge regressor over int / float / string / bool features, impute none (not nullable).

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "driftgate-serve-test-"))

const writeFixtures = () => {
  fs.writeFileSync(
    path.join(tmp, "breast_cancer.yaml"),
    `
name: breast-cancer-rf
task_type: classification
random_seed: 42
data_root: ${JSON.stringify(path.join(root, "data/raw"))}
dataset: breast_cancer
preprocessing: { scale: standard, impute: median, encode: one_hot }
training: { model: random_forest, params: { n_estimators: 25 } }
promotion:
  rules:
    - { id: min_accuracy, metric: accuracy, operator: ">=", threshold: 0.80 }
deployment: { registered_model: breast-cancer }
serving: { allow_nulls: true }
`
  )
  // spend = 2·age + income/1000 + city effect + 10·member + small noise (LCG, fixed seed)
  const dir = path.join(tmp, "raw/mixed")
  fs.mkdirSync(dir, { recursive: true })
  let s = 12345
  const rand = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648
  const cities = ["lyon", "nice", "paris"]
  const lines = ["age,income,city,member,spend"]
  for (let i = 0; i < 240; i++) {
    const age = 18 + Math.floor(rand() * 60)
    const income = Math.round(20000 + rand() * 80000)
    const city = cities[i % 3]!
    const member = rand() < 0.5
    const spend =
      2 * age + income / 1000 + (city === "paris" ? 30 : city === "lyon" ? 10 : 0) + (member ? 10 : 0) + (rand() - 0.5)
    lines.push(`${age},${income},${city},${member},${spend.toFixed(3)}`)
  }
  fs.writeFileSync(path.join(dir, "data.csv"), lines.join("\n") + "\n")
  fs.writeFileSync(
    path.join(dir, "dataset.yaml"),
    `
name: mixed
task_type: regression
target: spend
features: [age, income, city, member]
schema: { age: int, income: float, city: string, member: bool, spend: float }
`
  )
  fs.writeFileSync(
    path.join(tmp, "mixed.yaml"),
    `
name: mixed-ridge
task_type: regression
random_seed: 7
data_root: raw
dataset: mixed
split: { train: 0.7, val: 0.15, test: 0.15, stratify: false }
preprocessing: { scale: standard, impute: none, encode: one_hot }
training: { model: ridge }
promotion:
  rules:
    - { id: min_r2, metric: r2, operator: ">=", threshold: 0.9 }
deployment: { registered_model: mixed }
`
  )
}
writeFixtures()

const approvals = Array.from({ length: 8 }, () => ({ outcome: "approved" as const, by: "test", reason: "test" }))
const runtime = ManagedRuntime.make(testLayer({ decisions: approvals }))

const train = (config: string) =>
  runtime.runPromise(
    Effect.gen(function* () {
      const loaded = yield* loadConfig(path.join(tmp, config))
      const r = yield* runPipeline({ loaded, codeRevision: "test", driftgateVersion: "0.1.0-test" })
      if (r.status !== "completed")
        throw new Error(`pipeline ${config} ended ${r.status}: ${JSON.stringify(r.report.stages)}`)
      return r.runId
    })
  )

const loadOptions = { stage: "Production" as const, maxBatchRows: 20 }
let realSource: ModelSource

/** A source whose next loads can be made to fail, as a broken registry would. */
const flakySource = () => {
  const state = { fail: false }
  const source: ModelSource = {
    load: () =>
      state.fail ? Promise.reject(new Error("store read failed: the registry is unavailable")) : realSource.load()
  }
  return { state, source }
}

const sink = {
  append: (key: string, text: string) => runtime.runPromise(Effect.flatMap(Storage, (s) => s.append(key, text)))
}

const config = (over: Partial<ServeConfig> = {}): ServeConfig => ({
  ...defaultServeConfig(),
  max_batch_rows: 20,
  ...over
})

let bcRows: Array<Record<string, number>> = []
let bcRunId = ""

beforeAll(async () => {
  realSource = modelSource(await runtime.runtime(), loadOptions)
  bcRunId = await train("breast_cancer.yaml")
  await train("mixed.yaml")
  const lines = fs.readFileSync(path.join(root, "data/raw/breast_cancer/data.csv"), "utf8").trim().split("\n")
  const header = lines[0]!.split(",")
  bcRows = lines
    .slice(1, 11)
    .map((l) =>
      Object.fromEntries(l.split(",").flatMap((c, i) => (header[i] === "diagnosis" ? [] : [[header[i]!, Number(c)]])))
    )
}, 60_000)

afterAll(async () => {
  await runtime.dispose()
  fs.rmSync(tmp, { recursive: true, force: true })
})

const withServer = async <A>(
  f: (app: FastifyInstance) => Promise<A>,
  options: Partial<Parameters<typeof makeServer>[0]> = {}
): Promise<A> => {
  const app = await makeServer({ source: realSource, config: config(), adminToken: TOKEN, log: () => {}, ...options })
  try {
    return await f(app)
  } finally {
    await app.close()
  }
}

const predict = (app: FastifyInstance, name: string, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: "POST", url: `/predict/${name}`, payload: payload as object, headers })

const mixedRow = { age: 40, income: 50000, city: "paris", member: true }

describe("serve: prediction endpoint", () => {
  it("predicts one row with the model's own fitted transform, class labels and probabilities", async () => {
    await withServer(async (app) => {
      const res = await predict(app, "breast-cancer", { features: bcRows[0] })
      expect(res.statusCode).toBe(200)
      const body = res.json()
      expect(body).toMatchObject({ model: "breast-cancer", version: 1, stage: "Production" })
      expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/)
      expect(res.headers["x-request-id"]).toBe(body.request_id)
      expect(Object.keys(body.probabilities).sort()).toEqual(["benign", "malignant"])
      expect(body.probabilities.benign + body.probabilities.malignant).toBeCloseTo(1, 12)
      // the same prediction as the model applied offline to the same raw row
      const offline = await runtime.runPromise(
        Effect.gen(function* () {
          const bundle = yield* loadBundle(bcRunId)
          const frame = frameFromRecords(bcRows.slice(0, 1), bundle.featureMap.input_features)
          const p = yield* predictFrame(bundle, frame)
          return { label: bundle.featureMap.classes![p.predictions[0]!], proba: Array.from(p.proba!) }
        })
      )
      expect(body.prediction).toBe(offline.label)
      expect([body.probabilities.benign, body.probabilities.malignant]).toEqual(offline.proba)
      expect(offline.label).toBe("malignant") // the first row of the CSV is malignant
    })
  })

  it("predicts a batch: the same answers as one row at a time", async () => {
    await withServer(async (app) => {
      const rows = bcRows.slice(0, 5)
      const batch = (await predict(app, "breast-cancer", { rows })).json()
      expect(batch.predictions).toHaveLength(5)
      expect(batch.probabilities).toHaveLength(5)
      for (let i = 0; i < 5; i++) {
        const one = (await predict(app, "breast-cancer", { features: rows[i] })).json()
        expect(batch.predictions[i]).toBe(one.prediction)
        expect(batch.probabilities[i]).toEqual(one.probabilities)
      }
    })
  })

  it("serves a regressor over int, float, string and bool features: numbers, no probabilities", async () => {
    await withServer(async (app) => {
      const res = await predict(app, "mixed", { features: mixedRow })
      expect(res.statusCode).toBe(200)
      const body = res.json()
      expect(typeof body.prediction).toBe("number")
      expect(body.probabilities).toBeUndefined()
      // spend ≈ 2·40 + 50 + 30 + 10 = 170 (noise ±0.5, ridge shrinkage small)
      expect(Math.abs(body.prediction - 170)).toBeLessThan(5)
      const unseen = (await predict(app, "mixed", { features: { ...mixedRow, city: "marseille" } })).json()
      expect(unseen.unknown_categories).toEqual({ city: 1 })
    })
  })

  it("checks the reload token before reading the body (401, not 400, for a malformed body)", async () => {
    await withServer(async (app) => {
      const res = await app.inject({
        method: "POST",
        url: "/admin/reload",
        payload: "{",
        headers: { "content-type": "application/json" }
      })
      expect([401, 403]).toContain(res.statusCode)
    })
  })

  it("names the field when a finite value overflows the fitted scaling (422, not a column index)", async () => {
    await withServer(async (app) => {
      const res = await predict(app, "breast-cancer", { rows: [bcRows[0], { ...bcRows[0], mean_smoothness: 1e308 }] })
      expect(res.statusCode).toBe(422)
      expect(res.json().message).toContain("rows[1].mean_smoothness is too large for the model's scaling")
    })
  })

  it("accepts null for a nullable feature (imputed by the fitted transform)", async () => {
    await withServer(async (app) => {
      const res = await predict(app, "breast-cancer", { features: { ...bcRows[0], mean_radius: null } })
      expect(res.statusCode).toBe(200)
    })
  })

  it("answers 422 naming each missing, extra and wrongly typed field", async () => {
    await withServer(async (app) => {
      const { mean_radius: _drop, ...rest } = bcRows[0]!
      const res = await predict(app, "breast-cancer", { features: { ...rest, mean_texture: "12.5", bogus: 1 } })
      expect(res.statusCode).toBe(422)
      const body = res.json()
      expect(body.error).toBe("validation_failed")
      const fields = Object.fromEntries(
        body.fields.map((f: { field: string; message: string }) => [f.field, f.message])
      )
      expect(fields).toEqual({
        "features.mean_radius": "is required",
        "features.mean_texture": "must be number or null",
        "features.bogus": "is not an input feature of model breast-cancer"
      })
      expect(body.message).toContain("features.mean_radius is required")
    })
  })

  it("types follow the feature map: integer, boolean, string; null only where nullable", async () => {
    await withServer(async (app) => {
      const res = await predict(app, "mixed", { features: { age: 40.5, income: null, city: 3, member: "true" } })
      expect(res.statusCode).toBe(422)
      const fields = Object.fromEntries(
        res.json().fields.map((f: { field: string; message: string }) => [f.field, f.message])
      )
      expect(fields).toEqual({
        "features.age": "must be an integer",
        "features.income": "must be number",
        "features.city": "must be string",
        "features.member": "must be boolean"
      })
    })
  })

  it("names the row of a batch at fault, and enforces max_batch_rows", async () => {
    await withServer(async (app) => {
      const rows = [mixedRow, { ...mixedRow, age: "old" }]
      const res = await predict(app, "mixed", { rows })
      expect(res.statusCode).toBe(422)
      expect(res.json().fields).toEqual([{ field: "rows[1].age", message: "must be an integer" }])
      const many = await predict(app, "mixed", { rows: Array.from({ length: 21 }, () => mixedRow) })
      expect(many.statusCode).toBe(422)
      expect(many.json().fields[0]).toEqual({ field: "rows", message: "has more than 20 rows (max_batch_rows)" })
    })
  })

  it("rejects bodies without exactly one of features / rows with 422", async () => {
    await withServer(async (app) => {
      for (const payload of [
        {},
        { features: mixedRow, rows: [mixedRow] },
        { feature: mixedRow },
        [mixedRow],
        { rows: [] },
        { features: [1, 2] }
      ]) {
        const res = await predict(app, "mixed", payload)
        expect(res.statusCode, JSON.stringify(payload)).toBe(422)
        expect(res.json().fields.length).toBeGreaterThan(0)
      }
    })
  })

  it("answers 404 for a model it does not serve, 400 for broken JSON, 413 over the body limit", async () => {
    await withServer(
      async (app) => {
        const res = await predict(app, "no-such-model", { features: {} })
        expect(res.statusCode).toBe(404)
        expect(res.json()).toMatchObject({ error: "model_not_found" })
        expect(res.json().message).toContain("no-such-model")
        const broken = await app.inject({
          method: "POST",
          url: "/predict/mixed",
          payload: '{"features": ',
          headers: { "content-type": "application/json" }
        })
        expect(broken.statusCode).toBe(400)
        const big = await predict(app, "mixed", { features: { ...mixedRow, pad: "x".repeat(4096) } })
        expect(big.statusCode).toBe(413)
      },
      { config: config({ body_limit_bytes: 2048 }) }
    )
  })
})

describe("serve: models, health, readiness, docs, page", () => {
  it("GET /models describes every served model", async () => {
    await withServer(async (app) => {
      const body = (await app.inject({ method: "GET", url: "/models" })).json()
      expect(body.models.map((m: { name: string }) => m.name)).toEqual(["breast-cancer", "mixed"])
      const bc = body.models[0]
      expect(bc).toMatchObject({
        version: 1,
        stage: "Production",
        aliases: ["champion"],
        task_type: "classification",
        algorithm: "random_forest",
        classes: ["benign", "malignant"]
      })
      expect(bc.run_id).toBe(bcRunId)
      expect(bc.dataset_version).toMatch(/^[0-9a-f]{64}$/)
      expect(Date.parse(bc.trained_at)).not.toBeNaN()
      expect(bc.features).toHaveLength(30)
      expect(bc.features[0]).toMatchObject({ name: "mean_radius", type: "float", nullable: true })
      const mixed = body.models[1]
      expect(
        mixed.features.map(
          (f: { name: string; type: string; nullable: boolean }) => `${f.name}:${f.type}:${f.nullable}`
        )
      ).toEqual(["age:int:false", "income:float:false", "city:string:false", "member:bool:false"])
      expect(mixed.features[2].categories).toEqual(["lyon", "nice", "paris"])
    })
  })

  it("GET /health is 200; GET /ready is 200 with models and 503 with the reason without", async () => {
    await withServer(async (app) => {
      expect((await app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200)
      const ready = await app.inject({ method: "GET", url: "/ready" })
      expect(ready.statusCode).toBe(200)
      expect(ready.json().models).toHaveLength(2)
    })
    const onlyMissing = await runtime.runPromise(loadModelSet({ ...loadOptions, models: ["nope"] }))
    await withServer(
      async (app) => {
        expect((await app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200)
        const ready = await app.inject({ method: "GET", url: "/ready" })
        expect(ready.statusCode).toBe(503)
        expect(ready.json().reason).toBe("no model is loaded at stage Production: model nope is not registered")
        expect((await app.inject({ method: "GET", url: "/" })).statusCode).toBe(200)
      },
      { initial: onlyMissing }
    )
  })

  it("GET /metrics: request counter and latency histogram by model/version/status, models loaded, reloads", async () => {
    await withServer(async (app) => {
      await predict(app, "mixed", { features: mixedRow })
      await predict(app, "mixed", { features: mixedRow })
      await predict(app, "mixed", { features: {} })
      await predict(app, "mixed", [1, 2]) // refused by the envelope schema, before the handler
      await predict(app, "ghost", { features: {} })
      await app.inject({ method: "POST", url: "/admin/reload", headers: { authorization: `Bearer ${TOKEN}` } })
      const res = await app.inject({ method: "GET", url: "/metrics" })
      expect(res.statusCode).toBe(200)
      expect(res.headers["content-type"]).toContain("text/plain")
      const text = res.body
      expect(text).toContain('driftgate_predict_requests_total{model="mixed",version="1",status="200"} 2')
      expect(text).toContain('driftgate_predict_requests_total{model="mixed",version="1",status="422"} 2')
      expect(text).toContain('driftgate_predict_requests_total{model="_unknown",version="",status="404"} 1')
      expect(text).toContain('driftgate_predict_duration_seconds_count{model="mixed",version="1",status="200"} 2')
      expect(text).toContain("driftgate_models_loaded 2")
      expect(text).toContain('driftgate_reloads_total{outcome="success"} 1')
      expect(text).toContain('driftgate_reloads_total{outcome="failure"} 0')
      expect(text).toContain("driftgate_prediction_log_dropped_rows_total 0")
    })
  })

  it("GET /openapi.json is an OpenAPI document with the predict path; Swagger UI at /docs", async () => {
    await withServer(async (app) => {
      const res = await app.inject({ method: "GET", url: "/openapi.json" })
      expect(res.statusCode).toBe(200)
      const doc = JSON.parse(res.body)
      expect(doc.openapi).toBe("3.0.3")
      expect(
        doc.paths["/predict/{name}"].post.requestBody.content["application/json"].schema.properties
      ).toHaveProperty("rows")
      expect(Object.keys(doc.paths).sort()).toEqual([
        "/admin/reload",
        "/health",
        "/metrics",
        "/models",
        "/predict/{name}",
        "/ready"
      ])
      const ui = await app.inject({ method: "GET", url: "/docs/" })
      expect(ui.statusCode).toBe(200)
      expect(ui.body).toContain("swagger")
    })
  })

  it("GET / renders a card and a form per model from the feature map, escaped, with a CSP nonce", async () => {
    await withServer(async (app) => {
      const res = await app.inject({ method: "GET", url: "/" })
      expect(res.statusCode).toBe(200)
      expect(res.headers["content-type"]).toContain("text/html")
      const nonce = /script-src 'nonce-([^']+)'/.exec(String(res.headers["content-security-policy"]))![1]!
      expect(res.body).toContain(`<script nonce="${nonce}">`)
      expect(res.body).toContain('<form data-model="breast-cancer">')
      expect(res.body).toContain('data-name="mean_radius" data-dtype="float"')
      expect(res.body).toContain('<option value="paris">paris</option>')
      expect(res.body).not.toContain("innerHTML")
    })
    expect(escapeHtml(`<img src=x onerror="a('b')">&`)).toBe(
      "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;"
    )
  })
})

describe("serve: reload", () => {
  const reload = (app: FastifyInstance, authorization?: string) =>
    app.inject({ method: "POST", url: "/admin/reload", headers: authorization === undefined ? {} : { authorization } })

  it("is disabled (403) without a configured token, never open", async () => {
    await withServer(
      async (app) => {
        const res = await reload(app, `Bearer ${TOKEN}`)
        expect(res.statusCode).toBe(403)
        expect(res.json().message).toContain("DRIFTGATE_ADMIN_TOKEN")
        expect((await reload(app)).statusCode).toBe(403)
      },
      { adminToken: undefined }
    )
  })

  it("missing token → 401, wrong token → 401, right token → 200", async () => {
    await withServer(async (app) => {
      const missing = await reload(app)
      expect(missing.statusCode).toBe(401)
      expect(missing.headers["www-authenticate"]).toContain("Bearer")
      expect((await reload(app, "Bearer wrong")).statusCode).toBe(401)
      expect((await reload(app, `Bearer ${TOKEN}x`)).statusCode).toBe(401)
      expect((await reload(app, TOKEN)).statusCode).toBe(401)
      const ok = await reload(app, `Bearer ${TOKEN}`)
      expect(ok.statusCode).toBe(200)
      expect(ok.json().models.map((m: { name: string }) => m.name)).toEqual(["breast-cancer", "mixed"])
    })
  })

  it("a failed reload keeps the old set and answers 503 with the reason; a later one picks up a new version", async () => {
    const { state, source } = flakySource()
    await withServer(
      async (app) => {
        state.fail = true
        const failed = await reload(app, `Bearer ${TOKEN}`)
        expect(failed.statusCode).toBe(503)
        expect(failed.json().message).toBe(
          "reload failed, still serving the previous models: store read failed: the registry is unavailable"
        )
        expect((await predict(app, "breast-cancer", { features: bcRows[0] })).json().version).toBe(1)
        expect((await app.inject({ method: "GET", url: "/ready" })).json().last_reload).toMatchObject({ ok: false })

        state.fail = false
        await train("breast_cancer.yaml") // version 2 to Production (same data and seed: no regression)
        const ok = await reload(app, `Bearer ${TOKEN}`)
        expect(ok.statusCode).toBe(200)
        expect(ok.json().models.find((m: { name: string }) => m.name === "breast-cancer").version).toBe(2)
        expect(ok.json().previous.find((m: { name: string }) => m.name === "breast-cancer").version).toBe(1)
        expect((await predict(app, "breast-cancer", { features: bcRows[0] })).json().version).toBe(2)
        const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body
        expect(metrics).toContain('driftgate_reloads_total{outcome="failure"} 1')
        expect(metrics).toContain('driftgate_model_info{model="breast-cancer",version="2",stage="Production"} 1')
        const production = await runtime.runPromise(Effect.flatMap(Registry, (r) => r.getProduction("breast-cancer")))
        expect(production._tag === "Some" && production.value.version).toBe(2)
      },
      { source }
    )
  })

  it("a reload that meets a corrupt artifact fails as a whole, naming the model and the file", async () => {
    const mixedRun = await runtime.runPromise(Effect.flatMap(Registry, (r) => r.getProduction("mixed")))
    const key = `artifacts/${mixedRun._tag === "Some" ? mixedRun.value.runId : ""}/model/transform.json`
    const original = await runtime.runPromise(Effect.flatMap(Storage, (s) => s.readText(key)))
    await withServer(async (app) => {
      await runtime.runPromise(Effect.flatMap(Storage, (s) => s.write(key, "{not json")))
      try {
        const res = await reload(app, `Bearer ${TOKEN}`)
        expect(res.statusCode).toBe(503)
        expect(res.json().message).toMatch(
          /^reload failed, still serving the previous models: workspace load of artifacts\/.+\/model failed: model mixed version 1 cannot be served: its file artifacts\/.+\/model\/transform\.json was modified after registration/
        )
        expect(res.json().models.map((m: { name: string }) => m.name)).toEqual(["breast-cancer", "mixed"])
        expect((await predict(app, "mixed", { features: mixedRow })).statusCode).toBe(200)
      } finally {
        await runtime.runPromise(Effect.flatMap(Storage, (s) => s.write(key, original)))
      }
    })
  })

  it("requests running while a reload swaps the set all succeed", async () => {
    await withServer(async (app) => {
      const results = await Promise.all([
        ...Array.from({ length: 60 }, (_, i) =>
          predict(app, i % 2 ? "mixed" : "breast-cancer", i % 2 ? { features: mixedRow } : { rows: bcRows })
        ),
        ...Array.from({ length: 4 }, () => reload(app, `Bearer ${TOKEN}`))
      ])
      expect(results.map((r) => r.statusCode)).toEqual(results.map(() => 200))
    })
  })

  it("checks tokens in constant time over digests; an empty token disables", () => {
    const check = makeAdminCheck("s3cret")
    expect(check(undefined)).toBe("missing")
    expect(check("Basic czNjcmV0")).toBe("missing")
    expect(check("Bearer s3cret")).toBe("ok")
    expect(check("bearer   s3cret ")).toBe("ok")
    expect(check("Bearer s3cre")).toBe("wrong")
    expect(check("Bearer " + "s3cret".repeat(1000))).toBe("wrong")
    expect(makeAdminCheck("")("Bearer ")).toBe("disabled")
    expect(makeAdminCheck(undefined)("Bearer x")).toBe("disabled")
  })
})

describe("serve: prediction log", () => {
  it("appends one JSON object per predicted row to serving/predictions/<model>/<UTC date>.jsonl, flushed on close", async () => {
    const before = new Date()
    const ids: string[] = []
    await withServer(
      async (app) => {
        ids.push((await predict(app, "mixed", { features: mixedRow })).json().request_id)
        ids.push((await predict(app, "mixed", { rows: [mixedRow, { ...mixedRow, member: false }] })).json().request_id)
        await predict(app, "mixed", { features: { age: "x" } }) // refused: not logged
      },
      {
        predictionSink: sink,
        config: config({
          prediction_log: { enabled: true, flush_interval_ms: 60_000, flush_rows: 1000, max_queue: 1000 }
        })
      }
    )
    const rows = await runtime.runPromise(Effect.flatMap(Storage, (s) => readPredictionLog(s, "mixed", before)))
    expect(rows).toHaveLength(3)
    expect(rows.map((r) => r.request_id)).toEqual([ids[0], ids[1], ids[1]])
    expect(rows[2]!.features).toEqual({ ...mixedRow, member: false })
    expect(Object.keys(rows[0]!)).toEqual(["ts", "request_id", "model", "version", "features", "prediction"])
    expect(rows[0]).toMatchObject({ model: "mixed", version: 1, features: mixedRow })
    expect(typeof rows[0]!.prediction).toBe("number")
    const keys = await runtime.runPromise(Effect.flatMap(Storage, (s) => s.list("serving/predictions/mixed")))
    expect(keys).toContain(`serving/predictions/mixed/${rows[0]!.ts.slice(0, 10)}.jsonl`)
    expect(
      await runtime.runPromise(
        Effect.flatMap(Storage, (s) => readPredictionLog(s, "mixed", new Date(Date.now() + 86_400_000)))
      )
    ).toEqual([])
  })

  it("reads a workspace folder too, skipping a line cut short by a crash", async () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), "driftgate-log-"))
    const dir = path.join(ws, "serving/predictions/m")
    fs.mkdirSync(dir, { recursive: true })
    const row = (ts: string) =>
      JSON.stringify({ ts, request_id: "r", model: "m", version: 3, features: { a: 1 }, prediction: "yes" })
    fs.writeFileSync(path.join(dir, "2026-01-01.jsonl"), row("2026-01-01T10:00:00.000Z") + "\n")
    fs.writeFileSync(
      path.join(dir, "2026-01-02.jsonl"),
      row("2026-01-02T09:00:00.000Z") + "\n" + row("2026-01-02T11:00:00.000Z") + '\n{"ts":"2026-01-02T12'
    )
    const all = await Effect.runPromise(readPredictionLog(ws, "m"))
    expect(all.map((r) => r.ts)).toEqual([
      "2026-01-01T10:00:00.000Z",
      "2026-01-02T09:00:00.000Z",
      "2026-01-02T11:00:00.000Z"
    ])
    const since = await Effect.runPromise(readPredictionLog(ws, "m", new Date("2026-01-02T10:00:00Z")))
    expect(since.map((r) => r.ts)).toEqual(["2026-01-02T11:00:00.000Z"])
    expect(await Effect.runPromise(readPredictionLog(ws, "absent"))).toEqual([])
    fs.rmSync(ws, { recursive: true, force: true })
  })

  it("is bounded: a full queue drops (and counts) rows instead of blocking; a failing sink is counted", async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    const written: string[] = []
    const dropped: number[] = []
    const log = new PredictionLog(
      {
        append: async (_k, t) => {
          await gate
          written.push(t)
        }
      },
      { flushIntervalMs: 60_000, flushRows: 2, maxQueue: 3 },
      { onDropped: (n) => dropped.push(n) }
    )
    expect(log.add("2026-01-01T00:00:00.000Z", "a", "m", 1, { x: 1 }, 1)).toBe(true)
    expect(log.add("2026-01-01T00:00:00.000Z", "b", "m", 1, [{ x: 2 }, { x: 3 }], [2, 3])).toBe(true)
    expect(log.add("2026-01-01T00:00:00.000Z", "c", "m", 1, { x: 4 }, 4)).toBe(false) // 3 queued: full
    expect(dropped).toEqual([1])
    const flushing = log.flush() // the sink hangs: the queue is free again meanwhile
    expect(log.add("2026-01-01T00:00:00.000Z", "d", "m", 1, { x: 5 }, 5)).toBe(true)
    release()
    await flushing
    await log.close()
    expect(
      written
        .join("")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).request_id)
    ).toEqual(["a", "b", "b", "d"])
    expect(log.dropped).toBe(1)
    expect(log.add("2026-01-01T00:00:00.000Z", "e", "m", 1, { x: 6 }, 6)).toBe(false) // closed

    const errors: number[] = []
    const failing = new PredictionLog(
      { append: () => Promise.reject(new Error("disk full")) },
      { flushIntervalMs: 60_000, flushRows: 100, maxQueue: 100 },
      { onError: (_e, n) => errors.push(n) }
    )
    failing.add("2026-01-01T00:00:00.000Z", "a", "m", 1, { x: 1 }, 1)
    await failing.close()
    expect(errors).toEqual([1])
    expect(failing.failed).toBe(1)
  })
})

describe("serve: fuzzed payloads never cause a 5xx", () => {
  it("random JSON bodies, wrong types, NaN/Infinity strings, nested objects, big arrays, unicode keys", async () => {
    const statuses = new Map<number, number>()
    await withServer(async (app) => {
      const names = [
        "age",
        "income",
        "city",
        "member",
        "mean_radius",
        "__proto__",
        "constructor",
        "ÿ",
        "😀",
        "a.b",
        "rows",
        "features"
      ]
      const value = fc.oneof(
        fc.constantFrom("NaN", "Infinity", "-Infinity", "1e999", "", "null", "true", "<script>"),
        fc.double(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.string(),
        fc.string({ unit: "binary" }),
        fc.array(fc.integer(), { maxLength: 50 }),
        fc.dictionary(fc.string({ unit: "binary" }), fc.integer(), { maxKeys: 5 })
      )
      const row = fc.oneof(
        // well-typed rows with extreme values (±1e308, subnormals, unseen categories) reach the model
        fc.record({
          age: fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
          income: fc.double({ noNaN: true, noDefaultInfinity: true }),
          city: fc.string(),
          member: fc.boolean()
        }),
        fc.record({ age: value, income: value, city: value, member: value }, { requiredKeys: [] }),
        fc.dictionary(fc.oneof(fc.constantFrom(...names), fc.string({ unit: "binary" })), value, { maxKeys: 8 }),
        value
      )
      const body = fc.oneof(
        fc.record({ features: row }),
        fc.record({ rows: fc.array(row, { maxLength: 30 }) }),
        fc.record({ features: row, rows: fc.array(row, { maxLength: 3 }) }, { requiredKeys: [] }),
        fc.jsonValue().map((v) => ({ v })),
        fc.jsonValue()
      )
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("mixed", "breast-cancer", "nope", "%F0%9F%98%80"),
          body,
          async (model, payload) => {
            const res = await app.inject({
              method: "POST",
              url: `/predict/${model}`,
              payload: JSON.stringify(payload),
              headers: { "content-type": "application/json" }
            })
            if (process.env.FUZZ_STATS) statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
            expect(
              res.statusCode,
              `${model} ${JSON.stringify(payload).slice(0, 300)} → ${res.body.slice(0, 300)}`
            ).toBeLessThan(500)
          }
        ),
        { numRuns: 300, seed: 20260101 }
      )
      // raw text that is not JSON, or JSON with values JSON.parse turns into Infinity
      const huge = [
        JSON.stringify({ rows: Array.from({ length: 5000 }, () => mixedRow) }),
        JSON.stringify({ features: { ...mixedRow, age: Array.from({ length: 20000 }, (_, i) => i) } }),
        JSON.stringify({ features: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, i])) })
      ]
      for (const raw of [
        ...huge,
        '{"features":{"age":1e999,"income":1,"city":"x","member":true}}',
        "\u0000",
        "[[[[[[[[[[]]]]]]]]]]",
        '{"__proto__":{"x":1}}',
        '{"features":{"constructor":{"prototype":1}}}'
      ]) {
        const res = await app.inject({
          method: "POST",
          url: "/predict/mixed",
          payload: raw,
          headers: { "content-type": "application/json" }
        })
        expect(res.statusCode, raw.slice(0, 200)).toBeLessThan(500)
      }
      if (process.env.FUZZ_STATS) console.log(Object.fromEntries(statuses))
    })
  })
})

describe("serve config (configs/serve.yaml)", () => {
  it("decodes the shipped file, fills defaults, and names an unknown key", async () => {
    const { parse } = await import("yaml")
    const shipped = decodeServeConfig(
      parse(fs.readFileSync(path.join(root, "configs/serve.yaml"), "utf8")),
      "serve.yaml"
    )
    expect(Either.isRight(shipped) && shipped.right).toEqual(defaultServeConfig())
    expect(Either.isRight(decodeServeConfig(null, "empty.yaml"))).toBe(true)
    const bad = decodeServeConfig(
      { port: 8080, prediction_log: { enabled: true, flush_intervall_ms: 5 } },
      "serve.yaml"
    )
    expect(Either.isLeft(bad) && bad.left.message).toBe(
      'unknown key "prediction_log.flush_intervall_ms" (did you mean "flush_interval_ms"?)'
    )
    const port = decodeServeConfig({ port: 70000 }, "serve.yaml")
    expect(Either.isLeft(port) && port.left.key).toBe("port")
  })
})

describe("serve: image models (registered last: the other tests expect two models)", () => {
  it("an image classifier whose artifact is broken fails the load, naming the model and the file", async () => {
    const runId = "01900000-0000-7000-8000-000000000001"
    await runtime.runPromise(
      Effect.gen(function* () {
        const storage = yield* Storage
        const registry = yield* Registry
        // only the feature map exists: a decode of model.json would fail the load
        yield* storage.write(
          `artifacts/${runId}/model/feature_map.json`,
          JSON.stringify({ format: "driftgate.feature_map/1", task_type: "image_classification" })
        )
        yield* registry.promote({
          name: "digits",
          runId,
          artifactPath: `artifacts/${runId}/model`,
          actor: "test",
          reason: "test",
          tags: {
            execution_id: "01900000-0000-7000-8000-000000000002",
            config_hash: "a".repeat(64),
            dataset_version: "b".repeat(64),
            random_seed: "1",
            run_id: runId,
            driftgate_version: "0.1.0-test",
            code_revision: "test"
          }
        })
      })
    )
    // Image models are served now (tests/programs/serve-images.test.ts); a broken one fails the load.
    const err = await realSource.load().then(
      () => undefined,
      (e: Error) => e
    )
    expect(err?.message).toContain("model digits version 1 cannot be served")
    expect(err?.message).toContain("model.json")
  })
})
