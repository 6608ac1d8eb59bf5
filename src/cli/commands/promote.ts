import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { print, workspaceLayer } from "../context.js"
import { promotedText } from "../render/lifecycle.js"
import { approveOption } from "./options.js"

export const promoteCommand = Command.make(
  "promote",
  { run: Options.text("run").pipe(Options.withDescription("id of an evaluated run")), approve: approveOption },
  (o) =>
    Effect.gen(function* () {
      const { promoteRun } = yield* Effect.promise(() => import("../../programs/promoteRun.js"))
      const r = yield* promoteRun(o.run)
      yield* print({ run_id: o.run, version: r.version, manifest: r.manifest }, () => promotedText(o.run, r))
    })
).pipe(
  Command.withDescription("promote an evaluated run later (rules and approval gate as in run)"),
  Command.provide((o) => workspaceLayer(Option.getOrUndefined(o.approve)))
)
