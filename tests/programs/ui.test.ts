import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, ManagedRuntime } from "effect"
import { RegistryMemory } from "../../src/layers/registry/RegistryMemory.js"
import { StorageMemory } from "../../src/layers/storage/StorageMemory.js"
import { TrackerMemory } from "../../src/layers/tracker/TrackerMemory.js"
import { registerUi } from "../../src/programs/ui/routes.js"
import { Storage } from "../../src/services/Storage.js"
import { Tracker } from "../../src/services/Tracker.js"

/** The dashboard's HTTP edge on in-memory layers (fastify inject): token gate, escaping, file lookups. */

const HOSTILE = `<script>document.title="pwned"</script><img src=x onerror=alert(1)>`

const setup = async (options: { requireToken?: boolean; adminToken?: string } = {}) => {
  const runtime = ManagedRuntime.make(Layer.mergeAll(TrackerMemory, RegistryMemory, StorageMemory))
  await runtime.runPromise(
    Effect.gen(function* () {
      const tracker = yield* Tracker
      const storage = yield* Storage
      yield* tracker.createRun({ runId: "run-a", experiment: HOSTILE, anchors: { dataset_version: "abc" } })
      yield* tracker.logParams("run-a", { [HOSTILE]: HOSTILE, C: 1 })
      yield* tracker.logMetrics("run-a", [{ key: "val.accuracy", value: 0.875 }])
      yield* tracker.setTags("run-a", { dataset: HOSTILE, model_kind: "logistic_regression" })
      yield* tracker.endRun("run-a", "completed")
      yield* storage.write("reports/run-a/run_report.json", JSON.stringify({ stages: [] }))
      yield* storage.write("reports/run-ab/secret.json", "{}")
      yield* storage.write("store.db", "not for the browser")
    })
  )
  const { default: Fastify } = await import("fastify")
  const app = Fastify({ logger: false })
  const rt = await runtime.runtime()
  await registerUi(app, {
    runtime: rt,
    requireToken: options.requireToken,
    adminToken: options.adminToken,
    adminTokenEnv: "DRIFTGATE_ADMIN_TOKEN"
  })
  return { app, close: () => Promise.all([app.close(), runtime.dispose()]) }
}

describe("the dashboard's pages", () => {
  it("escape every value from data: experiment, dataset, param names and values", async () => {
    const { app, close } = await setup()
    for (const url of ["/ui/runs", "/ui/runs/run-a", "/ui/compare?run=run-a&run=run-a&run=nope"]) {
      const r = await app.inject({ url })
      if (url.startsWith("/ui/compare")) {
        expect(r.statusCode).toBe(404)
        continue
      }
      expect(r.statusCode, url).toBe(200)
      expect(r.body, url).not.toContain("<script>document")
      expect(r.body, url).not.toContain("<img src=x")
      expect(r.body, url).toContain("&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;")
      expect(r.headers["content-security-policy"]).toContain("default-src 'none'")
    }
    const runs = await app.inject({ url: "/ui/runs" })
    expect(runs.body).toContain("0.8750")
    await close()
  })

  it("serve a run's files only from its own folder's listing, never a sibling folder or the store", async () => {
    const { app, close } = await setup()
    const ok = await app.inject({ url: "/ui/runs/run-a/file?key=reports%2Frun-a%2Frun_report.json" })
    expect(ok.statusCode).toBe(200)
    expect(ok.headers["content-disposition"]).toBe('attachment; filename="run_report.json"')
    for (const key of ["reports/run-ab/secret.json", "store.db", "reports/run-a/../../store.db", ""]) {
      const r = await app.inject({ url: `/ui/runs/run-a/file?key=${encodeURIComponent(key)}` })
      expect(r.statusCode, key).toBe(404)
    }
    await close()
  })

  it("with ui.require_token: closed without a token, a sign-in otherwise; the bearer header or the cookie opens it", async () => {
    const closed = await setup({ requireToken: true })
    const c = await closed.app.inject({ url: "/ui/runs" })
    expect(c.statusCode).toBe(403)
    expect(c.body).toContain("DRIFTGATE_ADMIN_TOKEN is not set")
    await closed.close()

    const { app, close } = await setup({ requireToken: true, adminToken: "s3cret" })
    const anon = await app.inject({ url: "/ui/runs" })
    expect(anon.statusCode).toBe(303)
    expect(anon.headers.location).toBe("/ui/login")
    expect((await app.inject({ url: "/ui/runs", headers: { authorization: "Bearer nope" } })).statusCode).toBe(303)
    expect((await app.inject({ url: "/ui/runs", headers: { authorization: "Bearer s3cret" } })).statusCode).toBe(200)
    const wrong = await app.inject({
      method: "POST",
      url: "/ui/login",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "token=guess"
    })
    expect(wrong.statusCode).toBe(401)
    expect(wrong.headers["set-cookie"]).toBeUndefined()
    const login = await app.inject({
      method: "POST",
      url: "/ui/login",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "token=s3cret"
    })
    expect(login.statusCode).toBe(303)
    const cookie = String(login.headers["set-cookie"])
    expect(cookie).toContain("HttpOnly")
    expect(cookie).not.toContain("s3cret")
    const withCookie = await app.inject({ url: "/ui/runs", headers: { cookie: cookie.split(";")[0]! } })
    expect(withCookie.statusCode).toBe(200)
    const forged = await app.inject({ url: "/ui/runs", headers: { cookie: "driftgate_ui=s3cret" } })
    expect(forged.statusCode).toBe(303)
    await close()
  })
})
