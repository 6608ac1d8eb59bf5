import { Effect, Schema } from "effect"
import { decodePipelineConfig } from "../domain/config.js"
import { RunNotEvaluated } from "../domain/errors.js"
import { Storage } from "../services/Storage.js"
import { type PipelineContext, PreparedDataSchema, PreprocessedSchema } from "./pipelineTypes.js"
import { reportKeys } from "./workspace.js"
import { readWorkspaceJson } from "./workspaceJson.js"

const NAME = "run_context.json"

/** run_context.json: what a later `promote --run` needs to finish an evaluated run. */
const RunContextSchema = Schema.Struct({
  format: Schema.Literal("driftgate.run_context/1"),
  run_id: Schema.String,
  execution_id: Schema.String,
  config_file: Schema.String,
  config_dir: Schema.String,
  config_hash: Schema.String,
  /** Decoded again with the pipeline config schema (and named by its file) when read. */
  config: Schema.Unknown,
  anchors: Schema.Record({ key: Schema.String, value: Schema.String }),
  prepared: PreparedDataSchema,
  preprocessed: PreprocessedSchema,
  /** Absent in files written before the flag was recorded: those runs were not fine-tuned. */
  fine_tune: Schema.optionalWith(Schema.Boolean, { default: () => false })
})

/**
 * What a later `driftgate promote --run ID` needs to finish an evaluated run: the decoded config,
 * the anchors, and the keys of the data and artifacts the run wrote (not the data itself).
 */
export const saveRunContext = (ctx: PipelineContext) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    if (ctx.prepared === undefined || ctx.preprocessed === undefined) return
    const doc: typeof RunContextSchema.Encoded = {
      format: "driftgate.run_context/1",
      run_id: ctx.runId,
      execution_id: ctx.executionId,
      config_file: ctx.input.loaded.file,
      config_dir: ctx.input.loaded.dir,
      config_hash: ctx.input.loaded.hash,
      // The decoded config, minus the image-only section a tabular config may not declare when re-read.
      config:
        ctx.config.task_type === "image_classification"
          ? ctx.config
          : (({ model_analysis: _m, ...rest }) => rest)(ctx.config),
      anchors: ctx.anchors,
      prepared: Schema.encodeSync(PreparedDataSchema)(ctx.prepared),
      preprocessed: Schema.encodeSync(PreprocessedSchema)(ctx.preprocessed),
      fine_tune: ctx.fineTune
    }
    yield* storage.write(reportKeys(ctx.runId).file(NAME), JSON.stringify(doc) + "\n")
  })

export const loadRunContext = Effect.fn("run.loadContext")(function* (runId: string) {
  const storage = yield* Storage
  const key = reportKeys(runId).file(NAME)
  if (!(yield* storage.exists(key))) return yield* Effect.fail(new RunNotEvaluated({ runId, key }))
  const doc = yield* readWorkspaceJson(key, RunContextSchema, "run context")
  const config = yield* decodePipelineConfig(doc.config, doc.config_file)
  return { doc, config }
})
