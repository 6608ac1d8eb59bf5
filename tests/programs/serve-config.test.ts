import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Deferred, Effect, Fiber, Schedule } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { testLayer } from "../../src/layers/test.js"
import { readAdminToken } from "../../src/programs/serve/adminToken.js"
import { serve } from "../../src/programs/serve/serve.js"

// The admin token of POST /admin/reload is read through Effect's Config (the variable named by the
// serve config's admin_token_env), so the ConfigProvider decides where it comes from, not process.env.

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "driftgate-serve-config-"))
const serveYaml = (adminTokenEnv?: string) => {
  const file = path.join(tmp, `serve-${adminTokenEnv ?? "default"}.yaml`)
  fs.writeFileSync(file, `host: 127.0.0.1\n${adminTokenEnv !== undefined ? `admin_token_env: ${adminTokenEnv}\n` : ""}`)
  return file
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

/** Runs `driftgate serve` (the program) under `provider`, POSTs /admin/reload with each header, stops it. */
const reloadStatuses = (
  provider: ConfigProvider.ConfigProvider,
  configFile: string,
  authorizations: ReadonlyArray<string | undefined>
) =>
  Effect.gen(function* () {
    const port = yield* Effect.promise(freePort)
    const stop = yield* Deferred.make<string>()
    const server = yield* Effect.fork(serve({ configFile, port, stop: Deferred.await(stop) }))
    const base = `http://127.0.0.1:${port}`
    // listening once /health answers
    yield* Effect.retry(
      Effect.tryPromise(() => fetch(`${base}/health`)),
      Schedule.intersect(Schedule.spaced("25 millis"), Schedule.recurs(400))
    )
    const answers: Array<{ status: number; body: { error?: string; message?: string; status?: string } }> = []
    for (const authorization of authorizations) {
      const res = yield* Effect.promise(() =>
        fetch(`${base}/admin/reload`, {
          method: "POST",
          headers: authorization !== undefined ? { authorization } : {}
        })
      )
      answers.push({
        status: res.status,
        body: (yield* Effect.promise(() => res.json())) as (typeof answers)[0]["body"]
      })
    }
    yield* Deferred.succeed(stop, "test")
    yield* Fiber.join(server)
    return answers
  }).pipe(Effect.provide(testLayer()), Effect.withConfigProvider(provider))

describe("serve: the admin token through Config", () => {
  it.effect("readAdminToken reads the named variable from the ConfigProvider; unset is undefined", () =>
    Effect.gen(function* () {
      const provider = ConfigProvider.fromMap(new Map([["MY_RELOAD_TOKEN", "tok-1"]]))
      expect(yield* readAdminToken("MY_RELOAD_TOKEN").pipe(Effect.withConfigProvider(provider))).toBe("tok-1")
      expect(yield* readAdminToken("DRIFTGATE_ADMIN_TOKEN").pipe(Effect.withConfigProvider(provider))).toBe(undefined)
    })
  )

  it.live(
    "serve enables reload with the token the ConfigProvider gives, and refuses other tokens",
    () =>
      Effect.gen(function* () {
        const provider = ConfigProvider.fromMap(new Map([["DRIFTGATE_ADMIN_TOKEN", "s3cret-from-config"]]))
        const [ok, wrong, missing] = yield* reloadStatuses(provider, serveYaml(), [
          "Bearer s3cret-from-config",
          "Bearer s3cret-from-configX",
          undefined
        ])
        expect(ok!.status).toBe(200)
        expect(ok!.body.status).toBe("reloaded")
        expect(wrong!.status).toBe(401)
        expect(missing!.status).toBe(401)
      }),
    30_000
  )

  it.live(
    "the variable is the one admin_token_env names, and process.env is not read behind the provider's back",
    () =>
      Effect.gen(function* () {
        const before = process.env.DRIFTGATE_ADMIN_TOKEN
        process.env.DRIFTGATE_ADMIN_TOKEN = "from-process-env"
        try {
          const provider = ConfigProvider.fromMap(new Map([["TEAM_RELOAD_TOKEN", "team-token"]]))
          // default admin_token_env (DRIFTGATE_ADMIN_TOKEN) is absent from the provider: reload is off
          const [disabled] = yield* reloadStatuses(provider, serveYaml(), ["Bearer from-process-env"])
          expect(disabled!.status).toBe(403)
          expect(disabled!.body.error).toBe("reload_disabled")
          expect(disabled!.body.message).toContain("DRIFTGATE_ADMIN_TOKEN")
          // a config naming TEAM_RELOAD_TOKEN reads that one
          const [ok, other] = yield* reloadStatuses(provider, serveYaml("TEAM_RELOAD_TOKEN"), [
            "Bearer team-token",
            "Bearer from-process-env"
          ])
          expect(ok!.status).toBe(200)
          expect(other!.status).toBe(401)
        } finally {
          if (before === undefined) delete process.env.DRIFTGATE_ADMIN_TOKEN
          else process.env.DRIFTGATE_ADMIN_TOKEN = before
        }
      }),
    30_000
  )
})
