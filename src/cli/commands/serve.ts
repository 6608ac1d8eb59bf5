import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { listenUntilSignal } from "../exit.js"
import { workspaceLayer } from "../context.js"

/**
 * Serving ends on SIGTERM/SIGINT: runMain interrupts the command, the server's scope closes (no new
 * connections, requests in flight answered, the prediction log written) and the store is closed.
 * Once the server listens, SIGTERM is its documented end (exit 0); SIGINT (Ctrl-C), or any signal
 * during start-up, is an interruption like any other (exit 130), after the same graceful stop.
 */
export const serveCommand = Command.make(
  "serve",
  {
    config: Options.file("config").pipe(
      Options.withDescription("serve config (YAML; default: configs/serve.yaml when it exists)"),
      Options.optional
    ),
    host: Options.text("host").pipe(
      Options.withDescription("address to listen on (default: the config's host, 127.0.0.1)"),
      Options.optional
    ),
    port: Options.integer("port").pipe(
      Options.withDescription("port to listen on; 0 picks a free one (default: the config's port, 8080)"),
      Options.optional
    ),
    model: Options.text("model").pipe(Options.withDescription("serve only this registered model"), Options.optional)
  },
  (o) =>
    Effect.gen(function* () {
      // loaded on demand: fastify and the serving code stay out of every other command's start-up
      const { serve } = yield* Effect.promise(() => import("../../programs/serve/serve.js"))
      yield* listenUntilSignal(
        "serve",
        (stop) =>
          serve({
            configFile: Option.getOrUndefined(o.config),
            host: Option.getOrUndefined(o.host),
            port: Option.getOrUndefined(o.port),
            model: Option.getOrUndefined(o.model),
            stop
          }),
        Console.error("driftgate serve: stopping: finishing requests in flight, writing the prediction log")
      )
    })
).pipe(
  Command.withDescription("serve the registered models over HTTP: predict, models, health, metrics, reload, docs"),
  Command.provide(workspaceLayer())
)
