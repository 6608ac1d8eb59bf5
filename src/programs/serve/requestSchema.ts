import type { FeatureMap } from "../../domain/featureMap.js"

/**
 * JSON Schemas of a prediction request, generated from a model's feature map and compiled by
 * fastify's own validator: every input feature required, nothing else allowed, JSON types from the
 * dtype, null only where the feature map says the feature is nullable.
 */
export type JsonSchema = Readonly<Record<string, unknown>>

const jsonType = (dtype: FeatureMap["input_features"][number]["dtype"]): string =>
  dtype === "float" ? "number" : dtype === "int" ? "integer" : dtype === "bool" ? "boolean" : "string"

export const featuresSchema = (fm: FeatureMap): JsonSchema => ({
  type: "object",
  additionalProperties: false,
  required: fm.input_features.map((f) => f.name),
  properties: Object.fromEntries(
    fm.input_features.map((f) => {
      const t = jsonType(f.dtype)
      const range = f.min !== undefined && f.max !== undefined ? `; training range ${f.min} to ${f.max}` : ""
      const cats =
        f.categories !== undefined && f.categories.length > 0
          ? `; categories seen in training: ${f.categories.join(", ")}`
          : ""
      return [
        f.name,
        {
          type: f.nullable ? [t, "null"] : t,
          description: `${f.dtype}${f.nullable ? ", nullable" : ""}${range}${cats}`
        }
      ]
    })
  )
})

export interface RequestSchemas {
  /** `{ "features": { … } }`: one row. */
  readonly single: JsonSchema
  /** `{ "rows": [ { … }, … ] }`: a batch of at most maxBatchRows rows. */
  readonly batch: JsonSchema
}

export const requestSchemas = (fm: FeatureMap, maxBatchRows: number): RequestSchemas => {
  const features = featuresSchema(fm)
  return {
    single: { type: "object", additionalProperties: false, required: ["features"], properties: { features } },
    batch: {
      type: "object",
      additionalProperties: false,
      required: ["rows"],
      properties: { rows: { type: "array", minItems: 1, maxItems: maxBatchRows, items: features } }
    }
  }
}

/** Standard base64 (RFC 4648 alphabet, padded); no data: URL prefix, no whitespace. */
export const BASE64_PATTERN = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"

const imageSchema: JsonSchema = {
  type: "string",
  minLength: 4,
  pattern: BASE64_PATTERN,
  description: "a PNG or JPEG file, base64-encoded; it is resized to the model's input size (GET /models: input_shape)"
}

/** Image models: `{ "image": "<base64>" }` or `{ "images": ["<base64>", …] }` (at most maxBatchRows). */
export const imageRequestSchemas = (maxBatchRows: number): RequestSchemas => ({
  single: { type: "object", additionalProperties: false, required: ["image"], properties: { image: imageSchema } },
  batch: {
    type: "object",
    additionalProperties: false,
    required: ["images"],
    properties: { images: { type: "array", minItems: 1, maxItems: maxBatchRows, items: imageSchema } }
  }
})

/** The shape every predict body must have before the model's own schema is applied (and documented in OpenAPI). */
export const envelopeSchema = (maxBatchRows: number): JsonSchema => ({
  type: "object",
  description:
    "exactly one of `features` (one row) or `rows` (a batch) for tabular models, `image` (one base64 image) or `images` (a batch) for image models; see GET /models for each model's input",
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: {
    features: { type: "object", description: "one row: input feature name → value" },
    rows: { type: "array", minItems: 1, maxItems: maxBatchRows, items: { type: "object" } },
    image: { type: "string", description: "image models: one base64-encoded PNG or JPEG" },
    images: {
      type: "array",
      minItems: 1,
      maxItems: maxBatchRows,
      items: { type: "string" },
      description: "image models: a batch of base64-encoded images"
    }
  }
})

// ---- validation errors → one entry per field ---------------------------------------------------

export interface FieldError {
  readonly field: string
  readonly message: string
}

/** The subset of an Ajv error that is read here. */
export interface AjvError {
  readonly instancePath: string
  readonly keyword: string
  readonly params: Readonly<Record<string, unknown>>
  readonly message?: string | undefined
}

const unescapePointer = (s: string) => s.replace(/~1/g, "/").replace(/~0/g, "~")

/** "/rows/3/mean_radius" → "rows[3].mean_radius". */
export const fieldPath = (instancePath: string): string =>
  instancePath
    .split("/")
    .slice(1)
    .map(unescapePointer)
    .reduce<string>((acc, p) => (/^\d+$/.test(p) && acc !== "" ? `${acc}[${p}]` : acc === "" ? p : `${acc}.${p}`), "")

const join = (path: string, key: string) => (path === "" ? key : `${path}.${key}`)

const MAX_FIELDS = 50

/**
 * Turns Ajv errors into field errors, one per field, at most 50, most useful first. `image`: the
 * model takes images (true), tabular rows (false), or unknown (the envelope, before the model is known).
 */
export const fieldErrors = (
  errors: ReadonlyArray<AjvError>,
  model?: string,
  image?: boolean
): { fields: ReadonlyArray<FieldError>; total: number } => {
  const out: FieldError[] = []
  const seen = new Set<string>()
  const push = (field: string, message: string) => {
    const k = `${field}\u0000${message}`
    if (seen.has(k)) return
    seen.add(k)
    out.push({ field, message })
  }
  // Unknown keys at the top level (typically a flat row sent without its envelope): one sentence
  // that shows the expected shape and lists those keys once, not one sentence per key.
  // (One stray key beside a valid envelope keeps its own entry, named by the key.)
  const strayErrors = errors.filter((e) => e.instancePath === "" && e.keyword === "additionalProperties")
  const stray = new Set(strayErrors.map((e) => String(e.params.additionalProperty))).size >= 2 ? strayErrors : []
  if (stray.length > 0) {
    const keys = [...new Set(stray.map((e) => String(e.params.additionalProperty)))]
    const shape =
      image === true
        ? '{"image": "<base64>"} (one image) or {"images": [...]} (a batch)'
        : image === false
          ? '{"features": {...}} (one row) or {"rows": [...]} (a batch)'
          : '{"features": {...}} or {"rows": [...]} (tabular models), {"image": "<base64>"} or {"images": [...]} (image models)'
    push(
      "body",
      `must be ${shape}; it has ${keys.length === 1 ? "the field" : "the fields"} ${keys.join(", ")} at the top level`
    )
  }
  for (const e of errors) {
    const path = fieldPath(e.instancePath)
    // Already said in the one top-level sentence above.
    if (
      stray.length > 0 &&
      path === "" &&
      ["additionalProperties", "minProperties", "maxProperties"].includes(e.keyword)
    )
      continue
    switch (e.keyword) {
      case "required":
        push(join(path, String(e.params.missingProperty)), "is required")
        break
      case "additionalProperties": {
        const key = String(e.params.additionalProperty)
        const inRow = path !== ""
        push(
          join(path, key),
          inRow
            ? `is not an input feature${model ? ` of model ${model}` : ""}`
            : image === true
              ? 'is not allowed (the body of an image model has either "image" or "images")'
              : image === false
                ? 'is not allowed (the body has either "features" or "rows")'
                : 'is not allowed (the body has either "features" or "rows", or for an image model "image" or "images")'
        )
        break
      }
      case "type": {
        const t = e.params.type
        const types = Array.isArray(t) ? t.join(" or ") : String(t)
        push(
          path === "" ? "body" : path,
          `must be ${types === "integer" ? "an integer" : types === "object" ? "an object" : types === "array" ? "an array" : types}`
        )
        break
      }
      case "maxItems":
        push(path, `has more than ${String(e.params.limit)} ${path === "images" ? "images" : "rows"} (max_batch_rows)`)
        break
      case "minItems":
        push(path, `must hold at least one ${path === "images" ? "image" : "row"}`)
        break
      case "minProperties":
      case "maxProperties":
        push(
          path === "" ? "body" : path,
          image === true
            ? 'must have exactly one of "image" (one image) or "images" (a batch)'
            : 'must have exactly one of "features" (one row) or "rows" (a batch)'
        )
        break
      case "pattern":
      case "minLength":
        push(path, "must be a base64-encoded image (standard alphabet, padded, no data: prefix)")
        break
      default:
        push(path === "" ? "body" : path, e.message ?? e.keyword)
    }
  }
  return { fields: out.slice(0, MAX_FIELDS), total: out.length }
}
