import { Args, Command, Options } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { Cause, Console, Effect, Exit, Option } from "effect"
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { describeError, exitCodeOf } from "./domain/describe.js"

import { type ApproveMode, liveLayer } from "./layers/live.js"
import { loadConfig } from "./programs/loadConfig.js"
import { runPipeline } from "./programs/runPipeline.js"
import { Tracker } from "./services/Tracker.js"
import { DRIFTGATE_VERSION } from "./version.js"

// ---- common options -------------------------------------------------------------------------

const workspaceOpt = Options.directory("workspace").pipe(
  Options.withDescription("workspace folder (default: $DRIFTGATE_WORKSPACE, the config's workspace:, or ./.driftgate)"),
  Options.optional
)
const jsonOpt = Options.boolean("json").pipe(Options.withDescription("print a machine-readable JSON result on stdout"))
const verboseOpt = Options.boolean("verbose").pipe(Options.withDescription("print stack traces of unexpected failures"))
const configOpt = Options.file("config").pipe(Options.withDescription("pipeline config (YAML)"))
const approveOpt = Options.choice("approve", ["interactive", "auto", "cancel"] as const).pipe(
  Options.withDescription("approval gate: interactive (default on a TTY), cancel (default headless), auto (approve by policy)"),
  Options.optional
)

const resolveWorkspace = (flag: Option.Option<string>, fromConfig?: string) =>
  path.resolve(Option.getOrUndefined(flag) ?? process.env.DRIFTGATE_WORKSPACE ?? fromConfig ?? ".driftgate")

const codeRevision = (): string => {
  if (process.env.DRIFTGATE_CODE_REVISION) return process.env.DRIFTGATE_CODE_REVISION
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { stdio: ["ignore", "pipe", "ignore"], timeout: 2000 }).toString().trim() || "unknown"
  } catch {
    return "unknown"
  }
}

const out = (json: boolean, value: unknown, human: () => string) =>
  json ? Console.log(JSON.stringify(value, null, 2)) : Console.log(human())

// ---- driftgate run --------------------------------------------------------------------------

const run = Command.make(
  "run",
  {
    config: configOpt,
    workspace: workspaceOpt,
    approve: approveOpt,
    json: jsonOpt,
    verbose: verboseOpt,
    target: Options.text("target").pipe(Options.withDescription("target column, to create a missing dataset.yaml"), Options.optional),
    task: Options.choice("task", ["classification", "regression"] as const).pipe(Options.withDescription("task type, to create a missing dataset.yaml"), Options.optional),
    fineTune: Options.boolean("fine-tune").pipe(Options.withDescription("continue from the Production model's weights (image models)"))
  },
  (o) =>
    Effect.gen(function* () {
      const loaded = yield* loadConfig(o.config)
      const workspace = resolveWorkspace(o.workspace, loaded.config.workspace)
      const result = yield* runPipeline({
        loaded,
        target: Option.getOrUndefined(o.target),
        task: Option.getOrUndefined(o.task),
        codeRevision: codeRevision(),
        driftgateVersion: DRIFTGATE_VERSION,
        fineTune: o.fineTune
      }).pipe(Effect.provide(liveLayer({ workspace, approve: Option.getOrUndefined(o.approve) as ApproveMode | undefined })))
      const p = result.prepared
      const summary = {
        run_id: result.runId,
        execution_id: result.executionId,
        status: result.status,
        workspace,
        dataset: p
          ? {
            name: p.dataset, version: p.version, rows: p.rows, snapshot_created: p.snapshotCreated,
            dataset_yaml_created: p.specCreated, validation: p.validation.verdict, split_id: p.splitId,
            splits: { train: p.splits.train.rows, val: p.splits.val.rows, test: p.splits.test.rows },
            label_distribution: p.splits.train.labels ? { train: p.splits.train.labels, val: p.splits.val.labels, test: p.splits.test.labels } : undefined
          }
          : null,
        stages: result.report.stages.map((s) => ({ name: s.name, status: s.status, duration_s: s.duration_s, error: s.error, result: s.result })),
        reports: `${workspace}/reports/${result.runId}/`,
        error: result.error ? describeError(result.error) : null
      }
      yield* out(o.json, summary, () => [
        `run ${result.runId} ${result.status}`,
        ...(p ? [
          `dataset ${p.dataset} version ${p.version}`,
          `  ${p.rows} rows, validation ${p.validation.verdict}; split ${p.splitId}: train ${p.splits.train.rows}, val ${p.splits.val.rows}, test ${p.splits.test.rows}`
        ] : []),
        ...result.report.stages.map((s) => `  ${s.name.padEnd(17)} ${s.status}${s.duration_s !== null ? ` (${s.duration_s.toFixed(2)} s)` : ""}`),
        `reports in ${workspace}/reports/${result.runId}/`
      ].join("\n"))
      if (result.error) return yield* Effect.fail(result.error)
    })
).pipe(Command.withDescription("prepare the data and run the config's stages (preprocessing … deployment)"))

// ---- driftgate runs list|show ---------------------------------------------------------------

const runsList = Command.make(
  "list",
  {
    workspace: workspaceOpt, json: jsonOpt, verbose: verboseOpt,
    experiment: Options.text("experiment").pipe(Options.withDescription("only runs of this pipeline"), Options.optional),
    limit: Options.integer("limit").pipe(Options.withDefault(50))
  },
  (o) =>
    Effect.gen(function* () {
      const tracker = yield* Tracker
      const runs = yield* tracker.listRuns({ ...(Option.isSome(o.experiment) ? { experiment: o.experiment.value } : {}), limit: o.limit })
      yield* out(o.json, runs, () =>
        runs.length === 0 ? "no runs recorded yet" : [
          "run_id                                experiment            status     started_at                dataset_version",
          ...runs.map((r) => `${r.runId}  ${r.experiment.padEnd(20)}  ${r.status.padEnd(9)}  ${r.startedAt}  ${(r.anchors.dataset_version ?? "—").slice(0, 12)}`)
        ].join("\n"))
    }).pipe(Effect.provide(liveLayer({ workspace: resolveWorkspace(o.workspace) })))
).pipe(Command.withDescription("list tracked runs, newest first"))

const runsShow = Command.make(
  "show",
  { workspace: workspaceOpt, json: jsonOpt, verbose: verboseOpt, runId: Args.text({ name: "RUN_ID" }) },
  (o) =>
    Effect.gen(function* () {
      const tracker = yield* Tracker
      const d = yield* tracker.getRun(o.runId)
      yield* out(o.json, d, () => [
        `run ${d.run.runId} (${d.run.experiment}) ${d.run.status}`,
        `  started ${d.run.startedAt}${d.run.endedAt ? `, ended ${d.run.endedAt}` : ""}`,
        ...(d.run.error ? [`  error: ${d.run.error}`] : []),
        "anchors:", ...Object.entries(d.run.anchors).map(([k, v]) => `  ${k}: ${v}`),
        "params:", ...Object.entries(d.params).map(([k, v]) => `  ${k}: ${v}`),
        "metrics:", ...d.metrics.map((m) => `  ${m.key}${m.step ? `@${m.step}` : ""}: ${m.value}`),
        "tags:", ...Object.entries(d.tags).map(([k, v]) => `  ${k}: ${v}`),
        "artifacts:", ...d.artifacts.map((a) => `  ${a.name}: ${a.path}`)
      ].join("\n"))
    }).pipe(Effect.provide(liveLayer({ workspace: resolveWorkspace(o.workspace) })))
).pipe(Command.withDescription("show one run: anchors, params, metrics, tags, artifacts"))

const runs = Command.make("runs").pipe(
  Command.withDescription("tracked runs"),
  Command.withSubcommands([runsList, runsShow])
)

// ---- main -----------------------------------------------------------------------------------

const driftgate = Command.make("driftgate").pipe(
  Command.withDescription("local-first, drift-aware MLOps lifecycle for supervised learning"),
  Command.withSubcommands([run, runs])
)

const cli = Command.run(driftgate, { name: "driftgate", version: DRIFTGATE_VERSION })

const verbose = process.argv.includes("--verbose")

const main = cli(process.argv).pipe(Effect.provide(NodeContext.layer))

Effect.runPromiseExit(main).then((exit) => {
  if (Exit.isSuccess(exit)) return
  const cause = exit.cause
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const e = failure.value as { _tag?: string }
    if (e && typeof e === "object" && "_tag" in e && typeof e._tag === "string" && isCliValidation(e)) {
      // @effect/cli has already printed what was wrong with the command line.
      process.exitCode = 64
      return
    }
    process.stderr.write(`driftgate: ${describeError(e as never)}\n`)
    if (verbose) process.stderr.write(`${Cause.pretty(cause)}\n`)
    process.exitCode = exitCodeOf(e as never)
    return
  }
  if (Cause.isInterruptedOnly(cause)) {
    process.stderr.write("driftgate: interrupted\n")
    process.exitCode = 130
    return
  }
  const defect = Cause.squash(cause)
  process.stderr.write(`driftgate: unexpected failure: ${defect instanceof Error ? defect.message : String(defect)}${verbose ? "" : " (rerun with --verbose for details)"}\n`)
  if (verbose) process.stderr.write(`${Cause.pretty(cause)}\n`)
  process.exitCode = 1
})

const CLI_VALIDATION_TAGS = new Set([
  "CommandMismatch", "CorrectedFlag", "HelpRequested", "InvalidArgument", "InvalidValue", "MissingValue",
  "MissingFlag", "MultipleValuesDetected", "MissingSubcommand", "NoBuiltInMatch", "UnclusteredFlag"
])
const isCliValidation = (e: { _tag?: string }) => CLI_VALIDATION_TAGS.has(e._tag ?? "")


