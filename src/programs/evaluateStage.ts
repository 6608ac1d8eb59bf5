import { Effect, Option } from "effect"
import { defaultMetrics, registeredModelName } from "../domain/config.js"
import { lowerIsBetter } from "../domain/rules.js"
import { classificationMetrics, regressionMetrics } from "../ml/metrics.js"
import type { MetricComparison } from "../services/Approver.js"
import { Registry } from "../services/Registry.js"
import { Storage } from "../services/Storage.js"
import { Tracker } from "../services/Tracker.js"
import { Trainer } from "../services/Trainer.js"
import { loadBundle, predictFrame } from "./modelBundle.js"
import type { Preprocessed } from "./preprocessStage.js"
import { writeReport } from "./runPipeline.js"
import { readFrame, targetVector } from "./splitData.js"
import type { PipelineContext } from "./stages.js"
import { readPreprocessed } from "./trainStage.js"

export type SplitMetrics = Record<string, Record<string, number>>

export interface Evaluation {
  readonly metrics: SplitMetrics
  readonly production: { readonly version: number; readonly runId: string; readonly metrics: SplitMetrics; readonly source: string } | null
  readonly comparison: ReadonlyArray<MetricComparison>
  readonly verdict: "better" | "worse" | "equal" | "mixed" | "no_baseline"
}

/** Metrics of predictions against a target: the task's full set (rules may use any of them). */
export const scorePredictions = (task: string, y: Float64Array, predictions: Float64Array, proba: Float64Array | undefined, nClasses: number) =>
  task === "classification" ? classificationMetrics(y, predictions, proba, nClasses) : regressionMetrics(y, predictions)

const round4 = (v: number) => Math.round(v * 1e4) / 1e4
const roundAll = (m: SplitMetrics) =>
  Object.fromEntries(Object.entries(m).map(([s, v]) => [s, Object.fromEntries(Object.entries(v).map(([k, x]) => [k, round4(x)]))]))

/** Per requested metric and split: candidate vs Production, delta and verdict (error metrics: lower is better). */
export const compareMetrics = (metrics: ReadonlyArray<string>, candidate: SplitMetrics, production: SplitMetrics | null): MetricComparison[] => {
  const out: MetricComparison[] = []
  for (const split of Object.keys(candidate)) {
    for (const metric of metrics) {
      const c = candidate[split]?.[metric]
      if (c === undefined) continue
      const p = production?.[split]?.[metric]
      if (p === undefined) { out.push({ metric, split, candidate: c, production: null, delta: null, verdict: "no_baseline" }); continue }
      const delta = c - p
      const better = lowerIsBetter(metric) ? delta < 0 : delta > 0
      out.push({ metric, split, candidate: c, production: p, delta, verdict: Math.abs(delta) <= 1e-12 ? "equal" : better ? "better" : "worse" })
    }
  }
  return out
}

export const overallVerdict = (rows: ReadonlyArray<MetricComparison>): Evaluation["verdict"] => {
  const v = new Set(rows.map((r) => r.verdict))
  if (rows.length === 0 || v.has("no_baseline")) return "no_baseline"
  if (v.has("better") && v.has("worse")) return "mixed"
  return v.has("better") ? "better" : v.has("worse") ? "worse" : "equal"
}

/**
 * Scores the candidate on val and (when populated) test, and re-scores the current Production
 * version of the same registered model on the very same rows with its own fitted transform, so the
 * comparison is like for like even when the data changed since Production was trained.
 */
export const evaluateStage = Effect.fn("stage.evaluation")(function* (ctx: PipelineContext) {
  const storage = yield* Storage
  const tracker = yield* Tracker
  const trainer = yield* Trainer
  const registry = yield* Registry
  const pre = ctx.artifacts.preprocessed as Preprocessed
  const task = ctx.config.task_type
  const classes = pre.featureMap.classes
  const nClasses = classes?.length ?? 0
  const model = yield* Effect.flatMap(storage.readText(`artifacts/${ctx.runId}/model/model.json`), trainer.decode)
  const splits = (["val", "test"] as const).filter((s) => ctx.prepared!.splits[s].rows > 0)

  const metrics: SplitMetrics = {}
  for (const split of splits) {
    const { x, y } = yield* readPreprocessed(`${pre.key}/${split}.csv`, classes)
    const p = yield* trainer.predict(model, x)
    metrics[split] = scorePredictions(task, y, p.predictions, p.proba, nClasses)
  }

  const name = registeredModelName(ctx.config)
  const prod = yield* registry.getProduction(name)
  let production: Evaluation["production"] = null
  const warnings: string[] = []
  if (Option.isSome(prod) && prod.value.runId !== ctx.runId) {
    const v = prod.value
    const rescored = yield* Effect.either(Effect.gen(function* () {
      const bundle = yield* loadBundle(v.runId)
      const spec = ctx.prepared!.spec
      const m: SplitMetrics = {}
      const inputs = bundle.featureMap.input_features.map((f) => f.name)
      for (const split of splits) {
        const frame = yield* readFrame(ctx.prepared!.splits[split].key, spec, [...inputs, spec.target])
        const p = yield* predictFrame(bundle, { rows: frame.rows, columns: inputs.map((n) => frame.columns.find((c) => c.name === n)!) })
        const y = targetVector(frame, spec.target, bundle.featureMap.classes)
        m[split] = scorePredictions(task, y, p.predictions, p.proba, bundle.featureMap.classes?.length ?? 0)
      }
      return m
    }))
    if (rescored._tag === "Right") {
      production = { version: v.version, runId: v.runId, metrics: rescored.right, source: "re-scored on this run's splits" }
    } else {
      // Fall back to what Production recorded when it was evaluated (its artifact may be gone).
      const detail = yield* Effect.either(tracker.getRun(v.runId))
      const recorded: SplitMetrics = {}
      if (detail._tag === "Right") {
        for (const m of detail.right.metrics) {
          const [split, key] = m.key.split(".", 2)
          if ((split === "val" || split === "test") && key) (recorded[split] ??= {})[key] = m.value
        }
      }
      production = { version: v.version, runId: v.runId, metrics: recorded, source: "recorded metrics (re-scoring failed)" }
      warnings.push(`Production version ${v.version} could not be re-scored on this data, so its recorded metrics are used`)
    }
  }

  const requested = ctx.config.evaluation.metrics ?? defaultMetrics(task)
  const baseline = production as Evaluation["production"]
  const comparison = compareMetrics(requested, metrics, baseline?.metrics ?? null)
  const verdict = overallVerdict(comparison)
  yield* tracker.logMetrics(ctx.runId, Object.entries(metrics).flatMap(([split, m]) => Object.entries(m).map(([k, value]) => ({ key: `${split}.${k}`, value }))))

  const report = {
    run_id: ctx.runId,
    registered_model: name,
    task_type: task,
    model_kind: model.kind,
    splits: Object.fromEntries(splits.map((s) => [s, ctx.prepared!.splits[s].rows])),
    requested_metrics: requested,
    metrics: roundAll(metrics),
    production: baseline === null ? null : { version: baseline.version, run_id: baseline.runId, source: baseline.source, metrics: roundAll(baseline.metrics) },
    comparison: comparison.map((c) => ({ ...c, candidate: c.candidate === null ? null : round4(c.candidate), production: c.production === null ? null : round4(c.production), delta: c.delta === null ? null : round4(c.delta) })),
    overall_verdict: verdict,
    warnings
  }
  yield* writeReport(storage, ctx.runId, "evaluation_report.json", report)
  ctx.artifacts.evaluation = { metrics, production: baseline, comparison, verdict } satisfies Evaluation
  return { metrics: report.metrics, overall_verdict: verdict, production: baseline ? baseline.version : null }
})
