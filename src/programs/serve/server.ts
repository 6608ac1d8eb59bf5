import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify"
import { createHash, randomBytes, randomUUID } from "node:crypto"
import { defaultServeConfig, type ServeConfig } from "../../domain/serveConfig.js"
import type { Scalar } from "../../ml/frame.js"
import { LearnerInputError } from "../../ml/matrix.js"
import { transformRow } from "../../ml/preprocess.js"
import { DRIFTGATE_VERSION } from "../../version.js"
import { makeAdminCheck } from "./adminToken.js"
import { makeMetrics } from "./metrics.js"
import { ImageDecodeError, type ModelSet, type ModelSource, PredictInputError, type ServedModel } from "./modelSet.js"
import { renderIndex } from "./page.js"
import { PredictionLog, type PredictionSink } from "./predictionLog.js"
import { type AjvError, envelopeSchema, fieldErrors, type JsonSchema } from "./requestSchema.js"

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

type Row = Readonly<Record<string, Scalar>>
interface PredictBody {
  readonly features?: Row
  readonly rows?: ReadonlyArray<Row>
  readonly image?: string
  readonly images?: ReadonlyArray<string>
}
interface Labels {
  readonly model: string
  readonly version: string
}

declare module "fastify" {
  interface FastifyRequest {
    /** Metric labels of a predict request, set by the handler. */
    dgLabels: Labels | null
  }
}

const UNKNOWN: Labels = { model: "_unknown", version: "" }

const errorName = (code: string | undefined, status: number): string => {
  switch (code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return "body_too_large"
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return "unsupported_media_type"
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return "invalid_json"
    default:
      return status === 413 ? "body_too_large" : status === 404 ? "not_found" : "bad_request"
  }
}

const modelSummary = (m: ServedModel) => ({ name: m.name, version: m.version, stage: m.stage })

const describeModel = (m: ServedModel) => ({
  name: m.name,
  version: m.version,
  stage: m.stage,
  aliases: m.aliases,
  task_type: m.taskType,
  algorithm: m.algorithm,
  trained_at: m.trainedAt,
  run_id: m.runId,
  dataset: m.featureMap.dataset,
  dataset_version: m.datasetVersion,
  target: m.featureMap.target,
  classes: m.classes,
  ...(m.image !== null
    ? {
        input_shape: [m.image.height, m.image.width, m.image.channels],
        input: `one image (PNG or JPEG, base64) as {"image": "..."}, or {"images": [...]}; resized to ${m.image.width}x${m.image.height}, ${m.image.channels === 1 ? "greyscale" : "RGB"}, scaled to [0, 1]`,
        input_schema: (m.schemas.single as { properties: { image: unknown } }).properties.image
      }
    : describeFeatures(m))
})

const describeFeatures = (m: ServedModel) => ({
  features: m.featureMap.input_features.map((f) => ({
    name: f.name,
    type: f.dtype,
    nullable: f.nullable,
    ...(f.categories !== undefined ? { categories: f.categories } : {}),
    ...(f.min !== undefined ? { min: f.min } : {}),
    ...(f.max !== undefined ? { max: f.max } : {})
  })),
  input_schema: (m.schemas.single as { properties: { features: unknown } }).properties.features
})

/** Class label → probability of row r (a null-prototype object: a label may be any string). */
const probaOf = (classes: ReadonlyArray<string>, proba: Float64Array, r: number): Record<string, number> => {
  const k = classes.length
  const o = Object.create(null) as Record<string, number>
  for (let c = 0; c < k; c++) o[classes[c]!] = proba[r * k + c]!
  return o
}

const addUnknown = (acc: Record<string, number> | null, u: Record<string, number>): Record<string, number> | null => {
  for (const key in u) {
    const n = u[key]!
    if (n > 0) {
      acc ??= Object.create(null) as Record<string, number>
      acc[key] = (acc[key] ?? 0) + n
    }
  }
  return acc
}

const errorSchema = {
  type: "object",
  properties: {
    error: { type: "string" },
    message: { type: "string" },
    request_id: { type: "string" },
    fields: {
      type: "array",
      items: { type: "object", properties: { field: { type: "string" }, message: { type: "string" } } }
    }
  }
}
/** What the prediction log keeps of an uploaded image: its hash and size, never its pixels. */
const imageDigest = (bytes: Uint8Array): Row => ({
  image_sha256: createHash("sha256").update(bytes).digest("hex"),
  bytes: bytes.length
})

const labelOrNumber = { oneOf: [{ type: "string" }, { type: "number" }] }
const probabilities = {
  type: "object",
  additionalProperties: { type: "number" },
  description: "class label → probability (classifiers)"
}
const predictResponse = {
  description:
    "prediction(s) of the served version; `prediction`+`probabilities` for `features`, `predictions`+`probabilities[]` for `rows`",
  type: "object",
  properties: {
    model: { type: "string" },
    version: { type: "integer" },
    stage: { type: "string" },
    request_id: { type: "string" },
    prediction: labelOrNumber,
    probabilities: { oneOf: [probabilities, { type: "array", items: probabilities }] },
    predictions: { type: "array", items: labelOrNumber },
    unknown_categories: { type: "object", additionalProperties: { type: "integer" } }
  }
}

/**
 * Builds the prediction service (not listening): predict, models, health/readiness, metrics,
 * reload, OpenAPI + Swagger UI, and an HTML page. fastify and its plugins are imported here, lazily,
 * so that other commands never load them.
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
  let current: ModelSet = options.initial ?? (await options.source.load())
  let lastReload: { at: string; ok: boolean; error?: string } | null = null

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
  // Ajv keeps every schema object it compiled (a Map, not a WeakMap): reuse one object per distinct
  // schema, so reloading the same feature maps compiles nothing new and memory stays flat.
  const schemaObjects = new Map<string, JsonSchema>()
  const intern = (schema: JsonSchema): JsonSchema => {
    const key = JSON.stringify(schema)
    const hit = schemaObjects.get(key)
    if (hit !== undefined) return hit
    schemaObjects.set(key, schema)
    return schema
  }
  const labels = new WeakMap<ServedModel, Labels>()
  const swap = (loaded: ModelSet) => {
    const models = new Map<string, ServedModel>()
    for (const [name, m] of loaded.models) {
      const served: ServedModel = {
        ...m,
        schemas: { single: intern(m.schemas.single), batch: intern(m.schemas.batch) }
      }
      labels.set(served, { model: m.name, version: String(m.version) })
      models.set(name, served)
    }
    current = { ...loaded, models }
    metrics.setModels([...models.values()].map(modelSummary))
    return current
  }
  current = swap(current)

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
  app.decorateRequest("dgLabels", null)
  // Response schemas document the API; JSON.stringify writes the bodies (probabilities have dynamic keys).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const { fields, total } = fieldErrors(error.validation as unknown as ReadonlyArray<AjvError>)
      return reply.code(422).send({
        error: "validation_failed",
        message: `invalid request ${error.validationContext ?? "body"}: ${fields.map((f) => `${f.field} ${f.message}`).join("; ")}`,
        fields,
        ...(total > fields.length ? { fields_total: total } : {}),
        request_id: request.id
      })
    }
    const status = typeof error.statusCode === "number" && error.statusCode >= 400 ? error.statusCode : 500
    if (status < 500)
      return reply
        .code(status)
        .send({ error: errorName(error.code, status), message: error.message, request_id: request.id })
    log(
      `driftgate serve: unexpected failure on ${request.method} ${request.url} (request ${request.id}): ${error.stack ?? error.message}`
    )
    return reply.code(500).send({
      error: "internal_error",
      message: "unexpected failure while answering; see the server log",
      request_id: request.id
    })
  })
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: "not_found",
      message: `no route ${request.method} ${request.url.split("?")[0]}`,
      request_id: request.id
    })
  )

  if (predictionLog !== undefined)
    app.addHook("onClose", async () => {
      await predictionLog.close()
    })

  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "driftgate prediction service",
        version: DRIFTGATE_VERSION,
        description: "Predictions from the registry's models, with their fitted transforms."
      },
      components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } } }
    }
  })
  await app.register(swaggerUi, { routePrefix: "/docs" })

  // ---- predict (the hot path) ----------------------------------------------------------------

  const unprocessable = (reply: FastifyReply, request: FastifyRequest, message: string) =>
    reply.code(422).send({ error: "unpredictable_input", message, fields: [], request_id: request.id })

  /** POST /predict/:name for an image model: validate, decode (async), predict (async, tfjs), answer like the tabular path. */
  const predictImages = async (
    model: ServedModel,
    label: Labels,
    request: FastifyRequest<{ Params: { name: string }; Body: PredictBody }>,
    reply: FastifyReply
  ) => {
    const image = model.image!
    const body = request.body
    const single = body.image !== undefined
    const validate = request.compileValidationSchema(single ? model.schemas.single : model.schemas.batch, "body")
    if (!validate(body)) {
      const { fields, total } = fieldErrors((validate.errors ?? []) as ReadonlyArray<AjvError>, model.name, true)
      return reply.code(422).send({
        error: "validation_failed",
        message: `invalid request for model ${model.name}: ${fields.map((f) => `${f.field} ${f.message}`).join("; ")}`,
        fields,
        ...(total > fields.length ? { fields_total: total } : {}),
        request_id: request.id
      })
    }
    const encoded = single ? [body.image!] : body.images!
    const bytes = encoded.map((b) => new Uint8Array(Buffer.from(b, "base64")))
    let out
    try {
      out = await image.predictAsync(await image.decode(bytes))
    } catch (e) {
      if (e instanceof ImageDecodeError) {
        const field = single ? "image" : `images[${e.index}]`
        return reply.code(422).send({
          error: "undecodable_image",
          message: `invalid request for model ${model.name}: ${field} ${e.message}`,
          fields: [{ field, message: e.message }],
          request_id: request.id
        })
      }
      if (e instanceof PredictInputError || e instanceof LearnerInputError) {
        return unprocessable(
          reply,
          request,
          `model ${model.name} version ${label.version} cannot predict these images: ${e.message}`
        )
      }
      throw e
    }
    const classes = model.classes!
    const n = bytes.length
    const predictions = new Array<string>(n)
    for (let i = 0; i < n; i++) predictions[i] = classes[out.predictions[i]!]!
    const probs =
      out.proba !== undefined ? Array.from({ length: n }, (_, i) => probaOf(classes, out.proba!, i)) : undefined
    const ts = new Date().toISOString()
    predictionLog?.add(
      ts,
      request.id,
      model.name,
      model.version,
      single ? imageDigest(bytes[0]!) : bytes.map(imageDigest),
      single ? predictions[0]! : predictions
    )
    metrics.predictedRows(model.name, label.version, n)
    return reply.send({
      model: model.name,
      version: model.version,
      stage: model.stage,
      request_id: request.id,
      ...(single ? { prediction: predictions[0]! } : { predictions }),
      ...(probs !== undefined ? { probabilities: single ? probs[0]! : probs } : {})
    })
  }

  app.post<{ Params: { name: string }; Body: PredictBody }>(
    "/predict/:name",
    {
      schema: {
        summary: "Predict with a served model",
        description:
          'Tabular models: `{"features": {...}}` for one row or `{"rows": [{...}, ...]}` for a batch. Every input feature of the model is required, no other field is allowed, and types follow the feature map (GET /models). Image models: `{"image": "<base64 PNG/JPEG>"}` or `{"images": ["<base64>", ...]}`.',
        tags: ["predict"],
        params: {
          type: "object",
          properties: { name: { type: "string", description: "registered model name" } },
          required: ["name"]
        },
        body: envelopeSchema(config.max_batch_rows),
        response: { 200: predictResponse, 404: errorSchema, 422: errorSchema }
      },
      onResponse: (request, reply, done) => {
        // refused before the handler ran (body too large, not an object …): label by the model named, if served
        const named =
          request.dgLabels === null
            ? current.models.get((request.params as { name?: string } | undefined)?.name ?? "")
            : undefined
        const l = request.dgLabels ?? (named !== undefined ? labels.get(named) : undefined) ?? UNKNOWN
        metrics.observe(l.model, l.version, reply.statusCode, reply.elapsedTime / 1000)
        done()
      }
    },
    (request, reply) => {
      const set = current // this request keeps the set it started with, whatever a reload does meanwhile
      const model = set.models.get(request.params.name)
      reply.header("x-request-id", request.id)
      if (model === undefined) {
        reply.code(404).send({
          error: "model_not_found",
          message: `no model named ${JSON.stringify(request.params.name)} is served (serving: ${[...set.models.keys()].join(", ") || "none"})`,
          request_id: request.id
        })
        return
      }
      const label = labels.get(model)!
      const version = label.version
      request.dgLabels = label
      const body = request.body
      if (model.image !== null) return predictImages(model, label, request, reply)
      const features = body.features
      const single = features !== undefined
      const validate = request.compileValidationSchema(single ? model.schemas.single : model.schemas.batch, "body")
      if (!validate(body)) {
        const { fields, total } = fieldErrors((validate.errors ?? []) as ReadonlyArray<AjvError>, model.name, false)
        reply.code(422).send({
          error: "validation_failed",
          message: `invalid request for model ${model.name}: ${fields.map((f) => `${f.field} ${f.message}`).join("; ")}`,
          fields,
          ...(total > fields.length ? { fields_total: total } : {}),
          request_id: request.id
        })
        return
      }
      const classes = model.classes
      const p = model.transform.featureNames.length
      let rows: ReadonlyArray<Row> | undefined
      let out
      let unknown: Record<string, number> | null = null
      try {
        if (single) {
          const t = transformRow(model.transform, features)
          finiteOrSay(t.values, model.transform.featureNames, "features")
          unknown = addUnknown(unknown, t.unknownCategories)
          out = model.predict({ rows: 1, cols: p, data: t.values })
        } else {
          rows = body.rows!
          const n = rows.length
          const data = new Float64Array(n * p)
          for (let i = 0; i < n; i++) {
            const t = transformRow(model.transform, rows[i]!)
            finiteOrSay(t.values, model.transform.featureNames, `rows[${i}]`)
            unknown = addUnknown(unknown, t.unknownCategories)
            data.set(t.values, i * p)
          }
          out = model.predict({ rows: n, cols: p, data })
        }
      } catch (e) {
        if (e instanceof PredictInputError || e instanceof LearnerInputError) {
          unprocessable(
            reply,
            request,
            `model ${model.name} version ${version} cannot predict these values: ${e.message}`
          )
          return
        }
        throw e
      }
      const ts = new Date().toISOString()
      if (rows === undefined) {
        const v = out.predictions[0]!
        const prediction = classes === null ? v : classes[v]!
        predictionLog?.add(ts, request.id, model.name, model.version, features!, prediction)
        metrics.predictedRows(model.name, version, 1)
        reply.send({
          model: model.name,
          version: model.version,
          stage: model.stage,
          request_id: request.id,
          prediction,
          ...(classes !== null && out.proba !== undefined ? { probabilities: probaOf(classes, out.proba, 0) } : {}),
          ...(unknown !== null ? { unknown_categories: unknown } : {})
        })
        return
      }
      const n = rows.length
      const predictions = new Array<string | number>(n)
      for (let i = 0; i < n; i++)
        predictions[i] = classes === null ? out.predictions[i]! : classes[out.predictions[i]!]!
      let probs: Array<Record<string, number>> | undefined
      if (classes !== null && out.proba !== undefined) {
        probs = new Array(n)
        for (let i = 0; i < n; i++) probs[i] = probaOf(classes, out.proba, i)
      }
      predictionLog?.add(ts, request.id, model.name, model.version, rows, predictions)
      metrics.predictedRows(model.name, version, n)
      reply.send({
        model: model.name,
        version: model.version,
        stage: model.stage,
        request_id: request.id,
        predictions,
        ...(probs !== undefined ? { probabilities: probs } : {}),
        ...(unknown !== null ? { unknown_categories: unknown } : {})
      })
    }
  )

  // ---- models, health, readiness -------------------------------------------------------------

  app.get(
    "/models",
    {
      schema: { summary: "The served models: version, stage, algorithm, lineage and input features", tags: ["models"] }
    },
    (_request, reply) => {
      const set = current
      reply.send({
        stage: set.stage,
        loaded_at: set.loadedAt,
        notes: set.notes,
        models: [...set.models.values()].sort((a, b) => a.name.localeCompare(b.name)).map(describeModel)
      })
    }
  )

  app.get(
    "/health",
    { schema: { summary: "Liveness: 200 while the process serves", tags: ["ops"] } },
    (_request, reply) => {
      reply.send({ status: "ok" })
    }
  )

  app.get(
    "/ready",
    {
      schema: { summary: "Readiness: 200 when at least one model is loaded, else 503 with the reason", tags: ["ops"] }
    },
    (_request, reply) => {
      const set = current
      const models = [...set.models.values()].map(modelSummary)
      if (models.length > 0) {
        reply.send({ status: "ready", stage: set.stage, models, notes: set.notes, last_reload: lastReload })
        return
      }
      reply.code(503).send({
        status: "not_ready",
        reason: `no model is loaded at stage ${set.stage}${set.notes.length ? `: ${set.notes.join("; ")}` : ""}`,
        stage: set.stage,
        models,
        last_reload: lastReload
      })
    }
  )

  app.get("/metrics", { schema: { summary: "Prometheus metrics", tags: ["ops"] } }, async (_request, reply) => {
    const text = await metrics.registry.metrics()
    reply.type(metrics.registry.contentType).send(text)
  })

  // ---- reload --------------------------------------------------------------------------------

  const adminCheck = makeAdminCheck(options.adminToken)
  let queue: Promise<unknown> = Promise.resolve()
  // One reload at a time: a second request waits for the first, then reads the registry again.
  const reload = (): Promise<{ ok: true; set: ModelSet; previous: ModelSet } | { ok: false; error: string }> => {
    const run = async () => {
      const previous = current
      try {
        const set = swap(await options.source.load()) // one reference swap: requests already running keep `previous`
        metrics.reload("success")
        lastReload = { at: new Date().toISOString(), ok: true }
        return { ok: true as const, set, previous }
      } catch (e) {
        metrics.reload("failure")
        const error = e instanceof Error ? e.message : String(e)
        lastReload = { at: new Date().toISOString(), ok: false, error }
        return { ok: false as const, error }
      }
    }
    const next = queue.then(run, run)
    queue = next
    return next
  }

  app.post(
    "/admin/reload",
    {
      schema: {
        summary: "Re-read the registry and swap the served model set atomically (bearer token)",
        tags: ["ops"],
        security: [{ bearerAuth: [] }],
        response: { 401: errorSchema, 403: errorSchema, 503: errorSchema }
      },
      // The token is checked before the body is read: an unauthenticated client learns nothing else.
      onRequest: async (request, reply) => {
        const check = adminCheck(request.headers.authorization)
        if (check === "disabled") {
          return reply.code(403).send({
            error: "reload_disabled",
            message: `reload is disabled: no admin token is configured (set ${config.admin_token_env} to enable it)`,
            request_id: request.id
          })
        }
        if (check !== "ok") {
          return reply
            .code(401)
            .header("www-authenticate", 'Bearer realm="driftgate"')
            .send({
              error: "unauthorized",
              message:
                check === "missing"
                  ? "reload needs an Authorization: Bearer <token> header"
                  : "the bearer token is not valid",
              request_id: request.id
            })
        }
      }
    },
    async (request, reply) => {
      const r = await reload()
      if (!r.ok) {
        return reply.code(503).send({
          error: "reload_failed",
          message: `reload failed, still serving the previous models: ${r.error}`,
          models: [...current.models.values()].map(modelSummary),
          request_id: request.id
        })
      }
      return reply.send({
        status: "reloaded",
        models: [...r.set.models.values()].map(modelSummary),
        previous: [...r.previous.models.values()].map(modelSummary),
        notes: r.set.notes,
        request_id: request.id
      })
    }
  )

  // ---- docs and the page ---------------------------------------------------------------------

  app.get("/openapi.json", { schema: { hide: true } }, (_request, reply) => {
    reply.send(app.swagger())
  })

  app.get("/", { schema: { hide: true } }, (_request, reply) => {
    const nonce = randomBytes(16).toString("base64")
    reply
      .type("text/html; charset=utf-8")
      .header(
        "content-security-policy",
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`
      )
      .header("x-content-type-options", "nosniff")
      .send(renderIndex(current, nonce, DRIFTGATE_VERSION))
  })

  return app
}

/** A finite input that overflows the fitted scaling (e.g. 1e308) is named by its field, not a column index. */
const finiteOrSay = (values: Float64Array, featureNames: ReadonlyArray<string>, where: string): void => {
  for (let j = 0; j < values.length; j++) {
    if (!Number.isFinite(values[j]!)) {
      const field = (featureNames[j] ?? `#${j}`).split("=")[0]
      throw new PredictInputError(
        `${where}.${field} is too large for the model's scaling (it becomes ${values[j]} after preprocessing)`
      )
    }
  }
}
