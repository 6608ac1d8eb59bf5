import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { Pipeline, pipelineLayer, print } from "../context.js"
import { actor } from "../env.js"
import { rollbackText } from "../render/lifecycle.js"
import { configOption } from "./options.js"

export const rollbackCommand = Command.make(
  "rollback",
  {
    config: configOption,
    version: Options.integer("version").pipe(
      Options.withDescription("version to restore to Production"),
      Options.optional
    ),
    reason: Options.text("reason").pipe(Options.withDescription("why (recorded in the audit log)"), Options.optional),
    yes: Options.boolean("yes").pipe(Options.withDescription("do not ask for confirmation")),
    resume: Options.boolean("resume").pipe(Options.withDescription("finish an interrupted rollback")),
    abandon: Options.boolean("abandon").pipe(
      Options.withDescription("abandon an interrupted rollback (needs --reason)")
    )
  },
  (o) =>
    Effect.gen(function* () {
      const loaded = yield* Pipeline
      const { rollback } = yield* Effect.promise(() => import("../../programs/rollback.js"))
      const r = yield* rollback({
        config: loaded.config,
        version: Option.getOrUndefined(o.version),
        reason: Option.getOrUndefined(o.reason),
        yes: o.yes,
        actor: yield* actor,
        resume: o.resume,
        abandon: o.abandon
      })
      yield* print(r, () => rollbackText(r))
    })
).pipe(
  Command.withDescription(
    "restore a previous version to Production, audited (interactive, or --version N --reason T --yes)"
  ),
  Command.provide((o) => pipelineLayer(o.config))
)
