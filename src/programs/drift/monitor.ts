import { Clock, Effect } from "effect"
import { type PipelineConfig, type Severity } from "../../domain/config.js"
import { DriftGateFailed } from "../../domain/errors.js"
import { uuidv7 } from "../../domain/ids.js"
import type { Frame } from "../../domain/table.js"
import { DriftDetector } from "../../services/DriftDetector.js"
import { Prompt } from "../../services/Prompt.js"
import { Storage } from "../../services/Storage.js"
import { Tracker } from "../../services/Tracker.js"
import { driftKeys } from "../workspace.js"
import { loadDatasetSpec, readBatch } from "./batch.js"
import { renderDriftHtml } from "./html.js"
import { deployedReference } from "./reference.js"
import { stampOf } from "./stamp.js"
import {
  atLeast,
  DRIFT_ACTIONS,
  type DriftAction,
  type DriftDecision,
  type DriftHistoryLine,
  type DriftReport
} from "./report.js"

export type BatchSource =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "serving_log"; readonly frame: Frame; readonly since: string | null; readonly path: string }

/**
 * `drift monitor`: the batch is validated with the training contract, compared column by column
 * with the deployed version's reference profile, and reported to the store (a tracked run), to
 * drift/<model>/<time>.json + .html and to the history. On a terminal at or above alert_severity
 * a response is asked for (with a reason) and recorded; headless, severity at or above
 * fail_on_severity fails the command (exit 2) after everything is written.
 */
export const monitorDrift = Effect.fn("program.driftMonitor")(function* (args: {
  readonly config: PipelineConfig
  readonly configDir: string
  readonly source: BatchSource
  readonly actor: string
}) {
  const detector = yield* DriftDetector
  const { config } = args
  const ref = yield* deployedReference(config)
  const inputs = ref.bundle.featureMap.input_features.map((f) => f.name)

  let frame: Frame
  let batchPath: string | null
  let sha: string | null = null
  let since: string | null = null
  if (args.source.kind === "file") {
    const spec = yield* loadDatasetSpec(config, args.configDir)
    const batch = yield* readBatch(args.source.path, spec, { labelled: false })
    frame = batch.frame
    batchPath = batch.file
    sha = batch.sha256
  } else {
    frame = args.source.frame
    batchPath = args.source.path
    since = args.source.since
  }
  const features: Frame = {
    rows: frame.rows,
    columns: inputs.map((n) => frame.columns.find((c) => c.name === n)!).filter((c) => c !== undefined)
  }
  const result = yield* detector.detect(ref.profile, features, config.drift)

  const recorded = yield* recordDriftCheck({
    config,
    actor: args.actor,
    model: ref.name,
    version: ref.version.version,
    severity: result.severity,
    history: {
      batch: batchPath ?? "(serving log)",
      rows: result.rows,
      share: result.shareOfDriftedColumns,
      drifted_columns: result.numberOfDriftedColumns,
      columns: result.numberOfColumns,
      dataset_drift: result.datasetDrift
    },
    metrics: [
      { key: "drift.share", value: result.shareOfDriftedColumns },
      { key: "drift.drifted_columns", value: result.numberOfDriftedColumns },
      { key: "drift.rows", value: result.rows },
      { key: "drift.bh_share", value: result.benjaminiHochberg.shareOfDriftedColumns }
    ],
    anchors: { model_run_id: ref.version.runId, dataset_version: ref.bundle.featureMap.dataset_version },
    summary: `${result.numberOfDriftedColumns}/${result.numberOfColumns} columns drifted`,
    render: (id, at, files, decision) => {
      const report: DriftReport = {
        format: "driftgate.drift_report/1",
        id,
        created_at: at,
        model: ref.name,
        version: ref.version.version,
        run_id: ref.version.runId,
        stage: ref.version.stage,
        batch: { source: args.source.kind, path: batchPath, sha256: sha, since, rows: result.rows },
        reference: { rows: ref.profile.rows, dataset_version: ref.bundle.featureMap.dataset_version },
        thresholds: {
          drift_share: config.drift.drift_share,
          alert_severity: config.drift.alert_severity,
          fail_on_severity: config.drift.fail_on_severity,
          min_batch_size: config.drift.min_batch_size
        },
        severity: result.severity,
        dataset_drift: result.datasetDrift,
        share_of_drifted_columns: result.shareOfDriftedColumns,
        result,
        decision,
        files
      }
      return { json: report, html: renderDriftHtml(report) }
    }
  })
  const report = recorded.report as DriftReport
  const gate = recorded.gate
  return { report, gate }
})

/**
 * What every drift check (tabular or image) does with its result: report JSON + HTML under
 * drift/<model>/, a history line, a tracked run in experiment drift-<model>, a response asked for
 * on a terminal at or above alert_severity (with a mandatory reason), and, headless at or above
 * fail_on_severity, the gate error the caller fails with after printing (exit 2).
 */
export const recordDriftCheck = <R>(args: {
  readonly config: PipelineConfig
  readonly actor: string
  readonly model: string
  readonly version: number
  readonly severity: Severity
  readonly history: Pick<DriftHistoryLine, "batch" | "rows" | "share" | "drifted_columns" | "columns" | "dataset_drift">
  readonly metrics: ReadonlyArray<{ readonly key: string; readonly value: number }>
  readonly anchors: Readonly<Record<string, string>>
  readonly summary: string
  /** The responses offered (default DRIFT_ACTIONS). */
  readonly actions?: ReadonlyArray<DriftAction>
  readonly render: (
    id: string,
    at: string,
    files: { readonly json: string; readonly html: string },
    decision: DriftDecision | null
  ) => { readonly json: R; readonly html: string }
}) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const tracker = yield* Tracker
    const prompt = yield* Prompt
    const { config } = args
    const nowMs = yield* Clock.currentTimeMillis
    const at = new Date(nowMs).toISOString()
    const id = uuidv7(nowMs)
    const keys = driftKeys(args.model)
    const stamp = stampOf(at)
    const files = { json: keys.report(stamp, "json"), html: keys.report(stamp, "html") }
    const located = { json: storage.locate(files.json), html: storage.locate(files.html) }
    const write = (decision: DriftDecision | null) =>
      Effect.gen(function* () {
        const r = args.render(id, at, located, decision)
        yield* storage.write(files.json, JSON.stringify(r.json, null, 2) + "\n")
        yield* storage.write(files.html, r.html)
        return r.json
      })
    let report = yield* write(null)
    const history: DriftHistoryLine = {
      id,
      at,
      model: args.model,
      version: args.version,
      ...args.history,
      severity: args.severity,
      decision: null,
      report: files.json
    }
    yield* storage.append(keys.history, JSON.stringify(history) + "\n")

    // The check is a tracked run of its own (experiment drift-<model>), like an Evidently report logged to MLflow.
    const runId = uuidv7(nowMs)
    yield* tracker.createRun({ runId, experiment: `drift-${args.model}`, anchors: args.anchors })
    yield* tracker.logMetrics(runId, args.metrics)
    yield* tracker.setTags(runId, {
      model: args.model,
      model_version: String(args.version),
      severity: args.severity,
      dataset_drift: String(args.history.dataset_drift),
      batch: args.history.batch
    })
    yield* tracker.logArtifact(runId, { name: "drift_report.json", path: files.json, sha256: null })
    yield* tracker.logArtifact(runId, { name: "drift_report.html", path: files.html, sha256: null })

    if (prompt.interactive && args.severity !== "none" && atLeast(args.severity, config.drift.alert_severity)) {
      yield* prompt.say(
        `Drift severity ${args.severity} for ${args.model} version ${args.version}: ${args.summary}. Report: ${located.html}`
      )
      const action = yield* prompt.choose("Response", args.actions ?? DRIFT_ACTIONS)
      const reason = yield* prompt.ask("Reason (required)", {
        validate: (a) => (a.trim().length >= 3 ? undefined : "a reason is required")
      })
      const decision: DriftDecision = {
        action,
        reason,
        by: args.actor,
        at: new Date(yield* Clock.currentTimeMillis).toISOString()
      }
      report = yield* write(decision)
      const next: Partial<Record<typeof action, string>> = {
        retrain:
          "next: driftgate drift stage-training --config <config> --batch LABELLED, then driftgate run --config <config>",
        fine_tune:
          "next: driftgate drift stage-training --config <config> --batch LABELLED_DIR, then driftgate run --config <config> --fine-tune",
        rollback: "next: driftgate rollback --config <config> (pick the version, give the reason)",
        adjust_isp:
          "next: change the isp: section of <config> (the report names the closest scenario), then driftgate run --config <config>"
      }
      if (next[action] !== undefined) yield* prompt.say(next[action]!)
      yield* storage.append(keys.history, JSON.stringify({ ...history, decision }) + "\n")
      yield* tracker.setTags(runId, { "decision.action": action, "decision.reason": reason, "decision.by": args.actor })
    }
    yield* tracker.endRun(runId, "completed")
    const gate =
      !prompt.interactive && args.severity !== "none" && atLeast(args.severity, config.drift.fail_on_severity)
        ? new DriftGateFailed({
            model: args.model,
            severity: args.severity,
            threshold: config.drift.fail_on_severity,
            report: located.html
          })
        : null
    return { report, gate }
  })
