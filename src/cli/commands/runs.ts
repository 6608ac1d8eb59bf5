import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { Tracker } from "../../services/Tracker.js"
import { print, existingWorkspaceLayer } from "../context.js"
import { runShowText, runsListText } from "../render/runs.js"

const runsList = Command.make(
  "list",
  {
    experiment: Options.text("experiment").pipe(
      Options.withDescription("only runs of this pipeline"),
      Options.optional
    ),
    limit: Options.integer("limit").pipe(Options.withDefault(50))
  },
  (o) =>
    Effect.gen(function* () {
      const tracker = yield* Tracker
      const runs = yield* tracker.listRuns({
        ...(Option.isSome(o.experiment) ? { experiment: o.experiment.value } : {}),
        limit: o.limit
      })
      yield* print(runs, () => runsListText(runs))
    })
).pipe(Command.withDescription("list tracked runs, newest first"), Command.provide(existingWorkspaceLayer()))

const runsShow = Command.make("show", { runId: Args.text({ name: "RUN_ID" }) }, (o) =>
  Effect.gen(function* () {
    const tracker = yield* Tracker
    const d = yield* tracker.getRun(o.runId)
    yield* print(d, () => runShowText(d))
  })
).pipe(
  Command.withDescription("show one run: anchors, params, metrics, tags, artifacts"),
  Command.provide(existingWorkspaceLayer())
)

export const runsSubcommands = [runsList, runsShow] as const

export const runsCommand = Command.make("runs").pipe(
  Command.withDescription("tracked runs"),
  Command.withSubcommands(runsSubcommands)
)
