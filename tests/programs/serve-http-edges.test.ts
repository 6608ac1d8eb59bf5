import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit } from "effect"
import type { FastifyInstance } from "fastify"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { ManagedRuntime } from "effect"
import { defaultServeConfig, type ServeConfig } from "../../src/domain/serveConfig.js"
import { testLayer } from "../../src/layers/test.js"
import { loadConfig } from "../../src/programs/loadConfig.js"
import { runPipeline } from "../../src/programs/runPipeline.js"
import { PREDICT_CHUNK_ROWS } from "../../src/programs/serve/http/predict.js"
import { sweepInterval } from "../../src/programs/serve/http/edges.js"
import type { ModelSource } from "../../src/programs/serve/modelSet.js"
import { serve, modelSource } from "../../src/programs/serve/serve.js"
import { makeServer } from "../../src/programs/serve/server.js"
import { type LogFiles, makeLogFileWriter, nodeLogFiles } from "../../src/programs/serve/predictionLogFile.js"

// The HTTP edges: the request deadline that holds, 405 with Allow, one error body for every refusal
// (fastify's and Node's own included), a blank admin token refused, and large batches that yield.

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "driftgate-serve-edges-"))
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const writeFixture = () => {
  const dir = path.join(tmp, "raw/mixed")
  fs.mkdirSync(dir, { recursive: true })
  let s = 4242
  const rand = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648
  const lines = ["age,income,city,spend"]
  for (let i = 0; i < 150; i++) {
    const age = 18 + Math.floor(rand() * 60)
    const income = Math.round(20000 + rand() * 80000)
    const city = ["lyon", "nice", "paris"][i % 3]!
    lines.push(
      `${age},${income},${city},${(2 * age + income / 1000 + (city === "paris" ? 30 : 0) + rand()).toFixed(3)}`
    )
  }
  fs.writeFileSync(path.join(dir, "data.csv"), lines.join("\n") + "\n")
  fs.writeFileSync(
    path.join(dir, "dataset.yaml"),
    "name: mixed\ntask_type: regression\ntarget: spend\nfeatures: [age, income, city]\nschema: { age: int, income: float, city: string, spend: float }\n"
  )
  fs.writeFileSync(
    path.join(tmp, "mixed.yaml"),
    `name: mixed-ridge
task_type: regression
random_seed: 7
data_root: raw
dataset: mixed
split: { train: 0.7, val: 0.15, test: 0.15, stratify: false }
preprocessing: { scale: standard, impute: none, encode: one_hot }
training: { model: ridge }
promotion:
  rules:
    - { id: min_r2, metric: r2, operator: ">=", threshold: 0.5 }
deployment: { registered_model: mixed }
`
  )
}
writeFixture()

const runtime = ManagedRuntime.make(
  testLayer({ decisions: [{ outcome: "approved" as const, by: "test", reason: "test" }] })
)
let source: ModelSource

beforeAll(async () => {
  source = modelSource(await runtime.runtime(), { stage: "Production", maxBatchRows: 100_000 })
  await runtime.runPromise(
    Effect.gen(function* () {
      const loaded = yield* loadConfig(path.join(tmp, "mixed.yaml"))
      const r = yield* runPipeline({ loaded, codeRevision: "test", driftgateVersion: "0.1.0-test" })
      if (r.status !== "completed") throw new Error(`the fixture pipeline ended ${r.status}`)
    })
  )
}, 60_000)

afterAll(async () => {
  await runtime.dispose()
  fs.rmSync(tmp, { recursive: true, force: true })
})

const config = (over: Partial<ServeConfig> = {}): ServeConfig => ({ ...defaultServeConfig(), ...over })

const listening = async (over: Partial<ServeConfig> = {}, src: ModelSource = source) => {
  const app = await makeServer({ source: src, config: config(over), log: () => {} })
  await app.listen({ host: "127.0.0.1", port: 0 })
  return { app, port: (app.server.address() as net.AddressInfo).port }
}

/** Sends raw bytes and collects everything the server answers until it closes the connection. */
const raw = (port: number, bytes: string, end = false) =>
  new Promise<{ text: string; ms: number }>((resolve, reject) => {
    const t0 = Date.now()
    let text = ""
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.write(bytes)
      if (end) socket.end()
    })
    socket.setEncoding("utf8")
    socket.on("data", (d: string) => (text += d))
    socket.on("error", reject)
    socket.on("close", () => resolve({ text, ms: Date.now() - t0 }))
  })

const parseAnswer = (text: string) => {
  const [head, ...rest] = text.split("\r\n\r\n")
  const [status, ...headers] = head!.split("\r\n")
  return {
    status: Number(status!.split(" ")[1]),
    headers: Object.fromEntries(
      headers.map((h) => [h.slice(0, h.indexOf(":")).toLowerCase(), h.slice(h.indexOf(":") + 1).trim()])
    ),
    body: JSON.parse(rest.join("\r\n\r\n")) as Record<string, unknown>
  }
}

const expectErrorShape = (body: Record<string, unknown>, error: string) => {
  expect(body.error).toBe(error)
  expect(typeof body.message).toBe("string")
  expect((body.message as string).length).toBeGreaterThan(10)
  expect(body.request_id).toMatch(UUID)
  expect(body).not.toHaveProperty("statusCode") // fastify's own body shape is gone
}

describe("serve: the request deadline holds", () => {
  it("a client that sends its headers and part of a body gets 408 within request_timeout_ms + the sweep", async () => {
    const timeout = 600
    const { app, port } = await listening({ request_timeout_ms: timeout })
    try {
      const { text, ms } = await raw(
        port,
        'POST /predict/mixed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"features":'
      )
      const answer = parseAnswer(text)
      expect(answer.status).toBe(408)
      expectErrorShape(answer.body, "request_timeout")
      expect(answer.headers["x-request-id"]).toBe(answer.body.request_id)
      expect(ms).toBeGreaterThanOrEqual(timeout - 50)
      // the documented bound, with room for a loaded machine (before: Node's 60 s headersTimeout + 30 s sweep)
      expect(ms).toBeLessThan(timeout + sweepInterval(timeout) + 1500)
    } finally {
      await app.close()
    }
  }, 20_000)
})

describe("serve: wrong methods and every error body", () => {
  let app: FastifyInstance
  let port: number
  beforeAll(async () => {
    ;({ app, port } = await listening({ body_limit_bytes: 2048 }))
  })
  afterAll(() => app.close())

  it("a known path with a method it does not take is 405 with Allow; an unknown path stays 404", async () => {
    const cases: Array<[string, string, string]> = [
      ["GET", "/predict/mixed", "POST"],
      ["PUT", "/predict/anything", "POST"],
      ["POST", "/health", "GET, HEAD"],
      ["DELETE", "/models", "GET, HEAD"],
      ["GET", "/admin/reload", "POST"]
    ]
    for (const [method, url, allow] of cases) {
      const res = await app.inject({ method: method as "GET", url })
      expect(res.statusCode, `${method} ${url}`).toBe(405)
      expect(res.headers.allow).toBe(allow)
      expectErrorShape(res.json(), "method_not_allowed")
      expect(res.json().message).toContain(allow)
    }
    const missing = await app.inject({ method: "GET", url: "/nowhere" })
    expect(missing.statusCode).toBe(404)
    expectErrorShape(missing.json(), "not_found")
  })

  it("400, 413 and 414 from fastify, 400 and 431 from Node: the same {error, message, request_id}", async () => {
    const badJson = await app.inject({
      method: "POST",
      url: "/predict/mixed",
      headers: { "content-type": "application/json" },
      payload: '{"features": '
    })
    expect(badJson.statusCode).toBe(400)
    expectErrorShape(badJson.json(), "invalid_json")

    const tooLarge = await app.inject({ method: "POST", url: "/predict/mixed", payload: { rows: "x".repeat(4096) } })
    expect(tooLarge.statusCode).toBe(413)
    expectErrorShape(tooLarge.json(), "body_too_large")

    const longName = await app.inject({ method: "POST", url: `/predict/${"m".repeat(300)}`, payload: { features: {} } })
    expect(longName.statusCode).toBe(414)
    expectErrorShape(longName.json(), "uri_too_long")
    expect(longName.headers["x-request-id"]).toBe(longName.json().request_id)

    const notHttp = parseAnswer((await raw(port, "THIS IS NOT HTTP\r\n\r\n", true)).text)
    expect(notHttp.status).toBe(400)
    expectErrorShape(notHttp.body, "bad_request")

    const bigHeaders = parseAnswer(
      (await raw(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, true)).text
    )
    expect(bigHeaders.status).toBe(431)
    expectErrorShape(bigHeaders.body, "headers_too_large")
  })
})

describe("serve: shutting down", () => {
  it("a request arriving on a kept-alive connection once the server is closing gets 503 with the same error body", async () => {
    const app = await makeServer({ source, config: config(), log: () => {} })
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    let started!: () => void
    const inFlight = new Promise<void>((r) => (started = r))
    app.get("/slow", async () => {
      started()
      await held
      return { ok: true }
    })
    await app.listen({ host: "127.0.0.1", port: 0 })
    const port = (app.server.address() as net.AddressInfo).port
    let text = ""
    const socket = net.connect(port, "127.0.0.1", () => socket.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"))
    socket.setEncoding("utf8").on("data", (d: string) => (text += d))
    const closed = new Promise<void>((r) => socket.on("close", () => r()))
    await inFlight
    const closing = app.close()
    await new Promise((r) => setTimeout(r, 20))
    socket.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    await new Promise((r) => setTimeout(r, 50))
    release()
    await closed
    await closing
    const second = text.slice(text.indexOf("HTTP/1.1", 10))
    const parsed = parseAnswer(second)
    expect(parsed.status).toBe(503)
    expectErrorShape(parsed.body, "shutting_down")
  }, 20_000)
})

describe("serve: the admin token", () => {
  it.live("a whitespace-only token is refused at start-up (UsageError, exit 64); an empty one disables reload", () =>
    Effect.gen(function* () {
      for (const blank of [" ", "\t", "  \n"]) {
        const provider = ConfigProvider.fromMap(new Map([["DRIFTGATE_ADMIN_TOKEN", blank]]))
        const exit = yield* Effect.exit(
          serve({ port: 0, stop: Effect.succeed("test") }).pipe(
            Effect.withConfigProvider(provider),
            Effect.provide(testLayer())
          )
        )
        expect(Exit.isFailure(exit)).toBe(true)
        const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
        expect((error as { _tag?: string })?._tag).toBe("UsageError")
        expect((error as { message: string }).message).toContain("DRIFTGATE_ADMIN_TOKEN")
        expect((error as { message: string }).message).toContain("whitespace")
      }
      const empty = ConfigProvider.fromMap(new Map([["DRIFTGATE_ADMIN_TOKEN", ""]]))
      const ok = yield* Effect.exit(
        serve({ port: 0, stop: Effect.succeed("test") }).pipe(
          Effect.withConfigProvider(empty),
          Effect.provide(testLayer())
        )
      )
      expect(Exit.isSuccess(ok)).toBe(true)
      yield* Effect.promise(() =>
        expect(makeServer({ source, config: config(), adminToken: " \t ", log: () => {} })).rejects.toThrow(
          /whitespace/
        )
      )
    })
  )
})

describe("serve: a large batch yields to the event loop", () => {
  it("is predicted in slices, and a /health request is answered between them", async () => {
    const calls: number[] = []
    let healthDoneAtCall = -1
    // eslint-disable-next-line prefer-const -- assigned below, after the instrumented model that refers to it
    let app!: FastifyInstance
    // the served model, instrumented: the first slice starts a /health request, which must finish
    // before the last slice (with one synchronous predict it could only run after the whole batch)
    const instrumented: ModelSource = {
      load: async () => {
        const set = await source.load()
        const models = new Map(
          [...set.models].map(([name, m]) => [
            name,
            {
              ...m,
              predict: (x: Parameters<typeof m.predict>[0]) => {
                calls.push(x.rows)
                if (calls.length === 1)
                  void app.inject({ method: "GET", url: "/health" }).then(() => (healthDoneAtCall = calls.length))
                return m.predict(x)
              }
            }
          ])
        )
        return { ...set, models }
      }
    }
    app = await makeServer({ source: instrumented, config: config({ max_batch_rows: 100_000 }), log: () => {} })
    try {
      const n = PREDICT_CHUNK_ROWS * 8 + 17
      const rows = Array.from({ length: n }, (_, i) => ({ age: 20 + (i % 50), income: 30000 + i, city: "nice" }))
      calls.length = 0
      const res = await app.inject({ method: "POST", url: "/predict/mixed", payload: { rows } })
      expect(res.statusCode).toBe(200)
      const body = res.json()
      expect(body.predictions).toHaveLength(n)
      expect(calls).toEqual([...Array.from({ length: 8 }, () => PREDICT_CHUNK_ROWS), 17])
      expect(healthDoneAtCall).toBeGreaterThan(0)
      expect(healthDoneAtCall).toBeLessThan(calls.length)
      // the slices give the answers one synchronous call gives
      const few = await app.inject({ method: "POST", url: "/predict/mixed", payload: { rows: rows.slice(0, 300) } })
      expect(body.predictions.slice(0, 300)).toEqual(few.json().predictions)
      const last = await app.inject({ method: "POST", url: "/predict/mixed", payload: { rows: rows.slice(n - 300) } })
      expect(body.predictions.slice(n - 300)).toEqual(last.json().predictions)
      // an unseen category in a late slice is counted like in one synchronous call
      const odd = rows.map((r) => ({ ...r }))
      odd[n - 3] = { ...odd[n - 3]!, city: "berlin" }
      const counted = await app.inject({ method: "POST", url: "/predict/mixed", payload: { rows: odd } })
      const alone = await app.inject({ method: "POST", url: "/predict/mixed", payload: { rows: [odd[n - 3]] } })
      expect(alone.json().unknown_categories).toBeDefined()
      expect(counted.json().unknown_categories).toEqual(alone.json().unknown_categories)
    } finally {
      await app.close()
    }
  }, 30_000)
})

describe("serve: a full disk under the prediction log", () => {
  it("is counted on /metrics by code and said once on stderr, not per row; recovery is said once too", async () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), "driftgate-serve-enospc-"))
    const disk = { full: true }
    const files: LogFiles = {
      open: async (file) => {
        const f = await nodeLogFiles.open(file)
        return {
          ...f,
          write: async (buffer, offset, length) => {
            if (disk.full) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" })
            return f.write(buffer, offset, length)
          }
        }
      }
    }
    const lines: string[] = []
    const app = await makeServer({
      source,
      config: config({
        prediction_log: { enabled: true, flush_interval_ms: 60_000, flush_rows: 1, max_queue: 1000 }
      }),
      predictionSink: makeLogFileWriter(ws, files),
      log: (l) => lines.push(l)
    })
    const row = { age: 40, income: 50000, city: "paris" }
    const counter = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1] ?? 0)
    /** One request, then wait until the log has handled its row (flush_rows 1: each row is its own append). */
    const predictAndFlush = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const before = (await app.inject({ method: "GET", url: "/metrics" })).body
        const handled = (t: string) =>
          counter(t, "driftgate_prediction_log_failed_rows_total") +
          counter(t, "driftgate_prediction_log_written_rows_total")
        expect(
          (await app.inject({ method: "POST", url: "/predict/mixed", payload: { features: row } })).statusCode
        ).toBe(200)
        for (let tries = 0; tries < 500; tries++) {
          if (handled((await app.inject({ method: "GET", url: "/metrics" })).body) > handled(before)) break
          await new Promise((r) => setTimeout(r, 10))
        }
      }
    }
    try {
      await predictAndFlush(4)
      const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body
      expect(metrics).toMatch(/driftgate_prediction_log_errors_total\{code="ENOSPC"\} 4\n/)
      expect(metrics).toMatch(/driftgate_prediction_log_failed_rows_total 4\n/)
      expect(lines.filter((l) => l.includes("cannot be written"))).toHaveLength(1)
      expect(lines[0]).toContain("ENOSPC")
      disk.full = false
      await predictAndFlush(2)
      expect(lines.filter((l) => l.includes("written again"))).toEqual([
        "driftgate serve: the prediction log is written again; 4 row(s) were lost meanwhile"
      ])
      expect(lines).toHaveLength(2)
      const after = (await app.inject({ method: "GET", url: "/metrics" })).body
      expect(after).toMatch(/driftgate_prediction_log_written_rows_total 2\n/)
    } finally {
      await app.close()
      fs.rmSync(ws, { recursive: true, force: true })
    }
  }, 30_000)
})
