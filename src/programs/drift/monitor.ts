import { Clock, Effect } from "effect"
import { type PipelineConfig, registeredModelName } from "../../domain/config.js"
import { DriftGateFailed, DriftInputError, UsageError } from "../../domain/errors.js"
import { uuidv7 } from "../../domain/ids.js"
import type { Frame } from "../../domain/table.js"
import { parseProfile, type ReferenceProfile } from "../../stats/profile.js"
import { DriftDetector } from "../../services/DriftDetector.js"
import { Prompt } from "../../services/Prompt.js"
import { Registry } from "../../services/Registry.js"
import { Storage } from "../../services/Storage.js"
import { Tracker } from "../../services/Tracker.js"
import { loadBundle, type ModelBundle } from "../modelBundle.js"
import { artifactKeys, driftKeys } from "../workspace.js"
import { loadDatasetSpec, readBatch } from "./batch.js"
import { renderDriftHtml } from "./html.js"
import { atLeast, DRIFT_ACTIONS, type DriftDecision, type DriftHistoryLine, type DriftReport } from "./report.js"

export type BatchSource =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "serving_log"; readonly frame: Frame; readonly since: string | null; readonly path: string }

/** The model version drift is measured against (the deployed stage), with its bundle and reference profile. */
export const deployedReference = Effect.fn("drift.reference")(function* (config: PipelineConfig) {
  const registry = yield* Registry
  const storage = yield* Storage
  const name = registeredModelName(config)
  const stage = config.deployment.allowed_stage
  const version = (yield* registry.getByStage(name, stage))[0]
  if (version === undefined) {
    return yield* Effect.fail(new UsageError({ message: `model ${name} has no ${stage} version to compare against; promote one first (driftgate run … --approve auto)` }))
  }
  const bundle = yield* loadBundle(version.runId)
  const key = artifactKeys(version.runId).profile
  if (!(yield* storage.exists(key))) {
    return yield* Effect.fail(new UsageError({ message: `${name} version ${version.version} has no reference profile (${key}); retrain it with this driftgate` }))
  }
  const text = yield* storage.readText(key)
  const profile: ReferenceProfile = yield* Effect.try({
    try: () => parseProfile(JSON.parse(text)),
    catch: (e) => new DriftInputError({ message: `${storage.locate(key)}: ${e instanceof Error ? e.message : String(e)}` })
  })
  return { name, version, bundle: bundle as ModelBundle, profile }
})

const stampOf = (iso: string) => iso.replace(/[:.]/g, "-")

/** The latest drift check of a model, one line, for the approval gate. */
export const latestDrift = Effect.fn("drift.latest")(function* (model: string) {
  const lines = yield* readHistory(model)
  return lines.at(-1) ?? null
})

export const readHistory = Effect.fn("drift.history")(function* (model: string) {
  const storage = yield* Storage
  const key = driftKeys(model).history
  if (!(yield* storage.exists(key))) return [] as DriftHistoryLine[]
  const text = yield* storage.readText(key)
  // A decision is appended as a second line with the same id: the last word wins.
  const byId = new Map<string, DriftHistoryLine>()
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue
    try {
      const h = JSON.parse(line) as DriftHistoryLine
      byId.set(h.id, { ...byId.get(h.id), ...h })
    } catch { /* a torn last line after a crash is skipped */ }
  }
  return [...byId.values()].sort((a, b) => a.at.localeCompare(b.at))
})

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
  const storage = yield* Storage
  const tracker = yield* Tracker
  const detector = yield* DriftDetector
  const prompt = yield* Prompt
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
  const features: Frame = { rows: frame.rows, columns: inputs.map((n) => frame.columns.find((c) => c.name === n)!).filter((c) => c !== undefined) }
  const result = yield* detector.detect(ref.profile, features, config.drift)

  const nowMs = yield* Clock.currentTimeMillis
  const at = new Date(nowMs).toISOString()
  const id = uuidv7(nowMs)
  const keys = driftKeys(ref.name)
  const stamp = stampOf(at)
  const files = { json: keys.report(stamp, "json"), html: keys.report(stamp, "html") }
  const base: DriftReport = {
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
    decision: null,
    files: { json: storage.locate(files.json), html: storage.locate(files.html) }
  }
  const history: DriftHistoryLine = {
    id, at, model: ref.name, version: ref.version.version, batch: batchPath ?? "(serving log)", rows: result.rows,
    share: result.shareOfDriftedColumns, drifted_columns: result.numberOfDriftedColumns, columns: result.numberOfColumns,
    dataset_drift: result.datasetDrift, severity: result.severity, decision: null, report: files.json
  }
  yield* storage.write(files.json, JSON.stringify(base, null, 2) + "\n")
  yield* storage.write(files.html, renderDriftHtml(base))
  yield* storage.append(keys.history, JSON.stringify(history) + "\n")

  // The check is a tracked run of its own (experiment drift-<model>), like an Evidently report logged to MLflow.
  const runId = uuidv7(nowMs)
  yield* tracker.createRun({ runId, experiment: `drift-${ref.name}`, anchors: { model_run_id: ref.version.runId, dataset_version: ref.bundle.featureMap.dataset_version } })
  yield* tracker.logMetrics(runId, [
    { key: "drift.share", value: result.shareOfDriftedColumns },
    { key: "drift.drifted_columns", value: result.numberOfDriftedColumns },
    { key: "drift.rows", value: result.rows },
    { key: "drift.bh_share", value: result.benjaminiHochberg.shareOfDriftedColumns }
  ])
  yield* tracker.setTags(runId, { model: ref.name, model_version: String(ref.version.version), severity: result.severity, dataset_drift: String(result.datasetDrift), batch: batchPath ?? "" })
  yield* tracker.logArtifact(runId, { name: "drift_report.json", path: files.json, sha256: null })
  yield* tracker.logArtifact(runId, { name: "drift_report.html", path: files.html, sha256: null })

  let decision: DriftDecision | null = null
  if (prompt.interactive && atLeast(result.severity, config.drift.alert_severity) && result.severity !== "none") {
    yield* prompt.say(`Drift severity ${result.severity} for ${ref.name} version ${ref.version.version}: ${result.numberOfDriftedColumns}/${result.numberOfColumns} columns drifted. Report: ${storage.locate(files.html)}`)
    const action = yield* prompt.choose("Response", DRIFT_ACTIONS)
    const reason = yield* prompt.ask("Reason (required)", { validate: (a) => (a.trim().length >= 3 ? undefined : "a reason is required") })
    decision = { action, reason, by: args.actor, at: new Date(yield* Clock.currentTimeMillis).toISOString() }
    yield* storage.write(files.json, JSON.stringify({ ...base, decision }, null, 2) + "\n")
    yield* storage.write(files.html, renderDriftHtml({ ...base, decision }))
    yield* storage.append(keys.history, JSON.stringify({ ...history, decision }) + "\n")
    yield* tracker.setTags(runId, { "decision.action": action, "decision.reason": reason, "decision.by": args.actor })
  }
  yield* tracker.endRun(runId, "completed")
  const report: DriftReport = { ...base, decision }
  // Headless, this is a CI gate: the caller prints the report, then fails with this (exit 2).
  const gate = !prompt.interactive && result.severity !== "none" && atLeast(result.severity, config.drift.fail_on_severity)
    ? new DriftGateFailed({ model: ref.name, severity: result.severity, threshold: config.drift.fail_on_severity, report: storage.locate(files.html) })
    : null
  return { report, gate }
})

