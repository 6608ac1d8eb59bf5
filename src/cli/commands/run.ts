import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { DRIFTGATE_VERSION } from "../../version.js"
import { Pipeline, pipelineLayer, print, Workspace } from "../context.js"
import { codeRevision } from "../env.js"
import { runSummary, runText } from "../render/run.js"
import { approveOption, configOption } from "./options.js"

export const runCommand = Command.make(
  "run",
  {
    config: configOption,
    approve: approveOption,
    target: Options.text("target").pipe(
      Options.withDescription("target column, to create a missing dataset.yaml"),
      Options.optional
    ),
    task: Options.choice("task", ["classification", "regression"] as const).pipe(
      Options.withDescription("task type, to create a missing dataset.yaml"),
      Options.optional
    ),
    fineTune: Options.boolean("fine-tune").pipe(
      Options.withDescription("continue from the Production model's weights (image models)")
    )
  },
  (o) =>
    Effect.gen(function* () {
      const loaded = yield* Pipeline
      const workspace = yield* Workspace
      const { runPipeline } = yield* Effect.promise(() => import("../../programs/runPipeline.js"))
      const result = yield* runPipeline({
        loaded,
        target: Option.getOrUndefined(o.target),
        task: Option.getOrUndefined(o.task),
        codeRevision: yield* codeRevision,
        driftgateVersion: DRIFTGATE_VERSION,
        fineTune: o.fineTune
      })
      yield* print(runSummary(result, workspace), () => runText(result, workspace))
      if (result.error) return yield* Effect.fail(result.error)
    })
).pipe(
  Command.withDescription("prepare the data and run the config's stages (preprocessing … deployment)"),
  Command.provide((o) => pipelineLayer(o.config, Option.getOrUndefined(o.approve)))
)
