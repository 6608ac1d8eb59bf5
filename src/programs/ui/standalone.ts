import { Console, Effect } from "effect"
import { UsageError } from "../../domain/errors.js"
import { Storage } from "../../services/Storage.js"
import { readAdminToken } from "../serve/adminToken.js"
import { loadServeConfig, shutdownSignal } from "../serve/serve.js"
import { blankAdminToken } from "../serve/server.js"
import type { UiServices } from "./routes.js"

export const DEFAULT_UI_PORT = 8090

export interface UiServerOptions {
  /** serve.yaml: host, ui.require_token and admin_token_env are read from it. */
  readonly configFile?: string | undefined
  readonly host?: string | undefined
  /** Default 8090 (so it runs beside `serve` on 8080); 0 picks a free port. */
  readonly port?: number | undefined
  /** Resolves when the server should stop (default: SIGTERM or SIGINT). */
  readonly stop?: Effect.Effect<unknown> | undefined
}

/**
 * `driftgate ui`: the dashboard alone, for a workspace that is not being served (no model is loaded,
 * nothing is predicted). Listens until stopped, then closes.
 */
export const serveUi = Effect.fn("ui.serve")(function* (options: UiServerOptions = {}) {
  const config = yield* loadServeConfig(options.configFile)
  const host = options.host ?? config.host
  const port = options.port ?? DEFAULT_UI_PORT
  const adminToken = yield* readAdminToken(config.admin_token_env)
  const weak = blankAdminToken(adminToken, config.admin_token_env)
  if (weak !== undefined) return yield* Effect.fail(new UsageError({ message: weak }))
  const storage = yield* Storage
  const runtime = yield* Effect.runtime<UiServices>()
  yield* Effect.scoped(
    Effect.gen(function* () {
      const app = yield* Effect.acquireRelease(
        Effect.promise(async () => {
          const [{ default: Fastify }, { registerUi }] = await Promise.all([import("fastify"), import("./routes.js")])
          const app = Fastify({ logger: false })
          await registerUi(app, {
            runtime,
            requireToken: config.ui.require_token,
            adminToken,
            adminTokenEnv: config.admin_token_env
          })
          return app
        }),
        (app) => Effect.promise(() => app.close())
      )
      const address = yield* Effect.tryPromise({
        try: () => app.listen({ host, port }),
        catch: (e) =>
          new UsageError({
            message: `cannot listen on ${host}:${port}: ${e instanceof Error ? e.message : String(e)}`
          })
      })
      yield* Console.log(`driftgate ui: dashboard at ${address}/ui`)
      yield* Console.error(
        `driftgate ui: workspace ${storage.root}; read-only${config.ui.require_token ? `; needs the admin token from ${config.admin_token_env}` : ""}`
      )
      yield* options.stop ?? shutdownSignal
    })
  )
})
