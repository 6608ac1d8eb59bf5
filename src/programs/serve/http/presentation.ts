import type { FastifyError, FastifyInstance } from "fastify"
import { randomBytes } from "node:crypto"
import { DRIFTGATE_VERSION } from "../../../version.js"
import type { ModelSet, ServedModel } from "../modelSet.js"
import { renderIndex } from "../page.js"
import { type AjvError, type FieldError, fieldErrors } from "../requestSchema.js"
import { trackRoutes } from "./edges.js"

/** The short error name of a refusal fastify made itself (body parsing, routing). */
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

/** The 422 body of a request that fails its JSON schema; `subject` completes "invalid request …". */
export const validationFailed = (
  subject: string,
  errors: { readonly fields: ReadonlyArray<FieldError>; readonly total: number },
  requestId: string
) => ({
  error: "validation_failed",
  message: `invalid request ${subject}: ${errors.fields.map((f) => `${f.field} ${f.message}`).join("; ")}`,
  fields: errors.fields,
  ...(errors.total > errors.fields.length ? { fields_total: errors.total } : {}),
  request_id: requestId
})

export const modelSummary = (m: ServedModel) => ({ name: m.name, version: m.version, stage: m.stage })

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

/** One entry of GET /models: version, stage, lineage, and what the model takes. */
export const describeModel = (m: ServedModel) => ({
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

/**
 * Every error answers with the same JSON body (error, message, request_id): schema failures 422 with
 * their fields, client faults with fastify's status, anything else 500 with the details only in the log.
 */
export const registerErrorHandlers = (app: FastifyInstance, log: (line: string) => void): void => {
  const allowedMethods = trackRoutes(app)
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const errors = fieldErrors(error.validation as unknown as ReadonlyArray<AjvError>)
      return reply.code(422).send(validationFailed(error.validationContext ?? "body", errors, request.id))
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
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0]!
    const allow = allowedMethods(path)
    if (allow.length > 0)
      return reply
        .code(405)
        .header("allow", allow.join(", "))
        .send({
          error: "method_not_allowed",
          message: `${path} does not take ${request.method} (it takes ${allow.join(", ")})`,
          request_id: request.id
        })
    return reply
      .code(404)
      .send({ error: "not_found", message: `no route ${request.method} ${path}`, request_id: request.id })
  })
}

/** GET /: the HTML page of the served models, under a strict CSP with a per-response nonce. */
export const registerPage = (app: FastifyInstance, current: () => ModelSet): void => {
  app.get("/", { schema: { hide: true } }, (_request, reply) => {
    const nonce = randomBytes(16).toString("base64")
    reply
      .type("text/html; charset=utf-8")
      .header(
        "content-security-policy",
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`
      )
      .header("x-content-type-options", "nosniff")
      .send(renderIndex(current(), nonce, DRIFTGATE_VERSION))
  })
}
