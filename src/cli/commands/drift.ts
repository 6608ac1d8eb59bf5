import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { Pipeline, pipelineLayer, print } from "../context.js"
import { actor } from "../env.js"
import {
  driftSummaryText,
  imageDriftText,
  preparedBatchText,
  stagedTrainingText,
  tabularDriftText,
  unstagedTrainingText
} from "../render/drift.js"
import { configOption } from "./options.js"

const monitor = Command.make(
  "monitor",
  {
    config: configOption,
    batch: Options.file("batch").pipe(
      Options.withDescription("CSV of production rows (same columns as the training data; target optional)"),
      Options.optional
    ),
    fromServingLog: Options.boolean("from-serving-log").pipe(
      Options.withDescription("use the rows the prediction service logged")
    ),
    since: Options.text("since").pipe(
      Options.withDescription("with --from-serving-log: only rows at or after this ISO time"),
      Options.optional
    )
  },
  (o) =>
    Effect.gen(function* () {
      const loaded = yield* Pipeline
      const { monitorAny, monitorSourceOf } = yield* Effect.promise(() => import("../../programs/drift/monitorAny.js"))
      const source = yield* monitorSourceOf(loaded.config, {
        batch: Option.getOrUndefined(o.batch),
        fromServingLog: o.fromServingLog,
        since: Option.getOrUndefined(o.since)
      })
      const r = yield* monitorAny({ config: loaded.config, configDir: loaded.dir, source, actor: yield* actor })
      if (r.kind === "image") yield* print(r.report, () => imageDriftText(r.report))
      else yield* print(r.report, () => tabularDriftText(r.report))
      if (r.gate !== null) return yield* Effect.fail(r.gate)
    })
).pipe(
  Command.withDescription(
    "compare a batch (or the serving log) with the deployed model's training data; exit 2 at fail_on_severity when headless"
  ),
  Command.provide((o) => pipelineLayer(o.config))
)

const prepareBatch = Command.make(
  "prepare-batch",
  {
    config: configOption,
    inputDir: Options.directory("input-dir").pipe(
      Options.withDescription("folder of images (flat or class subfolders)")
    )
  },
  (o) =>
    Effect.gen(function* () {
      const loaded = yield* Pipeline
      const { prepareImageBatch } = yield* Effect.promise(() => import("../../programs/drift/imageDrift.js"))
      const r = yield* prepareImageBatch({ config: loaded.config, configDir: loaded.dir, inputDir: o.inputDir })
      yield* print(r, () => preparedBatchText(r, o.config))
    })
).pipe(
  Command.withDescription("decode a folder of images like training into a batch for drift monitor"),
  Command.provide((o) => pipelineLayer(o.config))
)

const summary = Command.make("summary", { config: configOption }, () =>
  Effect.gen(function* () {
    const loaded = yield* Pipeline
    const { driftSummary } = yield* Effect.promise(() => import("../../programs/drift/summary.js"))
    const s = yield* driftSummary(loaded.config)
    yield* print(s, () => driftSummaryText(s))
  })
).pipe(
  Command.withDescription("drift history per model, as a table and a trend line"),
  Command.provide((o) => pipelineLayer(o.config, undefined, true))
)

const stage = Command.make(
  "stage-training",
  {
    config: configOption,
    batch: Options.text("batch").pipe(
      Options.withDescription(
        "labelled drifted CSV (columns in any order), or for image pipelines a folder of <class>/ subfolders"
      )
    ),
    holdout: Options.float("holdout").pipe(
      Options.withDefault(0.3),
      Options.withDescription("share held out to evaluate on drifted data")
    )
  },
  (o) =>
    Effect.gen(function* () {
      const loaded = yield* Pipeline
      const { stageTraining } = yield* Effect.promise(() => import("../../programs/drift/staging.js"))
      const s = yield* stageTraining({
        config: loaded.config,
        configDir: loaded.dir,
        batch: o.batch,
        holdout: o.holdout,
        actor: yield* actor
      })
      yield* print(s, () => stagedTrainingText(s, o.config, loaded.config.task_type === "image_classification"))
    })
).pipe(
  Command.withDescription(
    "add a labelled drifted batch to the training data as a new dataset version, holding part of it out"
  ),
  Command.provide((o) => pipelineLayer(o.config))
)

const unstage = Command.make(
  "unstage-training",
  { config: configOption, id: Options.text("id").pipe(Options.optional) },
  (o) =>
    Effect.gen(function* () {
      const loaded = yield* Pipeline
      const { unstageTraining } = yield* Effect.promise(() => import("../../programs/drift/staging.js"))
      const s = yield* unstageTraining({ config: loaded.config, id: Option.getOrUndefined(o.id), actor: yield* actor })
      yield* print({ unstaged: s.id, dataset: s.dataset }, () => unstagedTrainingText(s))
    })
).pipe(
  Command.withDescription("undo a drift-training staging"),
  Command.provide((o) => pipelineLayer(o.config))
)

export const driftSubcommands = [monitor, prepareBatch, summary, stage, unstage] as const

export const driftCommand = Command.make("drift").pipe(
  Command.withDescription("drift monitoring and drift-adaptive retraining"),
  Command.withSubcommands(driftSubcommands)
)
