import { Clock, Effect, Option } from "effect"
import { compareMetrics, overallVerdict, type SplitMetrics } from "../domain/comparison.js"
import { defaultMetrics, registeredModelName } from "../domain/config.js"
import { Registry } from "../services/Registry.js"
import { Storage } from "../services/Storage.js"
import { Tracker } from "../services/Tracker.js"
import { Trainer } from "../services/Trainer.js"
import { type SplitDiagnostics, splitDiagnostics } from "./evaluate/diagnostics.js"
import { evaluateDriftHoldout } from "./evaluate/driftHoldout.js"
import { evaluationReport } from "./evaluate/evaluationReport.js"
import { evaluationHtml } from "./reports/evaluationHtml.js"
import { type CandidatePredictions, rescoreProduction } from "./evaluate/rescoreProduction.js"
import type { Evaluation, PipelineContext, PreparedData, Preprocessed, ProductionBaseline } from "./pipelineTypes.js"
import { writeReport } from "./reports.js"
import { positiveClassIndex, scorePredictions } from "./scoring.js"
import { readSplit } from "./trainStage.js"
import { uuidv7 } from "../domain/ids.js"
import { artifactKeys, reportKeys } from "./workspace.js"

export type { Evaluation } from "./pipelineTypes.js"
export type { SplitMetrics } from "../domain/comparison.js"

/**
 * Scores the candidate on val and (when populated) test, and re-scores the current Production
 * version of the same registered model on the very same rows with its own fitted transform, so the
 * comparison is like for like even when the data changed since Production was trained.
 */
export const evaluateStage = Effect.fn("stage.evaluation")(function* (
  ctx: PipelineContext,
  prepared: PreparedData,
  pre: Preprocessed,
  /** A later evaluation of a finished run (promote --run): a new record beside the run's own, never over it. */
  later?: { readonly reason: string }
) {
  const storage = yield* Storage
  const tracker = yield* Tracker
  const trainer = yield* Trainer
  const registry = yield* Registry
  const task = ctx.config.task_type
  const classes = pre.featureMap.classes
  const nClasses = classes?.length ?? 0
  const positive = positiveClassIndex(classes, prepared.spec.positive_class)
  const model = yield* Effect.flatMap(storage.readText(artifactKeys(ctx.runId).model), trainer.decode)
  const splits = (["val", "test"] as const).filter((s) => prepared.splits[s].rows > 0)

  const metrics: SplitMetrics = {}
  const diagnostics: Record<string, SplitDiagnostics> = {}
  const candidate: CandidatePredictions = {}
  for (const split of splits) {
    const { x, y } = yield* readSplit(pre, split, classes)
    const p = yield* trainer.predict(model, x)
    candidate[split] = { y, predictions: p.predictions, proba: p.proba }
    metrics[split] = scorePredictions(task, y, p.predictions, p.proba, nClasses, positive)
    diagnostics[split] = splitDiagnostics({ task, y, predictions: p.predictions, proba: p.proba, classes, positive })
  }

  const name = registeredModelName(ctx.config)
  const prod = yield* registry.getProduction(name)
  let baseline: ProductionBaseline | null = null
  const warnings: string[] = []
  if (Option.isSome(prod) && prod.value.runId !== ctx.runId) {
    const r = yield* rescoreProduction({
      task,
      prepared,
      preprocessed: pre,
      production: prod.value,
      splits,
      candidate,
      nClasses
    })
    baseline = r.baseline
    if (r.warning !== null) warnings.push(r.warning)
  }

  const requested = ctx.config.evaluation.metrics ?? defaultMetrics(task)
  const driftHoldout =
    prepared.stagedFrom !== undefined
      ? yield* evaluateDriftHoldout({
          runId: ctx.runId,
          config: ctx.config,
          prepared,
          preprocessed: pre,
          requested,
          production: prod
        })
      : null
  if (ctx.fineTune && baseline !== null && Object.keys(baseline.rows).length > 0) {
    // A fine-tuned candidate starts from Production's weights: rows Production trained on are not
    // unseen for it either, so all its metrics come from the rows Production never saw.
    for (const split of Object.keys(metrics)) {
      const unseen = baseline.candidateMetrics[split]
      if (unseen !== undefined) metrics[split] = unseen
      else delete metrics[split]
    }
    warnings.push(
      `fine-tuned from Production version ${baseline.version}: metrics are on the ${Object.entries(baseline.rows)
        .map(([s, r]) => `${r.compared}/${r.total} ${s}`)
        .join(", ")} rows its starting weights never saw`
    )
    warnings.push("the plots (confusion matrix, curves) cover every val/test row, seen by its starting weights or not")
  }
  // Nothing compared (no Production, or it could not be re-scored): every requested metric has no baseline.
  const comparison =
    baseline === null || baseline.unavailable !== null
      ? compareMetrics(requested, metrics, null)
      : compareMetrics(requested, baseline.candidateMetrics, baseline.metrics)
  const verdict = overallVerdict(comparison)
  const record = later === undefined ? null : yield* laterEvaluation(ctx.runId, later.reason)
  // The run's own evaluation is step 0; each later one gets the next step, so none overwrites another.
  yield* tracker.logMetrics(
    ctx.runId,
    Object.entries(metrics).flatMap(([split, m]) =>
      Object.entries(m).map(([k, value]) => ({ key: `${split}.${k}`, value, step: record?.step ?? 0 }))
    )
  )

  const drafted = evaluationReport({
    runId: ctx.runId,
    registeredModel: name,
    task,
    modelKind: model.kind,
    splits: Object.fromEntries(splits.map((s) => [s, prepared.splits[s].rows])),
    requested,
    metrics,
    baseline,
    comparison,
    verdict,
    driftHoldout,
    warnings,
    diagnostics
  })
  // The page is a view of the JSON: a chart that cannot be drawn is a warning, never a failed run.
  const page = yield* Effect.either(evaluationHtml(drafted))
  const report =
    page._tag === "Right"
      ? drafted
      : {
          ...drafted,
          warnings: [
            ...drafted.warnings,
            `${EVALUATION_HTML} not written: chart ${page.left.chart}: ${page.left.message}`
          ]
        }
  const html = page._tag === "Right" ? page.right : null
  if (record === null) {
    yield* writeReport(storage, ctx.runId, EVALUATION_REPORT, report)
    if (html !== null) {
      yield* storage.write(reportKeys(ctx.runId).file(EVALUATION_HTML), html)
      yield* storage.write(reportKeys(ctx.runId).latest(EVALUATION_HTML), html)
    }
  } else {
    const text = JSON.stringify({ evaluation: record, ...report }, null, 2) + "\n"
    yield* storage.write(record.report, text)
    yield* storage.write(reportKeys(ctx.runId).latest(EVALUATION_REPORT), text)
    if (html !== null) {
      yield* storage.write(record.report.replace(/evaluation_report\.json$/, EVALUATION_HTML), html)
      yield* storage.write(reportKeys(ctx.runId).latest(EVALUATION_HTML), html)
    }
    yield* tracker.setTags(ctx.runId, { latest_evaluation: record.id, [`evaluation.${record.step}`]: record.id })
  }
  const evaluation: Evaluation = {
    metrics,
    production: baseline,
    comparison,
    verdict,
    report: record?.report ?? reportKeys(ctx.runId).file(EVALUATION_REPORT)
  }
  return {
    evaluation,
    driftEvaluation: driftHoldout === null ? undefined : driftHoldout.comparison,
    summary: { metrics: report.metrics, overall_verdict: verdict, production: baseline ? baseline.version : null }
  }
})

const EVALUATION_REPORT = "evaluation_report.json"
/** Written beside the JSON: the same report with its charts, one self-contained file. */
const EVALUATION_HTML = "evaluation_report.html"

/**
 * The record of a later evaluation: a new id (UUIDv7), the next step after the run's own (0) and any
 * earlier ones, and its report's key under reports/<run>/evaluations/<id>/.
 */
const laterEvaluation = (runId: string, reason: string) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const dir = reportKeys(runId).file("evaluations")
    const earlier = new Set((yield* storage.list(dir)).map((k) => k.slice(dir.length + 1).split("/")[0]))
    const at = yield* Clock.currentTimeMillis
    const id = uuidv7(at)
    return {
      id,
      step: earlier.size + 1,
      reason,
      evaluated_at: new Date(at).toISOString(),
      original_report: reportKeys(runId).file(EVALUATION_REPORT),
      report: `${dir}/${id}/${EVALUATION_REPORT}`
    }
  })
