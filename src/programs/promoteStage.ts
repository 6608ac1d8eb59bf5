import { Effect, Option } from "effect"
import { defaultRules, registeredModelName } from "../domain/config.js"
import {
  ApprovalCancelled,
  ApprovalRejected,
  PromotionBlocked,
  RegistryError,
  type RuleFailure
} from "../domain/errors.js"
import { lineageProblems } from "../domain/lineage.js"
import { evaluateRules } from "../domain/rules.js"
import type { MetricComparison } from "../domain/comparison.js"
import { Approver } from "../services/Approver.js"
import { Registry } from "../services/Registry.js"
import { Storage } from "../services/Storage.js"
import { Tracker } from "../services/Tracker.js"
import type { PipelineConfig } from "../domain/config.js"
import { filesToRegister, writeRegistration } from "./artifactIntegrity.js"
import { gateContext } from "./drift/gate.js"
import type { Evaluation, PipelineContext, PromotionOutcome, PromotionState, StageError } from "./pipelineTypes.js"
import { writeReport } from "./reports.js"
import { artifactKeys } from "./workspace.js"

export type { PromotionOutcome } from "./pipelineTypes.js"

export interface PromotionInput {
  readonly runId: string
  readonly config: PipelineConfig
  /** The run's lineage anchors; every one must be present and valid. */
  readonly anchors: Readonly<Record<string, string>>
  readonly evaluation: Evaluation
  /** Severity of the candidate's validation data against the Production reference (drift rules). */
  readonly driftSeverity?: "none" | "low" | "medium" | "high" | { readonly error: string } | undefined
  readonly driftSummary?: string | null
  readonly driftEvaluation?: ReadonlyArray<MetricComparison> | null
  readonly extraTags?: Readonly<Record<string, string>>
}

/**
 * Rules first (every failing rule listed; any failure blocks and nothing is registered), then the
 * Approver. Approval registers a new version and moves it to Production in one registry
 * transaction; rejection and cancellation are recorded, not crashes. Used by `run` and `promote`.
 */
export const promote = Effect.fn("stage.promotion")(function* (input: PromotionInput) {
  const registry = yield* Registry
  const approver = yield* Approver
  const storage = yield* Storage
  const tracker = yield* Tracker
  const { config, runId, evaluation } = input
  const name = registeredModelName(config)
  const rules = config.promotion.rules ?? defaultRules(config.task_type)
  const outcomes = evaluateRules(
    rules,
    config.promotion.evaluation_split,
    evaluation.metrics,
    evaluation.production,
    input.driftSeverity
  )
  const failures: RuleFailure[] = outcomes.flatMap((o) =>
    o.checks.filter((c) => !c.passed).map(({ passed: _p, ...c }) => c)
  )
  const ruleLines = outcomes.map((o) => ({
    id: o.id,
    passed: o.passed,
    message: o.checks.map((c) => c.message).join("; ")
  }))
  const prod = yield* registry.getProduction(name)
  const base = {
    run_id: runId,
    registered_model: name,
    evaluation_split: config.promotion.evaluation_split,
    ...(evaluation.report !== undefined ? { evaluation_report: evaluation.report } : {}),
    rules: outcomes.map((o) => ({ id: o.id, passed: o.passed, checks: o.checks })),
    production_before: Option.match(prod, {
      onNone: () => null,
      onSome: (v) => ({ version: v.version, run_id: v.runId })
    })
  }
  const decide = (outcome: PromotionOutcome | "stale_comparison", extra: Record<string, unknown>) =>
    Effect.gen(function* () {
      yield* writeReport(storage, runId, "promotion_decision.json", { ...base, outcome, ...extra })
      yield* tracker.setTags(runId, { promotion: outcome })
    })

  if (failures.length > 0) {
    yield* decide("blocked", { failures })
    return yield* Effect.fail(new PromotionBlocked({ model: name, failures }))
  }
  const problems = lineageProblems(input.anchors)
  if (problems.length > 0) {
    yield* decide("blocked", { failures: [], lineage_problems: problems })
    return yield* Effect.fail(
      new RegistryError({ model: name, message: `run ${runId} cannot be promoted: lineage ${problems.join(", ")}` })
    )
  }

  const decision = yield* approver.decide({
    model: name,
    runId,
    candidateMetrics: evaluation.metrics,
    comparison: evaluation.comparison,
    production: evaluation.production
      ? { version: evaluation.production.version, runId: evaluation.production.runId }
      : null,
    rules: ruleLines,
    driftSummary: input.driftSummary ?? null,
    driftEvaluation: input.driftEvaluation ?? null
  })
  const decisionFields = {
    decided_by: decision.by,
    reason: decision.reason,
    approver: approver.name,
    ...("policy" in decision ? { policy: decision.policy } : {})
  }

  if (decision.outcome !== "approved") {
    yield* registry.record({
      actor: decision.by,
      action: decision.outcome === "rejected" ? "rejected" : "cancelled",
      model: name,
      version: null,
      fromStage: null,
      toStage: null,
      reason: decision.reason,
      details: { run_id: runId, approver: approver.name }
    })
    yield* decide(decision.outcome, decisionFields)
    return yield* Effect.fail(
      decision.outcome === "rejected"
        ? new ApprovalRejected({ model: name, by: decision.by, reason: decision.reason })
        : new ApprovalCancelled({ model: name, by: decision.by, reason: decision.reason })
    )
  }

  // The files are digested now, as they are registered; the transaction refuses a stale comparison.
  const files = yield* filesToRegister(name, runId)
  const version = yield* registry
    .promote({
      name,
      runId,
      artifactPath: artifactKeys(runId).dir,
      tags: { ...input.anchors, ...(input.extraTags ?? {}) },
      actor: decision.by,
      reason: decision.reason,
      stage: config.deployment.allowed_stage,
      details: {
        approver: approver.name,
        ...("policy" in decision ? { policy: decision.policy } : {}),
        verdict: evaluation.verdict
      },
      files,
      comparedWith: evaluation.production?.version ?? null
    })
    .pipe(
      Effect.tapErrorTag("StaleComparison", (e) =>
        decide("stale_comparison", { ...decisionFields, production_now: e.current, compared_with: e.comparedWith })
      )
    )
  yield* writeRegistration(version, files)
  yield* decide("approved", {
    ...decisionFields,
    version: version.version,
    stage: version.stage,
    aliases: version.aliases
  })
  return { outcome: "approved" as const, version }
})

/** How a failed promotion ended: the gate's decision, or "failed" for anything else (a store error …). */
export const promotionStateOf = (e: StageError): PromotionState =>
  e._tag === "PromotionBlocked" || e._tag === "StaleComparison"
    ? "blocked"
    : e._tag === "ApprovalRejected"
      ? "rejected"
      : e._tag === "ApprovalCancelled"
        ? "cancelled"
        : "failed"

/**
 * Promotion of an evaluated run, the one path `run` and `promote --run` share: the drift context
 * for the gate (latest check, drift rules, held-out drift comparison), the rules and the approver;
 * the outcome is recorded in `ctx.promotion` whichever way it ends.
 */
export const promoteWithGate = Effect.fn("pipeline.promote")(function* (ctx: PipelineContext, evaluation: Evaluation) {
  ctx.promotion = "pending"
  const result = yield* Effect.gen(function* () {
    const gate = yield* gateContext(ctx)
    return yield* promote({
      runId: ctx.runId,
      config: ctx.config,
      anchors: ctx.anchors,
      evaluation,
      driftEvaluation: ctx.driftEvaluation ?? null,
      driftSummary: gate.driftSummary,
      driftSeverity: gate.driftSeverity,
      ...(ctx.prepared?.stagedFrom ? { extraTags: { drift_staging_id: ctx.prepared.stagedFrom } } : {})
    })
  }).pipe(
    Effect.tapError((e) =>
      Effect.sync(() => {
        ctx.promotion = promotionStateOf(e)
      })
    )
  )
  ctx.promotion = result.outcome
  return result
})
