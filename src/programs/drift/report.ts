import type { Severity } from "../../domain/config.js"
import type { DatasetDriftResult } from "../../stats/datasetDrift.js"

export const SEVERITY_ORDER: ReadonlyArray<Severity> = ["none", "low", "medium", "high"]
export const atLeast = (s: Severity, threshold: Severity) =>
  SEVERITY_ORDER.indexOf(s) >= SEVERITY_ORDER.indexOf(threshold)

export const DRIFT_ACTIONS = ["retrain", "fine_tune", "collect_more_data", "accept", "rollback"] as const
/** Every response a decision may record: raw pipelines also offer adjust_isp (change the isp: section). */
export const ALL_DRIFT_ACTIONS = [...DRIFT_ACTIONS, "adjust_isp"] as const
export type DriftAction = (typeof ALL_DRIFT_ACTIONS)[number]

export interface DriftDecision {
  readonly action: DriftAction
  readonly reason: string
  readonly by: string
  readonly at: string
}

/** One drift check: what was compared, the per-feature tests, the verdicts and the response. */
export interface DriftReport {
  readonly format: "driftgate.drift_report/1"
  readonly id: string
  readonly created_at: string
  readonly model: string
  readonly version: number
  readonly run_id: string
  readonly stage: string
  readonly batch: {
    readonly source: "file" | "serving_log"
    readonly path: string | null
    readonly sha256: string | null
    readonly since: string | null
    readonly rows: number
  }
  readonly reference: { readonly rows: number; readonly dataset_version: string }
  readonly thresholds: {
    readonly drift_share: number
    readonly alert_severity: Severity
    readonly fail_on_severity: Severity
    readonly min_batch_size: number
  }
  readonly severity: Severity
  readonly dataset_drift: boolean
  readonly share_of_drifted_columns: number
  readonly result: DatasetDriftResult
  readonly decision: DriftDecision | null
  readonly files: { readonly json: string; readonly html: string }
}

/** One line of drift/<model>/history.jsonl. */
export interface DriftHistoryLine {
  readonly id: string
  readonly at: string
  readonly model: string
  readonly version: number
  readonly batch: string
  readonly rows: number
  readonly share: number
  readonly drifted_columns: number
  readonly columns: number
  readonly dataset_drift: boolean
  readonly severity: Severity
  readonly decision: DriftDecision | null
  readonly report: string
}

/** One sentence for the approval gate and summaries. */
export const driftOneLine = (h: DriftHistoryLine): string =>
  `${h.at}: ${h.drifted_columns}/${h.columns} columns drifted (share ${h.share.toFixed(2)}), severity ${h.severity}, ` +
  `${h.rows} rows from ${h.batch} against version ${h.version}${h.decision ? `; decision: ${h.decision.action} (${h.decision.reason})` : ""}`
