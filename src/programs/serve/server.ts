import type { FastifyInstance } from "fastify"
import { randomUUID } from "node:crypto"
import { defaultServeConfig, type ServeConfig } from "../../domain/serveConfig.js"
import { registerOps } from "./http/ops.js"
import { registerOpenApi, registerOpenApiDocument } from "./http/openapi.js"
import { decoratePredictRequest, registerPredict } from "./http/predict.js"
import { registerErrorHandlers, registerPage } from "./http/presentation.js"
import { registerReload } from "./http/reload.js"
import { makeServedState } from "./http/state.js"
import { makeMetrics } from "./metrics.js"
import type { ModelSet, ModelSource } from "./modelSet.js"
import { PredictionLog, type PredictionSink } from "./predictionLog.js"

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
  /** Warnings and unexpected failures (default: stderr). */
  readonly log?: ((line: string) => void) | undefined
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
  const log =
    options.log ??
    ((line: string) => {
      process.stderr.write(`${line}\n`)
    })
  const initial = options.initial ?? (await options.source.load())

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
            onWritten: (n) => metrics.logWritten(n),
            onError: (e, n) => {
              metrics.logFailed(n)
              log(
                `driftgate serve: warning: ${n} prediction log row(s) could not be written: ${e instanceof Error ? e.message : String(e)}`
              )
            }
          }
        )
      : undefined
  const metrics = makeMetrics(prom, () => predictionLog?.queued ?? 0)
  const state = makeServedState(initial, options.source, metrics)

  const app = Fastify({
    logger: false,
    bodyLimit: config.body_limit_bytes,
    requestTimeout: config.request_timeout_ms,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
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
  return app
}
