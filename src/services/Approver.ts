import { Context, type Effect } from "effect"
import type { MetricComparison } from "../domain/comparison.js"

export type { MetricComparison } from "../domain/comparison.js"

/** What the approver is shown: the candidate, how it compares with Production, the latest drift. */
export interface PromotionRequest {
  readonly model: string
  readonly runId: string
  readonly candidateMetrics: Readonly<Record<string, Readonly<Record<string, number>>>>
  readonly comparison: ReadonlyArray<MetricComparison>
  readonly production: { readonly version: number; readonly runId: string } | null
  readonly rules: ReadonlyArray<{ readonly id: string; readonly passed: boolean; readonly message: string }>
  /** Latest drift check of the Production model, one line, when one exists. */
  readonly driftSummary: string | null
  /** Before/after on a held-out drifted set, when drift training was staged. */
  readonly driftEvaluation: ReadonlyArray<MetricComparison> | null
}

export type Decision =
  | { readonly outcome: "approved"; readonly by: string; readonly reason: string; readonly policy?: string }
  | { readonly outcome: "rejected"; readonly by: string; readonly reason: string }
  | { readonly outcome: "cancelled"; readonly by: string; readonly reason: string }

/** The human (or explicit policy) gate between passing rules and a Production model. */
export class Approver extends Context.Tag("driftgate/Approver")<
  Approver,
  {
    readonly name: string
    readonly decide: (request: PromotionRequest) => Effect.Effect<Decision>
  }
>() {}
