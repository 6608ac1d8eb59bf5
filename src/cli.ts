import { Args, Command, Options } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { Cause, Console, Effect, Exit, Option } from "effect"
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { describeError, exitCodeOf } from "./domain/describe.js"
import { RegistryError, StoreError } from "./domain/errors.js"
import { promoteRun } from "./programs/promoteRun.js"
import { describeIntent, rollback } from "./programs/rollback.js"
import { Registry } from "./services/Registry.js"

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
      const result = yield* Effect.zipRight(warnPending, runPipeline({
        loaded,
        target: Option.getOrUndefined(o.target),
        task: Option.getOrUndefined(o.task),
        codeRevision: codeRevision(),
        driftgateVersion: DRIFTGATE_VERSION,
        fineTune: o.fineTune
      })).pipe(Effect.provide(liveLayer({ workspace, approve: Option.getOrUndefined(o.approve) as ApproveMode | undefined })))
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

// ---- driftgate promote ---------------------------------------------------------------------

const actor = () => `user:${process.env.USER ?? process.env.USERNAME ?? "operator"}`

/** Reports interrupted rollbacks on every registry-touching command (DESIGN: finishable after a power cut). */
const warnPending = Effect.gen(function* () {
  const registry = yield* Registry
  const pending = yield* registry.pendingRollbacks()
  for (const i of pending) {
    yield* Console.error(`driftgate: warning: ${describeIntent(i)}; finish it with \`driftgate rollback --config <config> --resume\` or drop it with \`--abandon --reason TEXT\``)
  }
})

const promoteCmd = Command.make(
  "promote",
  { run: Options.text("run").pipe(Options.withDescription("id of an evaluated run")), workspace: workspaceOpt, approve: approveOpt, json: jsonOpt, verbose: verboseOpt },
  (o) =>
    Effect.gen(function* () {
      yield* warnPending
      const r = yield* promoteRun(o.run)
      yield* out(o.json, { run_id: o.run, version: r.version, manifest: r.manifest }, () =>
        `run ${o.run} promoted: ${r.version.name} version ${r.version.version} is now ${r.version.stage} (readiness ${r.manifest.readiness})`)
    }).pipe(Effect.provide(liveLayer({ workspace: resolveWorkspace(o.workspace), approve: Option.getOrUndefined(o.approve) as ApproveMode | undefined })))
).pipe(Command.withDescription("promote an evaluated run later (rules and approval gate as in run)"))

// ---- driftgate rollback --------------------------------------------------------------------

const rollbackCmd = Command.make(
  "rollback",
  {
    config: configOpt, workspace: workspaceOpt, json: jsonOpt, verbose: verboseOpt,
    version: Options.integer("version").pipe(Options.withDescription("version to restore to Production"), Options.optional),
    reason: Options.text("reason").pipe(Options.withDescription("why (recorded in the audit log)"), Options.optional),
    yes: Options.boolean("yes").pipe(Options.withDescription("do not ask for confirmation")),
    resume: Options.boolean("resume").pipe(Options.withDescription("finish an interrupted rollback")),
    abandon: Options.boolean("abandon").pipe(Options.withDescription("abandon an interrupted rollback"))
  },
  (o) =>
    Effect.gen(function* () {
      const loaded = yield* loadConfig(o.config)
      const workspace = resolveWorkspace(o.workspace, loaded.config.workspace)
      const r = yield* rollback({
        config: loaded.config, version: Option.getOrUndefined(o.version), reason: Option.getOrUndefined(o.reason),
        yes: o.yes, actor: actor(), resume: o.resume, abandon: o.abandon
      }).pipe(Effect.provide(liveLayer({ workspace })))
      yield* out(o.json, r, () =>
        r.action === "abandoned"
          ? `abandoned ${describeIntent(r.intent)}`
          : `${r.version!.name} version ${r.version!.version} is Production again${r.action === "resumed" ? " (interrupted rollback finished)" : ""}`)
    })
).pipe(Command.withDescription("restore a previous version to Production, audited (interactive, or --version N --reason T --yes)"))

// ---- driftgate registry list|show|verify ---------------------------------------------------

const registryList = Command.make("list", { workspace: workspaceOpt, json: jsonOpt, verbose: verboseOpt }, (o) =>
  Effect.gen(function* () {
    yield* warnPending
    const registry = yield* Registry
    const models = yield* registry.listModels()
    const rows: Array<{ name: string; versions: number; production: number | null; production_run: string | null; latest: number | null }> = []
    for (const m of models) {
      const versions = yield* registry.listVersions(m.name)
      const prod = versions.find((v) => v.stage === "Production")
      rows.push({ name: m.name, versions: versions.length, production: prod?.version ?? null, production_run: prod?.runId ?? null, latest: versions.at(-1)?.version ?? null })
    }
    yield* out(o.json, rows, () => rows.length === 0 ? "no registered models" : [
      "model                     versions  production  latest",
      ...rows.map((r) => `${r.name.padEnd(25)} ${String(r.versions).padStart(8)}  ${String(r.production ?? "—").padStart(10)}  ${String(r.latest ?? "—").padStart(6)}`)
    ].join("\n"))
  }).pipe(Effect.provide(liveLayer({ workspace: resolveWorkspace(o.workspace) })))
).pipe(Command.withDescription("registered models with their Production version"))

const registryShow = Command.make("show", { workspace: workspaceOpt, json: jsonOpt, verbose: verboseOpt, name: Args.text({ name: "NAME" }) }, (o) =>
  Effect.gen(function* () {
    yield* warnPending
    const registry = yield* Registry
    const versions = yield* registry.listVersions(o.name)
    if (versions.length === 0) return yield* Effect.fail(new RegistryError({ model: o.name, message: `model ${o.name} is not registered` }))
    const audit = yield* registry.audit(o.name)
    yield* out(o.json, { name: o.name, versions, audit }, () => [
      `model ${o.name}`,
      "version  stage       run_id                                created_at                aliases",
      ...versions.map((v) => `${String(v.version).padStart(7)}  ${v.stage.padEnd(10)}  ${v.runId}  ${v.createdAt}  ${v.aliases.join(", ")}`),
      "audit:",
      ...audit.map((a) => `  #${a.seq} ${a.at} ${a.actor} ${a.action}${a.version !== null ? ` v${a.version}` : ""}${a.fromStage || a.toStage ? ` ${a.fromStage ?? "—"} → ${a.toStage ?? "—"}` : ""}${a.reason ? `: ${a.reason}` : ""}`)
    ].join("\n"))
  }).pipe(Effect.provide(liveLayer({ workspace: resolveWorkspace(o.workspace) })))
).pipe(Command.withDescription("versions, stages, aliases and the audit trail of one model"))

const registryVerify = Command.make("verify", { workspace: workspaceOpt, json: jsonOpt, verbose: verboseOpt }, (o) =>
  Effect.gen(function* () {
    const registry = yield* Registry
    const verdict = yield* registry.verify()
    const pending = yield* registry.pendingRollbacks()
    const problems = [...verdict.problems]
    for (const m of yield* registry.listModels()) {
      const prod = (yield* registry.listVersions(m.name)).filter((v) => v.stage === "Production")
      if (prod.length > 1) problems.push(`model ${m.name} has ${prod.length} Production versions (${prod.map((v) => v.version).join(", ")})`)
    }
    const result = { ok: problems.length === 0, audit_records: verdict.records, problems, pending_rollbacks: pending }
    yield* out(o.json, result, () => [
      result.ok ? `audit chain verified: ${verdict.records} record(s), at most one Production version per model` : `registry verification FAILED`,
      ...problems.map((p) => `  - ${p}`),
      ...pending.map((i) => `  pending: ${describeIntent(i)}`)
    ].join("\n"))
    if (!result.ok) return yield* Effect.fail(new StoreError({ op: "verify", message: `the registry failed verification: ${problems[0]}` }))
  }).pipe(Effect.provide(liveLayer({ workspace: resolveWorkspace(o.workspace) })))
).pipe(Command.withDescription("verify the audit hash chain and the one-Production invariant"))

const registryCmd = Command.make("registry").pipe(
  Command.withDescription("the model registry"),
  Command.withSubcommands([registryList, registryShow, registryVerify])
)

// ---- main -----------------------------------------------------------------------------------

const driftgate = Command.make("driftgate").pipe(
  Command.withDescription("local-first, drift-aware MLOps lifecycle for supervised learning"),
  Command.withSubcommands([run, promoteCmd, rollbackCmd, registryCmd, runs])
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


