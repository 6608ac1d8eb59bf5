import { Effect, Either } from "effect"
import type { PipelineConfig } from "../../domain/config.js"
import { UsageError } from "../../domain/errors.js"
import { missingRule } from "../../domain/missing.js"
import { loadDatasetSpec } from "./batch.js"
import { monitorImageDrift } from "./imageDrift.js"
import { monitorDrift } from "./monitor.js"
import { servingLogBatch } from "./summary.js"

/** What `drift monitor` compares with the deployed model: a file, or the rows the service logged. */
export type MonitorSource =
  { readonly kind: "batch"; readonly path: string } | { readonly kind: "serving_log"; readonly since: Date | undefined }

/**
 * Checks the request before anything is read: exactly one source, an ISO `since`, and a prepared
 * .dgt batch for image pipelines (they have no serving log to read).
 */
export const monitorSourceOf = (
  config: PipelineConfig,
  request: {
    readonly batch: string | undefined
    readonly fromServingLog: boolean
    readonly since: string | undefined
  }
): Either.Either<MonitorSource, UsageError> => {
  if ((request.batch !== undefined) === request.fromServingLog)
    return Either.left(
      new UsageError({ message: "drift monitor needs exactly one of --batch FILE.csv or --from-serving-log" })
    )
  let since: Date | undefined
  if (request.since !== undefined) {
    since = new Date(request.since)
    if (Number.isNaN(since.getTime()))
      return Either.left(new UsageError({ message: `--since ${request.since} is not an ISO date or time` }))
  }
  if (config.task_type === "image_classification" && request.batch === undefined)
    return Either.left(
      new UsageError({ message: "image drift needs --batch BATCH.dgt (made by drift prepare-batch --input-dir DIR)" })
    )
  return Either.right(
    request.batch !== undefined ? { kind: "batch", path: request.batch } : { kind: "serving_log", since }
  )
}

/** `drift monitor` for any pipeline: image pipelines compare pixels and embeddings, tabular ones columns. */
export const monitorAny = Effect.fn("program.driftMonitorAny")(function* (args: {
  readonly config: PipelineConfig
  readonly configDir: string
  readonly source: MonitorSource
  readonly actor: string
}) {
  const { config, source } = args
  if (config.task_type === "image_classification") {
    if (source.kind !== "batch")
      return yield* Effect.fail(
        new UsageError({ message: "image drift needs --batch BATCH.dgt (made by drift prepare-batch --input-dir DIR)" })
      )
    const r = yield* monitorImageDrift({ config, batch: source.path, actor: args.actor })
    return { kind: "image" as const, ...r }
  }
  const batch =
    source.kind === "batch"
      ? { kind: "file" as const, path: source.path }
      : yield* Effect.map(
          // the serving log is read with the dataset's missing-value rule, like the training data
          Effect.flatMap(loadDatasetSpec(config, args.configDir), (spec) =>
            servingLogBatch(config, source.since, missingRule(spec))
          ),
          (b) => ({
            kind: "serving_log" as const,
            frame: b.frame,
            path: b.path,
            since: source.since?.toISOString() ?? null
          })
        )
  const r = yield* monitorDrift({ config, configDir: args.configDir, source: batch, actor: args.actor })
  return { kind: "tabular" as const, ...r }
})
