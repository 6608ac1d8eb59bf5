import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify"
import { createHash } from "node:crypto"
import type { Scalar } from "../../../ml/frame.js"
import { LearnerInputError } from "../../../ml/matrix.js"
import { transformRow } from "../../../ml/preprocess.js"
import type { Predictions } from "../../../services/Trainer.js"
import type { ServeMetrics } from "../metrics.js"
import { ImageDecodeError, PredictInputError, type ServedModel } from "../modelSet.js"
import type { PredictionLog } from "../predictionLog.js"
import { type AjvError, envelopeSchema, fieldErrors } from "../requestSchema.js"
import { errorSchema, predictResponse } from "./openapi.js"
import { validationFailed } from "./presentation.js"
import { type Labels, type ServedState, UNKNOWN_LABELS } from "./state.js"

declare module "fastify" {
  interface FastifyRequest {
    /** Metric labels of a predict request, set by the handler. */
    dgLabels: Labels | null
  }
}

type Row = Readonly<Record<string, Scalar>>
interface PredictBody {
  readonly features?: Row
  readonly rows?: ReadonlyArray<Row>
  readonly image?: string
  readonly images?: ReadonlyArray<string>
}
type PredictRequest = FastifyRequest<{ Params: { name: string }; Body: PredictBody }>

export interface PredictDeps {
  readonly state: ServedState
  readonly metrics: ServeMetrics
  readonly predictionLog: PredictionLog | undefined
  readonly maxBatchRows: number
}

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

/** What the prediction log keeps of an uploaded image: its hash and size, never its pixels. */
const imageDigest = (bytes: Uint8Array): Row => ({
  image_sha256: createHash("sha256").update(bytes).digest("hex"),
  bytes: bytes.length
})

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

const unprocessable = (reply: FastifyReply, request: FastifyRequest, message: string) =>
  reply.code(422).send({ error: "unpredictable_input", message, fields: [], request_id: request.id })

/** POST /predict/:name for an image model: validate, decode (async), predict (async, tfjs), answer like the tabular path. */
const predictImages = async (
  deps: PredictDeps,
  model: ServedModel,
  label: Labels,
  request: PredictRequest,
  reply: FastifyReply
) => {
  const image = model.image!
  const body = request.body
  const single = body.image !== undefined
  const validate = request.compileValidationSchema(single ? model.schemas.single : model.schemas.batch, "body")
  if (!validate(body)) {
    const errors = fieldErrors((validate.errors ?? []) as ReadonlyArray<AjvError>, model.name, true)
    return reply.code(422).send(validationFailed(`for model ${model.name}`, errors, request.id))
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
  deps.predictionLog?.add(
    ts,
    request.id,
    model.name,
    model.version,
    single ? imageDigest(bytes[0]!) : bytes.map(imageDigest),
    single ? predictions[0]! : predictions
  )
  deps.metrics.predictedRows(model.name, label.version, n)
  return reply.send({
    model: model.name,
    version: model.version,
    stage: model.stage,
    request_id: request.id,
    ...(single ? { prediction: predictions[0]! } : { predictions }),
    ...(probs !== undefined ? { probabilities: single ? probs[0]! : probs } : {})
  })
}

/**
 * Rows per synchronous slice of a large batch: a batch above it is transformed and predicted slice
 * by slice, yielding to the event loop between slices, so that one raised-`max_batch_rows` request
 * does not hold every other request (and /health) for seconds. Small batches stay on the sync path.
 */
export const PREDICT_CHUNK_ROWS = 512

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Transforms and predicts `rows` in slices of PREDICT_CHUNK_ROWS, yielding between slices. */
const predictInChunks = async (
  model: ServedModel,
  rows: ReadonlyArray<Row>,
  p: number,
  onUnknown: (u: Record<string, number>) => void
): Promise<Predictions> => {
  const n = rows.length
  const predictions = new Float64Array(n)
  let proba: Float64Array | undefined
  for (let start = 0; start < n; start += PREDICT_CHUNK_ROWS) {
    if (start > 0) await yieldToEventLoop()
    const end = Math.min(n, start + PREDICT_CHUNK_ROWS)
    const data = new Float64Array((end - start) * p)
    for (let i = start; i < end; i++) {
      const t = transformRow(model.transform, rows[i]!)
      finiteOrSay(t.values, model.transform.featureNames, `rows[${i}]`)
      onUnknown(t.unknownCategories)
      data.set(t.values, (i - start) * p)
    }
    const out = model.predict({ rows: end - start, cols: p, data })
    predictions.set(out.predictions, start)
    if (out.proba !== undefined) {
      const k = out.proba.length / (end - start)
      proba ??= new Float64Array(n * k)
      proba.set(out.proba, start * k)
    }
  }
  return proba !== undefined ? { predictions, proba } : { predictions }
}

/** POST /predict/:name for a tabular model (the hot path): validate, transform, predict synchronously. */
const predictRows = async (
  deps: PredictDeps,
  model: ServedModel,
  label: Labels,
  request: PredictRequest,
  reply: FastifyReply
): Promise<void> => {
  const version = label.version
  const body = request.body
  const features = body.features
  const single = features !== undefined
  const validate = request.compileValidationSchema(single ? model.schemas.single : model.schemas.batch, "body")
  if (!validate(body)) {
    const errors = fieldErrors((validate.errors ?? []) as ReadonlyArray<AjvError>, model.name, false)
    reply.code(422).send(validationFailed(`for model ${model.name}`, errors, request.id))
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
    } else if (body.rows!.length > PREDICT_CHUNK_ROWS) {
      rows = body.rows!
      out = await predictInChunks(model, rows, p, (u) => {
        unknown = addUnknown(unknown, u)
      })
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
      unprocessable(reply, request, `model ${model.name} version ${version} cannot predict these values: ${e.message}`)
      return
    }
    throw e
  }
  const ts = new Date().toISOString()
  if (rows === undefined) {
    const v = out.predictions[0]!
    const prediction = classes === null ? v : classes[v]!
    deps.predictionLog?.add(ts, request.id, model.name, model.version, features!, prediction)
    deps.metrics.predictedRows(model.name, version, 1)
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
  for (let i = 0; i < n; i++) predictions[i] = classes === null ? out.predictions[i]! : classes[out.predictions[i]!]!
  let probs: Array<Record<string, number>> | undefined
  if (classes !== null && out.proba !== undefined) {
    probs = new Array(n)
    for (let i = 0; i < n; i++) probs[i] = probaOf(classes, out.proba, i)
  }
  deps.predictionLog?.add(ts, request.id, model.name, model.version, rows, predictions)
  deps.metrics.predictedRows(model.name, version, n)
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

/** Declares the request's metric labels; called on the fresh instance, before any plugin. */
export const decoratePredictRequest = (app: FastifyInstance): void => {
  app.decorateRequest("dgLabels", null)
}

/** POST /predict/:name: the model named in the path answers with the set the request started with. */
export const registerPredict = (app: FastifyInstance, deps: PredictDeps): void => {
  const { state, metrics } = deps
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
        body: envelopeSchema(deps.maxBatchRows),
        response: { 200: predictResponse, 404: errorSchema, 422: errorSchema }
      },
      onResponse: (request, reply, done) => {
        // refused before the handler ran (body too large, not an object …): label by the model named, if served
        const named =
          request.dgLabels === null
            ? state.current().models.get((request.params as { name?: string } | undefined)?.name ?? "")
            : undefined
        const l = request.dgLabels ?? (named !== undefined ? state.labels(named) : undefined) ?? UNKNOWN_LABELS
        metrics.observe(l.model, l.version, reply.statusCode, reply.elapsedTime / 1000)
        done()
      }
    },
    (request, reply) => {
      const set = state.current() // this request keeps the set it started with, whatever a reload does meanwhile
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
      const label = state.labels(model)!
      request.dgLabels = label
      if (model.image !== null) return predictImages(deps, model, label, request, reply)
      // the sync path for one row and small batches; only a large batch returns a pending promise
      return predictRows(deps, model, label, request, reply)
    }
  )
}
