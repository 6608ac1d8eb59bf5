import { Clock, Effect } from "effect"
import type { PipelineStage } from "../domain/config.js"
import { uuidv7 } from "../domain/ids.js"
import { describeError } from "../domain/describe.js"
import { UsageError } from "../domain/errors.js"
import { Storage } from "../services/Storage.js"
import { Tracker } from "../services/Tracker.js"
import { prepareData } from "./prepareData.js"
import type {
  PipelineContext,
  PreparedData,
  RunInput,
  StageError,
  StageRequirements,
  StageSummary
} from "./pipelineTypes.js"
import { type StageName, type StageReport, type StageStatus, overallStatus, statusOf } from "./runReport.js"
import { stageTable } from "./stages.js"
import { saveRunContext } from "./runContext.js"
import { deployedVersion } from "./deployed.js"
import { writeReport } from "./reports.js"
import { prestartChartWorker } from "./reports/charts.js"
import { forgetHandOvers } from "./tableCache.js"
import { reportKeys } from "./workspace.js"

export type { RunInput } from "./pipelineTypes.js"

export interface RunResult {
  readonly runId: string
  readonly executionId: string
  readonly status: "completed" | "failed" | "blocked" | "cancelled"
  readonly report: RunReport
  readonly prepared: PreparedData | undefined
  /** The error that decided the outcome (failed/blocked/cancelled), for the CLI's exit code and sentence. */
  readonly error: StageError | undefined
  readonly context: PipelineContext
}

export interface RunReport {
  readonly run_id: string
  readonly execution_id: string
  readonly pipeline: string
  readonly config_file: string
  readonly config_hash: string
  readonly dataset: string
  readonly dataset_version: string | null
  readonly status: RunResult["status"]
  readonly started_at: string
  readonly ended_at: string
  readonly duration_s: number
  readonly stages: ReadonlyArray<StageReport>
  readonly anchors: Readonly<Record<string, string>>
}

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * One pipeline run: data preparation (always), then the config's stages in order. Every run is
 * recorded in the Tracker and leaves a run_report.json, whatever its outcome; a stage's expected
 * failure ends the run with the matching status rather than as a crash.
 */
export const runPipeline = Effect.fn("pipeline.run")(
  function* (input: RunInput) {
    const tracker = yield* Tracker
    const storage = yield* Storage
    const { config } = input.loaded
    if (input.fineTune === true && config.task_type !== "image_classification") {
      return yield* Effect.fail(
        new UsageError({
          message: `--fine-tune continues from the Production CNN's weights and applies to image_classification pipelines; ${config.name} is ${config.task_type} (retrain it instead)`
        })
      )
    }
    if (input.fineTune === true) {
      // A usage error before anything is written: fine-tuning needs a deployed model to start from.
      yield* deployedVersion(config, "to start --fine-tune from; run without --fine-tune first").pipe(
        Effect.catchTag("NoDeployedVersion", (e) => Effect.fail(new UsageError({ message: describeError(e) })))
      )
    }
    const startMs = yield* Clock.currentTimeMillis
    const executionId = uuidv7(startMs)
    const runId = uuidv7(startMs)
    const anchors: Record<string, string> = {
      execution_id: executionId,
      config_hash: input.loaded.hash,
      random_seed: String(config.random_seed),
      run_id: runId,
      driftgate_version: input.driftgateVersion,
      code_revision: input.codeRevision
    }
    yield* tracker.createRun({ runId, experiment: config.name, anchors })
    yield* tracker.logParams(runId, {
      task_type: config.task_type,
      dataset: config.dataset,
      random_seed: config.random_seed,
      "split.train": config.split.train,
      "split.val": config.split.val,
      "split.test": config.split.test,
      "preprocessing.scale": config.preprocessing.scale,
      "preprocessing.impute": config.preprocessing.impute,
      "preprocessing.encode": config.preprocessing.encode,
      ...(config.training
        ? {
            model: config.training.model,
            ...Object.fromEntries(
              Object.entries(config.training.params).map(([k, v]) => [
                `params.${k}`,
                v === undefined
                  ? null
                  : typeof v === "object" && v !== null
                    ? JSON.stringify(v)
                    : (v as string | number | boolean | null)
              ])
            )
          }
        : {})
    })

    const ctx: PipelineContext = {
      runId,
      executionId,
      input,
      anchors,
      config,
      fineTune: input.fineTune === true,
      prepared: undefined,
      preprocessed: undefined,
      trained: undefined,
      evaluation: undefined,
      driftEvaluation: undefined,
      promotion: "not_run"
    }
    // the evaluation report's charts: vega compiles on a thread of its own while the data is prepared
    if ((config.stages as ReadonlyArray<PipelineStage>).includes("evaluation")) prestartChartWorker()
    const stages: StageReport[] = []
    let decisive: StageError | undefined
    let halted = false

    const runStage = <E extends StageError>(name: StageName, body: Effect.Effect<StageSummary, E, StageRequirements>) =>
      Effect.gen(function* () {
        if (halted) {
          stages.push({
            name,
            status: "skipped",
            started_at: null,
            ended_at: null,
            duration_s: null,
            error: null,
            result: null
          })
          return
        }
        const t0 = yield* Clock.currentTimeMillis
        const exit = yield* Effect.exit(body)
        const t1 = yield* Clock.currentTimeMillis
        const base = { name, started_at: iso(t0), ended_at: iso(t1), duration_s: (t1 - t0) / 1000 }
        if (exit._tag === "Success") {
          stages.push({ ...base, status: "completed", error: null, result: exit.value ?? null })
          return
        }
        const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        if (failure === undefined) return yield* Effect.failCause(exit.cause)
        const status: StageStatus = statusOf(failure)
        stages.push({ ...base, status, error: describeStageError(failure), result: null })
        if (decisive === undefined || rank(status) > rank(statusOfNullable(decisive))) decisive = failure
        // After blocked/cancelled promotion the deployment manifest still records the state; a failure stops everything.
        if (status === "failed") halted = true
      })

    yield* runStage(
      "data_preparation",
      Effect.gen(function* () {
        const prepared = yield* prepareData({
          config,
          configDir: input.loaded.dir,
          target: input.target,
          task: input.task
        })
        ctx.prepared = prepared
        anchors.dataset_version = prepared.version
        yield* tracker.setTags(runId, {
          dataset_version: prepared.version,
          dataset: prepared.dataset,
          split_id: prepared.splitId
        })
        yield* tracker.logMetrics(runId, [
          { key: "data.rows", value: prepared.rows },
          { key: "data.train_rows", value: prepared.splits.train.rows },
          { key: "data.val_rows", value: prepared.splits.val.rows },
          { key: "data.test_rows", value: prepared.splits.test.rows }
        ])
        return {
          dataset_version: prepared.version,
          rows: prepared.rows,
          split_id: prepared.splitId,
          splits: { train: prepared.splits.train.rows, val: prepared.splits.val.rows, test: prepared.splits.test.rows },
          validation: prepared.validation.verdict
        }
      })
    )

    for (const stage of config.stages as ReadonlyArray<PipelineStage>) {
      const impl = stageTable[stage]
      yield* runStage(stage, impl(ctx))
    }

    const endMs = yield* Clock.currentTimeMillis
    const status = overallStatus(stages.map((s) => s.status))
    const report: RunReport = {
      run_id: runId,
      execution_id: executionId,
      pipeline: config.name,
      config_file: input.loaded.file,
      config_hash: input.loaded.hash,
      dataset: config.dataset,
      dataset_version: ctx.prepared?.version ?? null,
      status,
      started_at: iso(startMs),
      ended_at: iso(endMs),
      duration_s: (endMs - startMs) / 1000,
      stages,
      anchors: { ...anchors }
    }
    yield* writeReport(storage, runId, "run_report.json", report)
    if (ctx.evaluation !== undefined) yield* saveRunContext(ctx)
    yield* tracker.logArtifact(runId, {
      name: "run_report.json",
      path: reportKeys(runId).file("run_report.json"),
      sha256: null
    })
    yield* tracker.endRun(runId, status, decisive ? describeStageError(decisive) : undefined)
    return {
      runId,
      executionId,
      status,
      report,
      prepared: ctx.prepared,
      error: decisive,
      context: ctx
    } satisfies RunResult
  },
  // the preprocessed tables this run handed from stage to stage and did not take go with it
  (run) =>
    Effect.flatMap(Storage, (storage) =>
      Effect.ensuring(
        run,
        Effect.sync(() => forgetHandOvers(storage))
      )
    )
)

const rank = (s: StageStatus) =>
  s === "failed" ? 3 : s === "cancelled" || s === "rejected" ? 2 : s === "blocked" ? 1 : 0
const statusOfNullable = (e: StageError) => statusOf(e)

export const describeStageError = describeError
