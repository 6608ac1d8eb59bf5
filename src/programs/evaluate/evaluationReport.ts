import type { MetricComparison, OverallVerdict, SplitMetrics } from "../../domain/comparison.js"
import type { ProductionBaseline } from "../pipelineTypes.js"
import { round4, roundAll } from "../scoring.js"
import type { SplitDiagnostics } from "./diagnostics.js"
import type { DriftHoldout } from "./driftHoldout.js"

const round6 = (v: number) => Math.round(v * 1e6) / 1e6

/** Every number in a plain JSON value rounded to 6 decimals (curve points; counts stay integers). */
const roundDeep = <A>(v: A): A =>
  (typeof v === "number"
    ? round6(v)
    : Array.isArray(v)
      ? v.map(roundDeep)
      : v !== null && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, roundDeep(x)]))
        : v) as A

const bySplit = <K extends keyof SplitDiagnostics>(
  diagnostics: Readonly<Record<string, SplitDiagnostics>>,
  key: K
): Record<string, NonNullable<SplitDiagnostics[K]>> | null => {
  const entries = Object.entries(diagnostics).flatMap(([split, d]) =>
    d[key] === undefined ? [] : [[split, roundDeep(d[key])] as const]
  )
  return entries.length === 0 ? null : Object.fromEntries(entries)
}

/**
 * evaluation_report.json: metrics rounded to 4 decimals (the unrounded values stay in the tracker),
 * curve and plot points to 6.
 */
export const evaluationReport = (args: {
  readonly runId: string
  readonly registeredModel: string
  readonly task: string
  readonly modelKind: string
  readonly splits: Readonly<Record<string, number>>
  readonly requested: ReadonlyArray<string>
  readonly metrics: SplitMetrics
  readonly baseline: ProductionBaseline | null
  readonly comparison: ReadonlyArray<MetricComparison>
  readonly verdict: OverallVerdict
  readonly driftHoldout: DriftHoldout | null
  readonly warnings: ReadonlyArray<string>
  /** Per evaluated split: per-class scores, confusion matrix, curves, or regression points. */
  readonly diagnostics: Readonly<Record<string, SplitDiagnostics>>
}) => {
  const { baseline, driftHoldout } = args
  return {
    run_id: args.runId,
    registered_model: args.registeredModel,
    task_type: args.task,
    model_kind: args.modelKind,
    splits: args.splits,
    requested_metrics: args.requested,
    metrics: roundAll(args.metrics),
    // Classifiers: per split. Null for a regressor (and regression_plots null for a classifier).
    per_class: bySplit(args.diagnostics, "per_class"),
    confusion_matrix: bySplit(args.diagnostics, "confusion_matrix"),
    curves: bySplit(args.diagnostics, "curves"),
    regression_plots: bySplit(args.diagnostics, "regression"),
    production:
      baseline === null
        ? null
        : {
            version: baseline.version,
            run_id: baseline.runId,
            source: baseline.source,
            unavailable: baseline.unavailable,
            ...(baseline.recorded !== undefined ? { recorded_metrics: roundAll(baseline.recorded) } : {}),
            compared_rows: baseline.rows,
            metrics: roundAll(baseline.metrics),
            candidate_on_same_rows: roundAll(baseline.candidateMetrics)
          },
    comparison: args.comparison.map((c) => ({
      ...c,
      candidate: c.candidate === null ? null : round4(c.candidate),
      production: c.production === null ? null : round4(c.production),
      delta: c.delta === null ? null : round4(c.delta)
    })),
    overall_verdict: args.verdict,
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
    warnings: args.warnings
  }
}

export type EvaluationReport = ReturnType<typeof evaluationReport>
