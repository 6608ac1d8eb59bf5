import type { StageError } from "./pipelineTypes.js"

export type StageName =
  "data_preparation" | "preprocessing" | "training" | "evaluation" | "model_analysis" | "promotion" | "deployment"
export type StageStatus = "completed" | "failed" | "blocked" | "cancelled" | "rejected" | "skipped"

export interface StageReport {
  readonly name: StageName
  readonly status: StageStatus
  readonly started_at: string | null
  readonly ended_at: string | null
  readonly duration_s: number | null
  readonly error: string | null
  readonly result: Readonly<Record<string, unknown>> | null
}

export const statusOf = (e: StageError): StageStatus =>
  e._tag === "PromotionBlocked" || e._tag === "StaleComparison"
    ? "blocked"
    : e._tag === "ApprovalCancelled"
      ? "cancelled"
      : e._tag === "ApprovalRejected"
        ? "rejected"
        : "failed"

/** Overall run status with precedence failed > cancelled (incl. rejected) > blocked > completed. */
export const overallStatus = (
  statuses: ReadonlyArray<StageStatus>
): "completed" | "failed" | "blocked" | "cancelled" =>
  statuses.includes("failed")
    ? "failed"
    : statuses.includes("cancelled") || statuses.includes("rejected")
      ? "cancelled"
      : statuses.includes("blocked")
        ? "blocked"
        : "completed"
