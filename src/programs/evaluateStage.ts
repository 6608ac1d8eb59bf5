import { Effect, Option } from "effect"
import { defaultMetrics, registeredModelName } from "../domain/config.js"
import { lowerIsBetter } from "../domain/rules.js"
import { classificationMetrics, regressionMetrics } from "../ml/metrics.js"
import type { MetricComparison } from "../services/Approver.js"
import { Registry } from "../services/Registry.js"
import { Storage } from "../services/Storage.js"
import { Tracker } from "../services/Tracker.js"
import { Trainer } from "../services/Trainer.js"
import { loadBundle, predictFrame, specOfBundle } from "./modelBundle.js"
import type { Preprocessed } from "./preprocessStage.js"
import { writeReport } from "./runPipeline.js"
import { readFrame, targetVector } from "./splitData.js"
import { takeFrameRows } from "../ml/frame.js"
import type { Frame } from "../domain/table.js"
import type { ModelBundle } from "./modelBundle.js"
import type { ModelVersion } from "../domain/registry.js"
import { activeStaging } from "./drift/staging.js"
import { isImageStaging, scoreImages } from "./drift/imageStaging.js"
import type { PipelineContext } from "./stages.js"
import { readSplit } from "./trainStage.js"

export type SplitMetrics = Record<string, Record<string, number>>

export interface Evaluation {
  readonly metrics: SplitMetrics
  /**
   * Production re-scored on the candidate's evaluation rows that Production did not train on, and
   * the candidate on those same rows: a like-for-like comparison without leakage when the split or
   * the data changed since Production was trained.
   */
  readonly production: {
    readonly version: number
    readonly runId: string
    readonly metrics: SplitMetrics
    readonly candidateMetrics: SplitMetrics
    readonly rows: Readonly<Record<string, { readonly compared: number; readonly total: number }>>
    readonly source: string
  } | null
  readonly comparison: ReadonlyArray<MetricComparison>
  readonly verdict: "better" | "worse" | "equal" | "mixed" | "no_baseline"
}

/** Metrics of predictions against a target: the task's full set (rules may use any of them). */
export const scorePredictions = (
  task: string,
  y: Float64Array,
  predictions: Float64Array,
  proba: Float64Array | undefined,
  nClasses: number
) =>
  task !== "regression" ? classificationMetrics(y, predictions, proba, nClasses) : regressionMetrics(y, predictions)

const round4 = (v: number) => Math.round(v * 1e4) / 1e4
const roundAll = (m: SplitMetrics) =>
  Object.fromEntries(
    Object.entries(m).map(([s, v]) => [s, Object.fromEntries(Object.entries(v).map(([k, x]) => [k, round4(x)]))])
  )

/** Per requested metric and split: candidate vs Production, delta and verdict (error metrics: lower is better). */
export const compareMetrics = (
  metrics: ReadonlyArray<string>,
  candidate: SplitMetrics,
  production: SplitMetrics | null
): MetricComparison[] => {
  const out: MetricComparison[] = []
  for (const split of Object.keys(candidate)) {
    for (const metric of metrics) {
      const c = candidate[split]?.[metric]
      if (c === undefined) continue
      const p = production?.[split]?.[metric]
      if (p === undefined) {
        out.push({ metric, split, candidate: c, production: null, delta: null, verdict: "no_baseline" })
        continue
      }
      const delta = c - p
      const better = lowerIsBetter(metric) ? delta < 0 : delta > 0
      out.push({
        metric,
        split,
        candidate: c,
        production: p,
        delta,
        verdict: Math.abs(delta) <= 1e-12 ? "equal" : better ? "better" : "worse"
      })
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

/** A row's identity for leakage checks: its input cells and target, as text. */
const rowKey = (frame: Frame, inputs: ReadonlyArray<string>, target: string, i: number): string =>
  [...inputs, target]
    .map((n) => {
      const c = frame.columns.find((x) => x.name === n)
      const v = c?.values[i]
      return v === null || v === undefined || (typeof v === "number" && Number.isNaN(v)) ? "" : String(v)
    })
    .join("\u0001")

/** The rows a model was trained on (from its recorded split), as row keys. */
const trainingRowKeys = (bundle: ModelBundle, target: string) =>
  Effect.gen(function* () {
    const meta = bundle.metadata as { dataset?: string; dataset_version?: string; split_id?: string }
    const spec = specOfBundle(bundle)
    const inputs = bundle.featureMap.input_features.map((f) => f.name)
    const key = `datasets/${meta.dataset}/${meta.dataset_version}/splits/${meta.split_id}/train.csv`
    const frame = yield* readFrame(key, spec, [...inputs, target])
    const out = new Set<string>()
    for (let i = 0; i < frame.rows; i++) out.add(rowKey(frame, inputs, target, i))
    return out
  })

/**
 * With a staged drift-training batch: candidate and current Production on the held-out drifted
 * rows (neither trained on them), beside the baseline recorded when the batch was staged.
 */
const evaluateDriftHoldout = (
  ctx: PipelineContext,
  requested: ReadonlyArray<string>,
  prod: Option.Option<ModelVersion>
) =>
  Effect.gen(function* () {
    const staging = yield* activeStaging(ctx.config.dataset)
    if (staging === null || staging.id !== ctx.prepared!.stagedFrom) return null
    const spec = ctx.prepared!.spec
    if (isImageStaging(staging)) {
      const trainer = yield* Trainer
      const storage = yield* Storage
      const classes = (ctx.artifacts.preprocessed as Preprocessed).featureMap.classes ?? []
      const scoreRun = (runId: string) =>
        Effect.flatMap(Effect.flatMap(storage.readText(`artifacts/${runId}/model/model.json`), trainer.decode), (m) =>
          scoreImages(m, staging.holdout_files, classes, spec.image_properties!)
        )
      const candidate = yield* scoreRun(ctx.runId)
      const production = Option.isSome(prod) ? yield* scoreRun(prod.value.runId) : null
      const comparison = compareMetrics(
        requested,
        { drift_holdout: candidate },
        production === null ? null : { drift_holdout: production }
      )
      return {
        stagingId: staging.id,
        rows: staging.holdout_files.length,
        candidate,
        production,
        baseline: staging.baseline,
        comparison
      }
    }
    const frame = yield* readFrame(staging.holdout_key, spec, [...spec.features, spec.target])
    const score = (bundle: ModelBundle) =>
      Effect.gen(function* () {
        const inputs = bundle.featureMap.input_features.map((f) => f.name)
        const p = yield* predictFrame(bundle, {
          rows: frame.rows,
          columns: inputs.map((n) => frame.columns.find((c) => c.name === n)!)
        })
        const y = targetVector(frame, spec.target, bundle.featureMap.classes)
        return scorePredictions(ctx.config.task_type, y, p.predictions, p.proba, bundle.featureMap.classes?.length ?? 0)
      })
    const candidate = yield* score(yield* loadBundle(ctx.runId))
    const production = Option.isSome(prod) ? yield* Effect.flatMap(loadBundle(prod.value.runId), score) : null
    const comparison = compareMetrics(
      requested,
      { drift_holdout: candidate },
      production === null ? null : { drift_holdout: production }
    )
    return { stagingId: staging.id, rows: frame.rows, candidate, production, baseline: staging.baseline, comparison }
  })

/**
 * Image models: Production re-scored on this run's evaluation images that it did not train on
 * (by relative path), the candidate on the same images.
 */
const rescoreImages = (
  ctx: PipelineContext,
  prodRunId: string,
  candidatePreds: Record<string, { y: Float64Array; predictions: Float64Array; proba: Float64Array | undefined }>,
  nClasses: number
) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const trainer = yield* Trainer
    const pre = ctx.artifacts.preprocessed as Preprocessed
    const meta = JSON.parse(yield* storage.readText(`artifacts/${prodRunId}/model/metadata.json`)) as {
      dataset: string
      dataset_version: string
      split_id: string
    }
    const seen = new Set(
      (
        JSON.parse(
          yield* storage.readText(`datasets/${meta.dataset}/${meta.dataset_version}/splits/${meta.split_id}/train.json`)
        ) as { paths: string[] }
      ).paths
    )
    const model = yield* Effect.flatMap(storage.readText(`artifacts/${prodRunId}/model/model.json`), trainer.decode)
    const m: SplitMetrics = {}
    const cm: SplitMetrics = {}
    const rows: Record<string, { compared: number; total: number }> = {}
    for (const split of Object.keys(candidatePreds) as Array<"val" | "test">) {
      const side = JSON.parse(yield* storage.readText(`${pre.key}/${split}.json`)) as { paths: string[] }
      const keep = side.paths.flatMap((p, i) => (seen.has(p) ? [] : [i]))
      rows[split] = { compared: keep.length, total: side.paths.length }
      if (keep.length === 0) continue
      const { x } = yield* readSplit(pre, split, pre.featureMap.classes)
      const sub = new Float32Array(keep.length * x.cols)
      const all = x.data as unknown as Float32Array
      keep.forEach((r, k) => sub.set(all.subarray(r * x.cols, (r + 1) * x.cols), k * x.cols))
      const p = yield* trainer.predict(model, { rows: keep.length, cols: x.cols, data: sub as unknown as Float64Array })
      const c = candidatePreds[split]!
      const pick = (a: Float64Array, width: number) => {
        const out = new Float64Array(keep.length * width)
        keep.forEach((i, k) => out.set(a.subarray(i * width, (i + 1) * width), k * width))
        return out
      }
      const y = pick(c.y, 1)
      m[split] = scorePredictions("image_classification", y, p.predictions, p.proba, nClasses)
      cm[split] = scorePredictions(
        "image_classification",
        y,
        pick(c.predictions, 1),
        c.proba ? pick(c.proba, nClasses) : undefined,
        nClasses
      )
    }
    return { m, cm, rows }
  })

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
  const candidatePreds: Record<
    string,
    { y: Float64Array; predictions: Float64Array; proba: Float64Array | undefined }
  > = {}
  for (const split of splits) {
    const { x, y } = yield* readSplit(pre, split, classes)
    const p = yield* trainer.predict(model, x)
    candidatePreds[split] = { y, predictions: p.predictions, proba: p.proba }
    metrics[split] = scorePredictions(task, y, p.predictions, p.proba, nClasses)
  }

  const name = registeredModelName(ctx.config)
  const prod = yield* registry.getProduction(name)
  let production: Evaluation["production"] = null
  const warnings: string[] = []
  if (Option.isSome(prod) && prod.value.runId !== ctx.runId) {
    const v = prod.value
    const rescored = yield* Effect.either(
      pre.featureMap.image !== undefined
        ? rescoreImages(ctx, v.runId, candidatePreds, nClasses)
        : Effect.gen(function* () {
            const bundle = yield* loadBundle(v.runId)
            const spec = ctx.prepared!.spec
            const inputs = bundle.featureMap.input_features.map((f) => f.name)
            const seen = yield* trainingRowKeys(bundle, spec.target)
            const m: SplitMetrics = {}
            const cm: SplitMetrics = {}
            const rows: Record<string, { compared: number; total: number }> = {}
            for (const split of splits) {
              const frame = yield* readFrame(ctx.prepared!.splits[split].key, spec, [...inputs, spec.target])
              const keep: number[] = []
              for (let i = 0; i < frame.rows; i++) if (!seen.has(rowKey(frame, inputs, spec.target, i))) keep.push(i)
              rows[split] = { compared: keep.length, total: frame.rows }
              if (keep.length === 0) continue
              const sub = takeFrameRows(frame, keep)
              const p = yield* predictFrame(bundle, {
                rows: sub.rows,
                columns: inputs.map((n) => sub.columns.find((c) => c.name === n)!)
              })
              const y = targetVector(sub, spec.target, bundle.featureMap.classes)
              m[split] = scorePredictions(task, y, p.predictions, p.proba, bundle.featureMap.classes?.length ?? 0)
              const c = candidatePreds[split]!
              const pick = (a: Float64Array, width: number) => {
                const out = new Float64Array(keep.length * width)
                keep.forEach((i, k) => out.set(a.subarray(i * width, (i + 1) * width), k * width))
                return out
              }
              cm[split] = scorePredictions(
                task,
                pick(c.y, 1),
                pick(c.predictions, 1),
                c.proba ? pick(c.proba, nClasses) : undefined,
                nClasses
              )
            }
            return { m, cm, rows }
          })
    )
    if (rescored._tag === "Right") {
      production = {
        version: v.version,
        runId: v.runId,
        metrics: rescored.right.m,
        candidateMetrics: rescored.right.cm,
        rows: rescored.right.rows,
        source: "re-scored with its own transform on this run's evaluation rows that it did not train on"
      }
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
      production = {
        version: v.version,
        runId: v.runId,
        metrics: recorded,
        candidateMetrics: metrics,
        rows: {},
        source: "recorded metrics (re-scoring failed)"
      }
      warnings.push(
        `Production version ${v.version} could not be re-scored on this data, so its recorded metrics are used`
      )
    }
  }

  const requested = ctx.config.evaluation.metrics ?? defaultMetrics(task)
  const driftHoldout = ctx.prepared!.stagedFrom !== undefined ? yield* evaluateDriftHoldout(ctx, requested, prod) : null
  const baseline = production as Evaluation["production"]
  if (ctx.input.fineTune === true && baseline !== null && Object.keys(baseline.rows).length > 0) {
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

  const report = {
    run_id: ctx.runId,
    registered_model: name,
    task_type: task,
    model_kind: model.kind,
    splits: Object.fromEntries(splits.map((s) => [s, ctx.prepared!.splits[s].rows])),
    requested_metrics: requested,
    metrics: roundAll(metrics),
    production:
      baseline === null
        ? null
        : {
            version: baseline.version,
            run_id: baseline.runId,
            source: baseline.source,
            compared_rows: baseline.rows,
            metrics: roundAll(baseline.metrics),
            candidate_on_same_rows: roundAll(baseline.candidateMetrics)
          },
    comparison: comparison.map((c) => ({
      ...c,
      candidate: c.candidate === null ? null : round4(c.candidate),
      production: c.production === null ? null : round4(c.production),
      delta: c.delta === null ? null : round4(c.delta)
    })),
    overall_verdict: verdict,
    drift_holdout:
      driftHoldout === null
        ? null
        : {
            staging_id: driftHoldout.stagingId,
            rows: driftHoldout.rows,
            candidate: roundAll({ drift_holdout: driftHoldout.candidate }).drift_holdout,
            production:
              driftHoldout.production === null
                ? null
                : roundAll({ drift_holdout: driftHoldout.production }).drift_holdout,
            baseline_at_staging: driftHoldout.baseline,
            comparison: driftHoldout.comparison
          },
    warnings
  }
  yield* writeReport(storage, ctx.runId, "evaluation_report.json", report)
  ctx.artifacts.evaluation = { metrics, production: baseline, comparison, verdict } satisfies Evaluation
  if (driftHoldout !== null) ctx.artifacts.driftEvaluation = driftHoldout.comparison
  return { metrics: report.metrics, overall_verdict: verdict, production: baseline ? baseline.version : null }
})
