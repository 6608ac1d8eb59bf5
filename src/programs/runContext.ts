import { Effect } from "effect"
import { decodePipelineConfig } from "../domain/config.js"
import { UsageError } from "../domain/errors.js"
import { Storage } from "../services/Storage.js"
import type { Preprocessed } from "./preprocessStage.js"
import type { PipelineContext } from "./stages.js"
import { reportKeys } from "./workspace.js"

const NAME = "run_context.json"

/**
 * What a later `driftgate promote --run ID` needs to finish an evaluated run: the decoded config,
 * the anchors, and the keys of the data and artifacts the run wrote (not the data itself).
 */
export const saveRunContext = (ctx: PipelineContext) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const pre = ctx.artifacts.preprocessed as Preprocessed | undefined
    yield* storage.write(
      reportKeys(ctx.runId).file(NAME),
      JSON.stringify({
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
        prepared: ctx.prepared,
        preprocessed: pre,
        staged: ctx.artifacts.staged ?? null
      }) + "\n"
    )
  })

export const loadRunContext = Effect.fn("run.loadContext")(function* (runId: string) {
  const storage = yield* Storage
  const key = reportKeys(runId).file(NAME)
  if (!(yield* storage.exists(key))) {
    return yield* Effect.fail(
      new UsageError({
        message: `run ${runId} has no evaluated model in this workspace (no ${key}); only runs that reached evaluation can be promoted`
      })
    )
  }
  const doc = JSON.parse(yield* storage.readText(key)) as {
    run_id: string
    execution_id: string
    config_file: string
    config_dir: string
    config_hash: string
    config: unknown
    anchors: Record<string, string>
    prepared: PipelineContext["prepared"]
    preprocessed: Preprocessed
    staged: unknown
  }
  const config = yield* decodePipelineConfig(doc.config, doc.config_file)
  return { doc, config }
})
