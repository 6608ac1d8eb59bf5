import type { MetricComparison, OverallVerdict, SplitMetrics } from "../../domain/comparison.js"
import type { ProductionBaseline } from "../pipelineTypes.js"
import { round4, roundAll } from "../scoring.js"
import type { DriftHoldout } from "./driftHoldout.js"

/** evaluation_report.json: metrics rounded to 4 decimals; the unrounded values stay in the tracker. */
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
