import { Effect, Option } from "effect"
import { compareMetrics, overallVerdict, type SplitMetrics } from "../domain/comparison.js"
import { defaultMetrics, registeredModelName } from "../domain/config.js"
import { Registry } from "../services/Registry.js"
import { Storage } from "../services/Storage.js"
import { Tracker } from "../services/Tracker.js"
import { Trainer } from "../services/Trainer.js"
import { evaluateDriftHoldout } from "./evaluate/driftHoldout.js"
import { evaluationReport } from "./evaluate/evaluationReport.js"
import { type CandidatePredictions, rescoreProduction } from "./evaluate/rescoreProduction.js"
import type { Evaluation, PipelineContext, PreparedData, Preprocessed, ProductionBaseline } from "./pipelineTypes.js"
import { writeReport } from "./reports.js"
import { scorePredictions } from "./scoring.js"
import { readSplit } from "./trainStage.js"
import { artifactKeys } from "./workspace.js"

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
  pre: Preprocessed
) {
  const storage = yield* Storage
  const tracker = yield* Tracker
  const trainer = yield* Trainer
  const registry = yield* Registry
  const task = ctx.config.task_type
  const classes = pre.featureMap.classes
  const nClasses = classes?.length ?? 0
  const model = yield* Effect.flatMap(storage.readText(artifactKeys(ctx.runId).model), trainer.decode)
  const splits = (["val", "test"] as const).filter((s) => prepared.splits[s].rows > 0)

  const metrics: SplitMetrics = {}
  const candidate: CandidatePredictions = {}
  for (const split of splits) {
    const { x, y } = yield* readSplit(pre, split, classes)
    const p = yield* trainer.predict(model, x)
    candidate[split] = { y, predictions: p.predictions, proba: p.proba }
    metrics[split] = scorePredictions(task, y, p.predictions, p.proba, nClasses)
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
      candidateMetrics: metrics,
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
  }
  const comparison = compareMetrics(requested, baseline?.candidateMetrics ?? metrics, baseline?.metrics ?? null)
  const verdict = overallVerdict(comparison)
  yield* tracker.logMetrics(
    ctx.runId,
    Object.entries(metrics).flatMap(([split, m]) =>
      Object.entries(m).map(([k, value]) => ({ key: `${split}.${k}`, value }))
    )
  )

  const report = evaluationReport({
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
    warnings
  })
  yield* writeReport(storage, ctx.runId, "evaluation_report.json", report)
  const evaluation: Evaluation = { metrics, production: baseline, comparison, verdict }
  return {
    evaluation,
    driftEvaluation: driftHoldout === null ? undefined : driftHoldout.comparison,
    summary: { metrics: report.metrics, overall_verdict: verdict, production: baseline ? baseline.version : null }
  }
})
