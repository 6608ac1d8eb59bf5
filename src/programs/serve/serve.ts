import { FileSystem } from "@effect/platform"
import { Cause, Config, Console, Effect, Exit, Option, Runtime, Stream } from "effect"
import * as path from "node:path"
import { describeError, type DriftgateError } from "../../domain/describe.js"
import { UsageError } from "../../domain/errors.js"
import { headLabel, sameHead } from "../../domain/registry.js"
import { decodeServeConfig, type ServeConfig } from "../../domain/serveConfig.js"
import type { ImageCodec } from "../../services/ImageCodec.js"
import { Registry } from "../../services/Registry.js"
import { Storage } from "../../services/Storage.js"
import { type Trainer } from "../../services/Trainer.js"
import { type Tracker } from "../../services/Tracker.js"
import { readYamlFile } from "../loadConfig.js"
import { readAdminToken } from "./adminToken.js"
import { type LoadOptions, loadModelSet, type ModelSource } from "./modelSet.js"
import type { PredictionSink } from "./predictionLog.js"
import { makeLogFileWriter } from "./predictionLogFile.js"
import { blankAdminToken, makeServer } from "./server.js"
import type { ServedState } from "./http/state.js"
import type { ServeMetrics } from "./metrics.js"

export const DEFAULT_SERVE_CONFIG = "configs/serve.yaml"

export type FollowMode = "auto" | "poll" | "off"

/** DRIFTGATE_REGISTRY_FOLLOW: auto (default, also when empty), poll or off; anything else is a usage error. */
export const followModeConfig = Effect.gen(function* () {
  const raw = Option.getOrElse(
    yield* Config.string("DRIFTGATE_REGISTRY_FOLLOW").pipe(Config.option, Effect.orElseSucceed(Option.none<string>)),
    () => ""
  ).trim()
  if (raw === "") return "auto" as FollowMode
  if (raw === "auto" || raw === "poll" || raw === "off") return raw as FollowMode
  return yield* Effect.fail(
    new UsageError({ message: `DRIFTGATE_REGISTRY_FOLLOW is "${raw}": it must be auto, poll or off` })
  )
})

/**
 * Reads and strictly decodes a serve config. `file` absent → configs/serve.yaml when it exists in
 * the current folder, else the defaults; a file named explicitly must exist.
 */
export const loadServeConfig = Effect.fn("serve.loadConfig")(function* (file: string | undefined) {
  const fs = yield* FileSystem.FileSystem
  const explicit = file !== undefined
  const abs = path.resolve(file ?? DEFAULT_SERVE_CONFIG)
  if (!explicit && !(yield* fs.exists(abs).pipe(Effect.orElseSucceed(() => false))))
    return yield* decodeServeConfig({}, abs)
  const raw = yield* readYamlFile(abs)
  return yield* decodeServeConfig(raw, abs)
})

export interface ServeOptions {
  /** serve.yaml (see loadServeConfig). */
  readonly configFile?: string | undefined
  readonly host?: string | undefined
  readonly port?: number | undefined
  /** Serve only this registered model. */
  readonly model?: string | undefined
  /** Overrides the admin token otherwise read (through Config) from the variable the config names. */
  readonly adminToken?: string | undefined
  /** Resolves when the server should stop (default: SIGTERM or SIGINT). */
  readonly stop?: Effect.Effect<string> | undefined
  /**
   * Following the registry: when its head moves (a promotion, rollback or alias change, from any
   * process sharing the store), reload through the same path as POST /admin/reload. "auto" (default):
   * LISTEN on PostgreSQL, polling otherwise; "poll": polling everywhere; "off": only
   * POST /admin/reload. Default: DRIFTGATE_REGISTRY_FOLLOW (through Config), else "auto".
   */
  readonly follow?: FollowMode | undefined
  /** Polling interval when following by polling (SQLite, memory, or PostgreSQL while reconnecting); default 1000. */
  readonly pollMs?: number | undefined
}

/** Resolves on the first SIGTERM or SIGINT, and then stops listening for them (a second one kills). */
export const shutdownSignal: Effect.Effect<string> = Effect.async<string>((resume) => {
  const handlers = (["SIGTERM", "SIGINT"] as const).map(
    (sig) =>
      [
        sig,
        () => {
          off()
          resume(Effect.succeed(sig))
        }
      ] as const
  )
  const off = () => {
    for (const [sig, h] of handlers) process.off(sig, h)
  }
  for (const [sig, h] of handlers) process.once(sig, h)
  return Effect.sync(off)
})

const causeMessage = (cause: Cause.Cause<DriftgateError>): string => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) return describeError(failure.value)
  const defect = Cause.squash(cause)
  return defect instanceof Error ? defect.message : String(defect)
}

/** A ModelSource over the Registry of `runtime`: each load reads the registry again; a failure rejects with one sentence. */
export const modelSource = (
  runtime: Runtime.Runtime<Registry | Storage | Trainer | ImageCodec>,
  options: LoadOptions
): ModelSource => ({
  load: () =>
    Runtime.runPromiseExit(runtime)(loadModelSet(options)).then((exit) => {
      if (Exit.isSuccess(exit)) return exit.value
      throw new Error(causeMessage(exit.cause))
    })
})

/**
 * Follows the registry: each time its head moves past the head the served set was loaded at, reloads
 * through the served state's one reload path (atomic swap; on failure the previous models stay and
 * the failure is counted). Says on stderr (and in driftgate_registry_follow_mode) how it follows.
 */
export const followRegistry = (
  registry: Registry["Type"],
  state: ServedState,
  metrics: ServeMetrics,
  poll: boolean,
  pollMs?: number
): Effect.Effect<void> =>
  registry.changes({ poll, pollMs }).pipe(
    Stream.runForEach((event) => {
      if (event._tag === "Mode") {
        metrics.followMode(event.mode)
        return Console.error(
          `driftgate serve: following the registry by ${event.mode === "listen" ? "LISTEN" : "polling"}: ${event.reason}`
        )
      }
      const servedHead = state.current().registryHead
      if (servedHead !== undefined && (sameHead(servedHead, event.head) || servedHead.seq > event.head.seq))
        return Effect.void
      return Effect.promise(() => state.reload()).pipe(
        Effect.flatMap((r) =>
          r.ok
            ? Console.error(
                `driftgate serve: registry moved to ${headLabel(event.head)}; serving ${[...r.set.models.values()].map((m) => `${m.name} v${m.version}`).join(", ") || "no model"}`
              )
            : Console.error(
                `driftgate serve: registry moved to ${headLabel(event.head)} but the reload failed, still serving the previous models: ${r.error}`
              )
        )
      )
    })
  )

/**
 * `driftgate serve`: loads the models at the allowed stage from the Registry, serves them over HTTP
 * until SIGTERM/SIGINT, then stops accepting, finishes the requests in flight, writes the rest of the
 * prediction log and returns.
 */
export const serve = Effect.fn("serve.run")(function* (options: ServeOptions = {}) {
  const loaded = yield* loadServeConfig(options.configFile)
  const config: ServeConfig = {
    ...loaded,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {})
  }
  const storage = yield* Storage
  const runtime = yield* Effect.runtime<Registry | Storage | Trainer | ImageCodec>()
  const uiRuntime = yield* Effect.runtime<Registry | Storage | Tracker>()
  const loadOptions = {
    stage: config.allowed_stage,
    models: options.model !== undefined ? [options.model] : config.models,
    maxBatchRows: config.max_batch_rows
  }
  const source = modelSource(runtime, loadOptions)
  // On disk, the log's own writer (whole lines, repaired after a failed write); elsewhere the Storage.
  const sink: PredictionSink = path.isAbsolute(storage.root)
    ? makeLogFileWriter(storage.root)
    : { append: (key, text) => Runtime.runPromise(runtime)(storage.append(key, text)) }
  const initial = yield* loadModelSet({ ...loadOptions, onMismatch: "skip" })
  const adminToken = options.adminToken ?? (yield* readAdminToken(config.admin_token_env))
  const weak = blankAdminToken(adminToken, config.admin_token_env)
  if (weak !== undefined) return yield* Effect.fail(new UsageError({ message: weak }))

  const registry = yield* Registry
  const follow = options.follow ?? (yield* followModeConfig)

  yield* Effect.scoped(
    Effect.gen(function* () {
      let served: { state: ServedState; metrics: ServeMetrics } | undefined
      const app = yield* Effect.acquireRelease(
        Effect.promise(() =>
          makeServer({
            source,
            initial,
            config,
            adminToken,
            predictionSink: sink,
            ui: { runtime: uiRuntime },
            onState: (state, metrics) => {
              served = { state, metrics }
            }
          })
        ),
        (app) => Effect.promise(() => app.close())
      )
      const address = yield* Effect.tryPromise({
        try: () => app.listen({ host: config.host, port: config.port }),
        catch: (e) =>
          new UsageError({
            message: `cannot listen on ${config.host}:${config.port}: ${e instanceof Error ? e.message : String(e)}`
          })
      })
      const models = [...initial.models.values()].map((m) => `${m.name} v${m.version}`)
      yield* Console.log(`driftgate serve: listening on ${address}`)
      if (config.ui.enabled)
        yield* Console.error(
          `driftgate serve: dashboard at ${address}/ui${config.ui.require_token ? ` (needs the admin token from ${config.admin_token_env})` : ""}`
        )
      yield* Console.error(
        `driftgate serve: ${models.length ? `serving ${models.join(", ")} (${config.allowed_stage})` : `no model loaded (${initial.notes.join("; ") || `nothing at stage ${config.allowed_stage}`}); /ready answers 503 until a reload finds one`}; workspace ${storage.root}; reload ${adminToken ? "enabled" : `disabled (${config.admin_token_env} not set)`}`
      )
      if (follow !== "off" && served !== undefined)
        yield* Effect.forkScoped(
          followRegistry(registry, served.state, served.metrics, follow === "poll", options.pollMs)
        )
      else
        yield* Console.error(
          "driftgate serve: not following the registry (DRIFTGATE_REGISTRY_FOLLOW=off): POST /admin/reload reloads"
        )
      const signal = yield* options.stop ?? shutdownSignal
      yield* Console.error(`driftgate serve: ${signal}: finishing requests in flight, writing the prediction log`)
    })
  )
  yield* Console.error("driftgate serve: stopped")
})
