import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { listenUntilSignal } from "../exit.js"
import { existingWorkspaceLayer } from "../context.js"

/** The dashboard without serving models: stops like `serve` (SIGTERM once listening is exit 0). */
export const uiCommand = Command.make(
  "ui",
  {
    config: Options.file("config").pipe(
      Options.withDescription("serve config (YAML) for host, ui.require_token and admin_token_env"),
      Options.optional
    ),
    host: Options.text("host").pipe(
      Options.withDescription("address to listen on (default: the config's host, 127.0.0.1)"),
      Options.optional
    ),
    port: Options.integer("port").pipe(
      Options.withDescription("port to listen on; 0 picks a free one (default 8090)"),
      Options.optional
    )
  },
  (o) =>
    Effect.gen(function* () {
      // fastify and the pages load only for this command
      const { serveUi } = yield* Effect.promise(() => import("../../programs/ui/standalone.js"))
      yield* listenUntilSignal("ui", (stop) =>
        serveUi({
          configFile: Option.getOrUndefined(o.config),
          host: Option.getOrUndefined(o.host),
          port: Option.getOrUndefined(o.port),
          stop
        })
      )
    })
).pipe(
  Command.withDescription(
    "the read-only dashboard (runs, compare, models, drift) for a workspace, without serving models"
  ),
  Command.provide(existingWorkspaceLayer())
)
