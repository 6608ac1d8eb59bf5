import { Args, Command, Options } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { Cause, Console, Effect, Exit, Option } from "effect"
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { describeError, exitCodeOf } from "./domain/describe.js"
import { RegistryError, StoreError, UsageError } from "./domain/errors.js"
import { monitorDrift } from "./programs/drift/monitor.js"
import { monitorImageDrift, prepareImageBatch } from "./programs/drift/imageDrift.js"
import { stageTraining, unstageTraining } from "./programs/drift/staging.js"
import { driftSummary, servingLogBatch } from "./programs/drift/summary.js"
import { verifyStore } from "./programs/verifyStore.js"
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
  Options.withDescription(
    "approval gate: interactive (default on a TTY), cancel (default headless), auto (approve by policy)"
  ),
  Options.optional
)

const resolveWorkspace = (flag: Option.Option<string>, fromConfig?: string) =>
  path.resolve(Option.getOrUndefined(flag) ?? process.env.DRIFTGATE_WORKSPACE ?? fromConfig ?? ".driftgate")

const codeRevision = (): string => {
  if (process.env.DRIFTGATE_CODE_REVISION) return process.env.DRIFTGATE_CODE_REVISION
  try {
    return (
      execFileSync("git", ["rev-parse", "HEAD"], { stdio: ["ignore", "pipe", "ignore"], timeout: 2000 })
        .toString()
        .trim() || "unknown"
    )
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
      const loaded = yield* loadConfig(o.config)
      const workspace = resolveWorkspace(o.workspace, loaded.config.workspace)
      const result = yield* Effect.zipRight(
        warnPending,
        runPipeline({
          loaded,
          target: Option.getOrUndefined(o.target),
          task: Option.getOrUndefined(o.task),
          codeRevision: codeRevision(),
          driftgateVersion: DRIFTGATE_VERSION,
          fineTune: o.fineTune
        })
      ).pipe(
        Effect.provide(liveLayer({ workspace, approve: Option.getOrUndefined(o.approve) as ApproveMode | undefined }))
      )
      const p = result.prepared
      const summary = {
        run_id: result.runId,
        execution_id: result.executionId,
        status: result.status,
        workspace,
        dataset: p
          ? {
              name: p.dataset,
              version: p.version,
              rows: p.rows,
              snapshot_created: p.snapshotCreated,
              dataset_yaml_created: p.specCreated,
              validation: p.validation.verdict,
              split_id: p.splitId,
              splits: { train: p.splits.train.rows, val: p.splits.val.rows, test: p.splits.test.rows },
              label_distribution: p.splits.train.labels
                ? { train: p.splits.train.labels, val: p.splits.val.labels, test: p.splits.test.labels }
                : undefined
            }
          : null,
        stages: result.report.stages.map((s) => ({
          name: s.name,
          status: s.status,
          duration_s: s.duration_s,
          error: s.error,
          result: s.result
        })),
        reports: `${workspace}/reports/${result.runId}/`,
        error: result.error ? describeError(result.error) : null
      }
      yield* out(o.json, summary, () =>
        [
          `run ${result.runId} ${result.status}`,
          ...(p
            ? [
                `dataset ${p.dataset} version ${p.version}`,
                `  ${p.rows} rows, validation ${p.validation.verdict}; split ${p.splitId}: train ${p.splits.train.rows}, val ${p.splits.val.rows}, test ${p.splits.test.rows}`
              ]
            : []),
          ...result.report.stages.map(
            (s) => `  ${s.name.padEnd(17)} ${s.status}${s.duration_s !== null ? ` (${s.duration_s.toFixed(2)} s)` : ""}`
          ),
          `reports in ${workspace}/reports/${result.runId}/`
        ].join("\n")
      )
      if (result.error) return yield* Effect.fail(result.error)
    })
).pipe(Command.withDescription("prepare the data and run the config's stages (preprocessing … deployment)"))

// ---- driftgate runs list|show ---------------------------------------------------------------

const runsList = Command.make(
  "list",
  {
    workspace: workspaceOpt,
    json: jsonOpt,
    verbose: verboseOpt,
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
      yield* out(o.json, runs, () =>
        runs.length === 0
          ? "no runs recorded yet"
          : [
              "run_id                                experiment            status     started_at                dataset_version",
              ...runs.map(
                (r) =>
                  `${r.runId}  ${r.experiment.padEnd(20)}  ${r.status.padEnd(9)}  ${r.startedAt}  ${(r.anchors.dataset_version ?? "—").slice(0, 12)}`
              )
            ].join("\n")
      )
    }).pipe(Effect.provide(liveLayer({ workspace: resolveWorkspace(o.workspace), existing: true })))
).pipe(Command.withDescription("list tracked runs, newest first"))

const runsShow = Command.make(
  "show",
  { workspace: workspaceOpt, json: jsonOpt, verbose: verboseOpt, runId: Args.text({ name: "RUN_ID" }) },
  (o) =>
    Effect.gen(function* () {
      const tracker = yield* Tracker
      const d = yield* tracker.getRun(o.runId)
      yield* out(o.json, d, () =>
        [
          `run ${d.run.runId} (${d.run.experiment}) ${d.run.status}`,
          `  started ${d.run.startedAt}${d.run.endedAt ? `, ended ${d.run.endedAt}` : ""}`,
          ...(d.run.error ? [`  error: ${d.run.error}`] : []),
          "anchors:",
          ...Object.entries(d.run.anchors).map(([k, v]) => `  ${k}: ${v}`),
          "params:",
          ...Object.entries(d.params).map(([k, v]) => `  ${k}: ${v}`),
          "metrics:",
          ...d.metrics.map((m) => `  ${m.key}${m.step ? `@${m.step}` : ""}: ${m.value}`),
          "tags:",
          ...Object.entries(d.tags).map(([k, v]) => `  ${k}: ${v}`),
          "artifacts:",
          ...d.artifacts.map((a) => `  ${a.name}: ${a.path}`)
        ].join("\n")
      )
    }).pipe(Effect.provide(liveLayer({ workspace: resolveWorkspace(o.workspace), existing: true })))
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
    yield* Console.error(
      `driftgate: warning: ${describeIntent(i)}; finish it with \`driftgate rollback --config <config> --resume\` or drop it with \`--abandon --reason TEXT\``
    )
  }
})

const promoteCmd = Command.make(
  "promote",
  {
    run: Options.text("run").pipe(Options.withDescription("id of an evaluated run")),
    workspace: workspaceOpt,
    approve: approveOpt,
    json: jsonOpt,
    verbose: verboseOpt
  },
  (o) =>
    Effect.gen(function* () {
      yield* warnPending
      const r = yield* promoteRun(o.run)
      yield* out(
        o.json,
        { run_id: o.run, version: r.version, manifest: r.manifest },
        () =>
          `run ${o.run} promoted: ${r.version.name} version ${r.version.version} is now ${r.version.stage} (readiness ${r.manifest.readiness})`
      )
    }).pipe(
      Effect.provide(
        liveLayer({
          workspace: resolveWorkspace(o.workspace),
          approve: Option.getOrUndefined(o.approve) as ApproveMode | undefined
        })
      )
    )
).pipe(Command.withDescription("promote an evaluated run later (rules and approval gate as in run)"))

// ---- driftgate rollback --------------------------------------------------------------------

const rollbackCmd = Command.make(
  "rollback",
  {
    config: configOpt,
    workspace: workspaceOpt,
    json: jsonOpt,
    verbose: verboseOpt,
    version: Options.integer("version").pipe(
      Options.withDescription("version to restore to Production"),
      Options.optional
    ),
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
        config: loaded.config,
        version: Option.getOrUndefined(o.version),
        reason: Option.getOrUndefined(o.reason),
        yes: o.yes,
        actor: actor(),
        resume: o.resume,
        abandon: o.abandon
      }).pipe(Effect.provide(liveLayer({ workspace })))
      yield* out(o.json, r, () =>
        r.action === "abandoned"
          ? `abandoned ${describeIntent(r.intent)}`
          : `${r.version!.name} version ${r.version!.version} is Production again${r.action === "resumed" ? " (interrupted rollback finished)" : ""}`
      )
    })
).pipe(
  Command.withDescription(
    "restore a previous version to Production, audited (interactive, or --version N --reason T --yes)"
  )
)

// ---- driftgate registry list|show|verify ---------------------------------------------------

const registryList = Command.make("list", { workspace: workspaceOpt, json: jsonOpt, verbose: verboseOpt }, (o) =>
  Effect.gen(function* () {
    yield* warnPending
    const registry = yield* Registry
    const models = yield* registry.listModels()
    const rows: Array<{
      name: string
      versions: number
      production: number | null
      production_run: string | null
      latest: number | null
    }> = []
    for (const m of models) {
      const versions = yield* registry.listVersions(m.name)
      const prod = versions.find((v) => v.stage === "Production")
      rows.push({
        name: m.name,
        versions: versions.length,
        production: prod?.version ?? null,
        production_run: prod?.runId ?? null,
        latest: versions.at(-1)?.version ?? null
      })
    }
    yield* out(o.json, rows, () =>
      rows.length === 0
        ? "no registered models"
        : [
            "model                     versions  production  latest",
            ...rows.map(
              (r) =>
                `${r.name.padEnd(25)} ${String(r.versions).padStart(8)}  ${String(r.production ?? "—").padStart(10)}  ${String(r.latest ?? "—").padStart(6)}`
            )
          ].join("\n")
    )
  }).pipe(Effect.provide(liveLayer({ workspace: resolveWorkspace(o.workspace), existing: true })))
).pipe(Command.withDescription("registered models with their Production version"))

const registryShow = Command.make(
  "show",
  { workspace: workspaceOpt, json: jsonOpt, verbose: verboseOpt, name: Args.text({ name: "NAME" }) },
  (o) =>
    Effect.gen(function* () {
      yield* warnPending
      const registry = yield* Registry
      const versions = yield* registry.listVersions(o.name)
      if (versions.length === 0)
        return yield* Effect.fail(new RegistryError({ model: o.name, message: `model ${o.name} is not registered` }))
      const audit = yield* registry.audit(o.name)
      yield* out(o.json, { name: o.name, versions, audit }, () =>
        [
          `model ${o.name}`,
          "version  stage       run_id                                created_at                aliases",
          ...versions.map(
            (v) =>
              `${String(v.version).padStart(7)}  ${v.stage.padEnd(10)}  ${v.runId}  ${v.createdAt}  ${v.aliases.join(", ")}`
          ),
          "audit:",
          ...audit.map(
            (a) =>
              `  #${a.seq} ${a.at} ${a.actor} ${a.action}${a.version !== null ? ` v${a.version}` : ""}${a.fromStage || a.toStage ? ` ${a.fromStage ?? "—"} → ${a.toStage ?? "—"}` : ""}${a.reason ? `: ${a.reason}` : ""}`
          )
        ].join("\n")
      )
    }).pipe(Effect.provide(liveLayer({ workspace: resolveWorkspace(o.workspace), existing: true })))
).pipe(Command.withDescription("versions, stages, aliases and the audit trail of one model"))

const registryVerify = Command.make("verify", { workspace: workspaceOpt, json: jsonOpt, verbose: verboseOpt }, (o) =>
  Effect.gen(function* () {
    const v = yield* verifyStore()
    yield* out(o.json, v, () =>
      [
        v.ok
          ? `registry verified: ${v.audit_records} audit record(s); ${v.checked.join("; ")}`
          : `registry verification FAILED (${v.problems.length} problem(s))`,
        ...v.problems.map((p) => `  - ${p}`),
        ...v.notes.map((n) => `  note: ${n}`),
        ...v.pending_rollbacks.map((i) => `  pending: ${describeIntent(i)}`)
      ].join("\n")
    )
    if (!v.ok)
      return yield* Effect.fail(
        new StoreError({ op: "verify", message: `the registry failed verification: ${v.problems[0]}` })
      )
  }).pipe(Effect.provide(liveLayer({ workspace: resolveWorkspace(o.workspace), existing: true })))
).pipe(
  Command.withDescription(
    "verify the store: SQLite integrity, the audit chain and its anchors, stages, one Production, every artifact's SHA-256"
  )
)

const registryCmd = Command.make("registry").pipe(
  Command.withDescription("the model registry"),
  Command.withSubcommands([registryList, registryShow, registryVerify])
)

// ---- driftgate serve -----------------------------------------------------------------------

const serveCmd = Command.make(
  "serve",
  {
    config: Options.file("config").pipe(
      Options.withDescription("serve config (YAML; default: configs/serve.yaml when it exists)"),
      Options.optional
    ),
    host: Options.text("host").pipe(
      Options.withDescription("address to listen on (default: the config's host, 127.0.0.1)"),
      Options.optional
    ),
    port: Options.integer("port").pipe(
      Options.withDescription("port to listen on; 0 picks a free one (default: the config's port, 8080)"),
      Options.optional
    ),
    model: Options.text("model").pipe(Options.withDescription("serve only this registered model"), Options.optional),
    workspace: workspaceOpt,
    verbose: verboseOpt
  },
  (o) =>
    // loaded on demand: fastify and the serving code stay out of every other command's start-up
    Effect.flatMap(
      Effect.promise(() => import("./programs/serve/serve.js")),
      ({ serve }) =>
        serve({
          configFile: Option.getOrUndefined(o.config),
          host: Option.getOrUndefined(o.host),
          port: Option.getOrUndefined(o.port),
          model: Option.getOrUndefined(o.model)
        }).pipe(Effect.provide(liveLayer({ workspace: resolveWorkspace(o.workspace) })))
    )
).pipe(Command.withDescription("serve the registered models over HTTP: predict, models, health, metrics, reload, docs"))

// ---- driftgate drift monitor|summary|stage-training|unstage-training ------------------------

const driftMonitor = Command.make(
  "monitor",
  {
    config: configOpt,
    workspace: workspaceOpt,
    json: jsonOpt,
    verbose: verboseOpt,
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
      const loaded = yield* loadConfig(o.config)
      const workspace = resolveWorkspace(o.workspace, loaded.config.workspace)
      if (Option.isSome(o.batch) === o.fromServingLog) {
        return yield* Effect.fail(
          new UsageError({ message: "drift monitor needs exactly one of --batch FILE.csv or --from-serving-log" })
        )
      }
      let since: Date | undefined
      if (Option.isSome(o.since)) {
        since = new Date(o.since.value)
        if (Number.isNaN(since.getTime()))
          return yield* Effect.fail(new UsageError({ message: `--since ${o.since.value} is not an ISO date or time` }))
      }
      if (loaded.config.task_type === "image_classification") {
        if (Option.isNone(o.batch))
          return yield* Effect.fail(
            new UsageError({
              message: "image drift needs --batch BATCH.dgt (made by drift prepare-batch --input-dir DIR)"
            })
          )
        const batchFile = o.batch.value
        const { report, gate } = yield* Effect.zipRight(
          warnPending,
          monitorImageDrift({ config: loaded.config, batch: batchFile, actor: actor() })
        ).pipe(Effect.provide(liveLayer({ workspace })))
        yield* out(o.json, report, () =>
          [
            `image drift check of ${report.model} version ${report.version}: severity ${report.severity}`,
            `  pixel Wasserstein per channel: ${report.pixel_wasserstein.per_channel.map((v) => v.toFixed(4)).join(", ")} (${report.pixel_wasserstein.severity})`,
            `  embedding MMD² ${report.embedding_mmd.mmd2.toExponential(3)}, permutation p-value ${report.embedding_mmd.pValue.toFixed(4)} (${report.embedding_mmd.severity})`,
            `  multi-scale: ratio ${report.multiscale.ratio.toFixed(2)}${report.drifted ? ` → reads as ${report.multiscale.reading} drift` : " (no drift to localise)"}`,
            `report: ${report.files.html}`
          ].join("\n")
        )
        if (gate !== null) return yield* Effect.fail(gate)
        return
      }
      const { report, gate } = yield* Effect.gen(function* () {
        yield* warnPending
        const source = Option.isSome(o.batch)
          ? { kind: "file" as const, path: o.batch.value }
          : yield* Effect.map(servingLogBatch(loaded.config, since), (b) => ({
              kind: "serving_log" as const,
              frame: b.frame,
              path: b.path,
              since: since?.toISOString() ?? null
            }))
        return yield* monitorDrift({ config: loaded.config, configDir: loaded.dir, source, actor: actor() })
      }).pipe(Effect.provide(liveLayer({ workspace })))
      yield* out(o.json, report, () =>
        [
          `drift check of ${report.model} version ${report.version}: severity ${report.severity}, ${report.result.numberOfDriftedColumns}/${report.result.numberOfColumns} columns drifted (share ${report.share_of_drifted_columns.toFixed(2)}; dataset drift ${report.dataset_drift ? "yes" : "no"}; with Benjamini–Hochberg ${report.result.benjaminiHochberg.numberOfDriftedColumns})`,
          ...report.result.columns
            .filter((c) => c.drifted)
            .map(
              (c) =>
                `  ${c.column}: ${c.test} ${c.statistic?.toFixed(4)}${c.pValue !== null ? ` p=${c.pValue.toExponential(2)}` : ""} (${c.severity})`
            ),
          ...report.result.warnings.map((w) => `  warning: ${w}`),
          `report: ${report.files.html}`
        ].join("\n")
      )
      if (gate !== null) return yield* Effect.fail(gate)
    })
).pipe(
  Command.withDescription(
    "compare a batch (or the serving log) with the deployed model's training data; exit 2 at fail_on_severity when headless"
  )
)

const prepareBatchCmd = Command.make(
  "prepare-batch",
  {
    config: configOpt,
    workspace: workspaceOpt,
    json: jsonOpt,
    verbose: verboseOpt,
    inputDir: Options.directory("input-dir").pipe(
      Options.withDescription("folder of images (flat or class subfolders)")
    )
  },
  (o) =>
    Effect.gen(function* () {
      const loaded = yield* loadConfig(o.config)
      const r = yield* prepareImageBatch({ config: loaded.config, configDir: loaded.dir, inputDir: o.inputDir }).pipe(
        Effect.provide(liveLayer({ workspace: resolveWorkspace(o.workspace, loaded.config.workspace) }))
      )
      yield* out(o.json, r, () =>
        [
          `prepared ${r.images} images into ${r.batch}`,
          `next: driftgate drift monitor --config ${o.config} --batch ${r.batch}`
        ].join("\n")
      )
    })
).pipe(Command.withDescription("decode a folder of images like training into a batch for drift monitor"))

const driftSummaryCmd = Command.make(
  "summary",
  { config: configOpt, workspace: workspaceOpt, json: jsonOpt, verbose: verboseOpt },
  (o) =>
    Effect.gen(function* () {
      const loaded = yield* loadConfig(o.config)
      const s = yield* driftSummary(loaded.config).pipe(
        Effect.provide(liveLayer({ workspace: resolveWorkspace(o.workspace, loaded.config.workspace), existing: true }))
      )
      yield* out(o.json, s, () =>
        s.checks.length === 0
          ? `no drift checks recorded for ${s.model}`
          : [
              `drift history of ${s.model} (${s.checks.length} check(s)); share of drifted columns: ${s.trend}`,
              "time                      version  rows    share  severity  decision          batch",
              ...s.checks.map(
                (c) =>
                  `${c.at}  ${String(c.version).padStart(7)}  ${String(c.rows).padStart(6)}  ${c.share.toFixed(2).padStart(5)}  ${c.severity.padEnd(8)}  ${(c.decision?.action ?? "—").padEnd(16)}  ${c.batch}`
              )
            ].join("\n")
      )
    })
).pipe(Command.withDescription("drift history per model, as a table and a trend line"))

const stageCmd = Command.make(
  "stage-training",
  {
    config: configOpt,
    workspace: workspaceOpt,
    json: jsonOpt,
    verbose: verboseOpt,
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
      const loaded = yield* loadConfig(o.config)
      const s = yield* stageTraining({
        config: loaded.config,
        configDir: loaded.dir,
        batch: o.batch,
        holdout: o.holdout,
        actor: actor()
      }).pipe(Effect.provide(liveLayer({ workspace: resolveWorkspace(o.workspace, loaded.config.workspace) })))
      yield* out(o.json, s, () =>
        [
          `staged drift training ${s.id} for ${s.dataset}: ${s.batch.train_rows} rows join the training data (new dataset version ${s.merged_version.slice(0, 12)}…), ${s.batch.holdout_rows} held out`,
          `baseline: ${s.baseline.model} version ${s.baseline.version} on the held-out rows: ${Object.entries(
            s.baseline.metrics
          )
            .filter(([k]) => (!k.includes("_macro") && !k.includes("_weighted")) || k === "f1_weighted")
            .map(([k, v]) => `${k} ${v.toFixed(4)}`)
            .join(", ")}`,
          `next: driftgate run --config ${o.config}${loaded.config.task_type === "image_classification" ? " --fine-tune" : ""}`
        ].join("\n")
      )
    })
).pipe(
  Command.withDescription(
    "add a labelled drifted batch to the training data as a new dataset version, holding part of it out"
  )
)

const unstageCmd = Command.make(
  "unstage-training",
  {
    config: configOpt,
    workspace: workspaceOpt,
    json: jsonOpt,
    verbose: verboseOpt,
    id: Options.text("id").pipe(Options.optional)
  },
  (o) =>
    Effect.gen(function* () {
      const loaded = yield* loadConfig(o.config)
      const s = yield* unstageTraining({ config: loaded.config, id: Option.getOrUndefined(o.id), actor: actor() }).pipe(
        Effect.provide(liveLayer({ workspace: resolveWorkspace(o.workspace, loaded.config.workspace) }))
      )
      yield* out(
        o.json,
        { unstaged: s.id, dataset: s.dataset },
        () => `unstaged drift training ${s.id}; the next run of ${s.dataset} uses the original data again`
      )
    })
).pipe(Command.withDescription("undo a drift-training staging"))

const driftCmd = Command.make("drift").pipe(
  Command.withDescription("drift monitoring and drift-adaptive retraining"),
  Command.withSubcommands([driftMonitor, prepareBatchCmd, driftSummaryCmd, stageCmd, unstageCmd])
)

// ---- main -----------------------------------------------------------------------------------

const driftgate = Command.make("driftgate").pipe(
  Command.withDescription("local-first, drift-aware MLOps lifecycle for supervised learning"),
  Command.withSubcommands([run, promoteCmd, rollbackCmd, registryCmd, runs, driftCmd, serveCmd])
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
  process.stderr.write(
    `driftgate: unexpected failure: ${defect instanceof Error ? defect.message : String(defect)}${verbose ? "" : " (rerun with --verbose for details)"}\n`
  )
  if (verbose) process.stderr.write(`${Cause.pretty(cause)}\n`)
  process.exitCode = 1
})

const CLI_VALIDATION_TAGS = new Set([
  "CommandMismatch",
  "CorrectedFlag",
  "HelpRequested",
  "InvalidArgument",
  "InvalidValue",
  "MissingValue",
  "MissingFlag",
  "MultipleValuesDetected",
  "MissingSubcommand",
  "NoBuiltInMatch",
  "UnclusteredFlag"
])
const isCliValidation = (e: { _tag?: string }) => CLI_VALIDATION_TAGS.has(e._tag ?? "")
