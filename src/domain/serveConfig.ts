import { Either, Schema } from "effect"
import { decodeStrict } from "./decode.js"
import { ConfigError } from "./errors.js"

const opt = <A, I>(s: Schema.Schema<A, I>, value: () => A) => Schema.optionalWith(s, { default: value })
const IntAtLeast = (min: number) => Schema.Int.pipe(Schema.greaterThanOrEqualTo(min))

export const PredictionLogConfig = Schema.Struct({
  enabled: opt(Schema.Boolean, () => true),
  /** The queue is written out at least this often. */
  flush_interval_ms: opt(IntAtLeast(10), () => 1000),
  /** ... and as soon as it holds this many rows. */
  flush_rows: opt(IntAtLeast(1), () => 2000),
  /** Rows held in memory at most; beyond it rows are dropped (and counted), never blocking a request. */
  max_queue: opt(IntAtLeast(1), () => 100_000)
})
export type PredictionLogConfig = typeof PredictionLogConfig.Type

/** The dashboard at /ui (read-only). */
export const UiConfig = Schema.Struct({
  enabled: opt(Schema.Boolean, () => true),
  /** Every dashboard request needs the admin token (bearer header, or the sign-in form's cookie); no token set → closed. */
  require_token: opt(Schema.Boolean, () => false)
})
export type UiConfig = typeof UiConfig.Type

/** configs/serve.yaml: the prediction service. Every key is optional; unknown keys are errors. */
export const ServeConfigSchema = Schema.Struct({
  host: opt(Schema.String.pipe(Schema.minLength(1)), () => "127.0.0.1"),
  /** 0 picks a free port (printed on stdout when listening). */
  port: opt(Schema.Int.pipe(Schema.between(0, 65535)), () => 8080),
  allowed_stage: opt(Schema.Literal("Production", "Staging"), () => "Production" as const),
  /** Serve only these registered models (default: every model with a version at allowed_stage). */
  models: Schema.optional(
    Schema.Array(
      Schema.String.pipe(
        Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, {
          message: () => "a model name is letters, digits, '_', '-' or '.'"
        })
      )
    )
  ),
  body_limit_bytes: opt(IntAtLeast(1024), () => 1_048_576),
  request_timeout_ms: opt(IntAtLeast(1), () => 10_000),
  max_batch_rows: opt(Schema.Int.pipe(Schema.between(1, 100_000)), () => 1000),
  prediction_log: opt(PredictionLogConfig, () => Schema.decodeSync(PredictionLogConfig)({})),
  ui: opt(UiConfig, () => Schema.decodeSync(UiConfig)({})),
  /** Environment variable holding the bearer token of POST /admin/reload (unset: reload disabled). */
  admin_token_env: opt(
    Schema.String.pipe(
      Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]*$/, {
        message: () => "an environment variable name is letters, digits and '_'"
      })
    ),
    () => "DRIFTGATE_ADMIN_TOKEN"
  )
})
export type ServeConfig = typeof ServeConfigSchema.Type

/** Strictly decodes a parsed serve.yaml (null, an empty file, means all defaults). */
export const decodeServeConfig = (raw: unknown, file: string): Either.Either<ServeConfig, ConfigError> => {
  const input = raw === null || raw === undefined ? {} : raw
  if (typeof input !== "object" || Array.isArray(input)) {
    return Either.left(new ConfigError({ file, message: "the serve config must be a YAML mapping of keys to values" }))
  }
  return decodeStrict(ServeConfigSchema, input, file)
}

export const defaultServeConfig = (): ServeConfig => Schema.decodeSync(ServeConfigSchema)({})
