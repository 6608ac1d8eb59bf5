import type { FastifyInstance } from "fastify"
import { randomUUID } from "node:crypto"
import { defaultServeConfig, type ServeConfig } from "../../domain/serveConfig.js"
import { clientErrorHandler, errorBody, frameworkErrors, serverFactory } from "./http/edges.js"
import { registerOps } from "./http/ops.js"
import { registerOpenApi, registerOpenApiDocument } from "./http/openapi.js"
import { decoratePredictRequest, registerPredict } from "./http/predict.js"
import { registerErrorHandlers, registerPage } from "./http/presentation.js"
import { registerReload } from "./http/reload.js"
import { makeServedState, type ServedState } from "./http/state.js"
import { makeMetrics, type ServeMetrics } from "./metrics.js"
import type { ModelSet, ModelSource } from "./modelSet.js"
import { PredictionLog, type PredictionSink } from "./predictionLog.js"
import type { UiOptions } from "../ui/routes.js"

export interface ServerOptions {
  /** Loads the model set; called again by POST /admin/reload. */
  readonly source: ModelSource
  /** The set to start with (default: `source.load()` now). */
  readonly initial?: ModelSet | undefined
  /** Decoded serve config (default: all defaults). host/port are the caller's business (listen). */
  readonly config?: ServeConfig | undefined
  /** Bearer token of POST /admin/reload; absent or empty → reload disabled (403). */
  readonly adminToken?: string | undefined
  /** Where the prediction log goes; absent (or prediction_log.enabled false) → no log. */
  readonly predictionSink?: PredictionSink | undefined
  /** The dashboard's services (/ui); absent → no dashboard (config ui.enabled decides too). */
  readonly ui?: { readonly runtime: UiOptions["runtime"] } | undefined
  /** Warnings and unexpected failures (default: stderr). */
  readonly log?: ((line: string) => void) | undefined
  /** Receives the served state and the metrics once built (serve follows the registry through them). */
  readonly onState?: ((state: ServedState, metrics: ServeMetrics) => void) | undefined
}

/**
 * A token of spaces (a template that left the variable blank, a stray newline) can never be sent
 * back in an Authorization header, so it would enable an endpoint nobody can call: refuse it at
 * start-up. Empty (or unset) means reload is off.
 */
export const blankAdminToken = (token: string | undefined, variable: string): string | undefined =>
  token !== undefined && token !== "" && token.trim() === ""
    ? `the admin token in ${variable} is only whitespace; set a real token to enable POST /admin/reload, or leave ${variable} empty or unset to disable it`
    : undefined

const errorCode = (e: unknown): string => {
  const code = (e as { code?: unknown } | null)?.code
  return typeof code === "string" && /^[A-Z0-9_]{1,32}$/.test(code) ? code : "other"
}

/**
 * Write errors of the prediction log on stderr once per outage, not once per row or per flush: the
 * first failure says what happened; the first success after it says how many rows the outage lost.
 */
const makeOutageReport = () => {
  let lost = 0
  let failing = false
  return {
    failed: (e: unknown, rows: number, log: (line: string) => void) => {
      lost += rows
      if (failing) return
      failing = true
      log(
        `driftgate serve: warning: the prediction log cannot be written (${e instanceof Error ? e.message : String(e)}); predictions are still answered, the rows are counted in driftgate_prediction_log_failed_rows_total and this is not repeated until writing works again`
      )
    },
    recovered: (log: (line: string) => void) => {
      if (!failing) return
      log(`driftgate serve: the prediction log is written again; ${lost} row(s) were lost meanwhile`)
      failing = false
      lost = 0
    }
  }
}

/**
 * Builds the prediction service (not listening): predict, models, health/readiness, metrics,
 * reload, OpenAPI + Swagger UI, and an HTML page (the routes live in ./http/). fastify and its
 * plugins are imported here, lazily, so that other commands never load them.
 */
export const makeServer = async (options: ServerOptions): Promise<FastifyInstance> => {
  const [{ default: Fastify }, prom, { default: swagger }, { default: swaggerUi }] = await Promise.all([
    import("fastify"),
    import("prom-client"),
    import("@fastify/swagger"),
    import("@fastify/swagger-ui")
  ])
  const config = options.config ?? defaultServeConfig()
  const weakToken = blankAdminToken(options.adminToken, config.admin_token_env)
  if (weakToken !== undefined) throw new Error(weakToken)
  const log =
    options.log ??
    ((line: string) => {
      process.stderr.write(`${line}\n`)
    })
  const initial = options.initial ?? (await options.source.load())
  const outage = makeOutageReport()

  const predictionLog =
    options.predictionSink !== undefined && config.prediction_log.enabled
      ? new PredictionLog(
          options.predictionSink,
          {
            flushIntervalMs: config.prediction_log.flush_interval_ms,
            flushRows: config.prediction_log.flush_rows,
            maxQueue: config.prediction_log.max_queue
          },
          {
            onDropped: (n) => metrics.logDropped(n),
            onWritten: (n, whole) => {
              metrics.logWritten(n)
              if (whole) outage.recovered(log)
            },
            onError: (e, n) => {
              metrics.logFailed(n)
              metrics.logError(errorCode(e))
              outage.failed(e, n, log)
            }
          }
        )
      : undefined
  const metrics = makeMetrics(prom, () => predictionLog?.queued ?? 0)
  const state = makeServedState(initial, options.source, metrics)
  options.onState?.(state, metrics)

  const app = Fastify({
    logger: false,
    bodyLimit: config.body_limit_bytes,
    requestTimeout: config.request_timeout_ms,
    serverFactory: serverFactory(config.request_timeout_ms),
    clientErrorHandler,
    frameworkErrors,
    genReqId: () => randomUUID(),
    // answered below, with the service's error body
    return503OnClosing: false,
    // strict validation: no coercion ("1.5" is not a number), no silent removal of unknown fields
    ajv: {
      customOptions: {
        coerceTypes: false,
        removeAdditional: false,
        useDefaults: false,
        allErrors: true,
        allowUnionTypes: true
      }
    }
  })
  decoratePredictRequest(app)
  // Response schemas document the API; JSON.stringify writes the bodies (probabilities have dynamic keys).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  registerErrorHandlers(app, log)
  let closing = false
  app.addHook("preClose", (done) => {
    closing = true
    done()
  })
  app.addHook("onRequest", (request, reply, done) => {
    if (!closing) return done()
    void reply
      .code(503)
      .header("connection", "close")
      .send(errorBody("shutting_down", "the server is shutting down; retry on another instance", request.id))
  })

  if (predictionLog !== undefined)
    app.addHook("onClose", async () => {
      await predictionLog.close()
    })

  await registerOpenApi(app, swagger, swaggerUi)
  registerPredict(app, { state, metrics, predictionLog, maxBatchRows: config.max_batch_rows })
  registerOps(app, state, metrics)
  registerReload(app, state, options.adminToken, config.admin_token_env)
  registerOpenApiDocument(app)
  registerPage(app, state.current)
  if (options.ui !== undefined && config.ui.enabled) {
    const { registerUi } = await import("../ui/routes.js")
    await registerUi(app, {
      runtime: options.ui.runtime,
      served: () =>
        new Map([...state.current().models.values()].map((m) => [m.name, { version: m.version, stage: m.stage }])),
      requireToken: config.ui.require_token,
      adminToken: options.adminToken,
      adminTokenEnv: config.admin_token_env
    })
  }
  return app
}
