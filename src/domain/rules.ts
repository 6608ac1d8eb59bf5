import { Schema } from "effect"
import type { RuleFailure } from "./errors.js"

export const Operator = Schema.Literal(">=", "<=", ">", "<", "==")
export type Operator = typeof Operator.Type

export const EvaluationSplit = Schema.Literal("val", "test", "both")
export type EvaluationSplit = typeof EvaluationSplit.Type

/** `metric operator threshold`, e.g. accuracy >= 0.8, on the configured split(s). */
export const ThresholdRule = Schema.Struct({
  id: Schema.String.pipe(Schema.minLength(1)),
  metric: Schema.String.pipe(Schema.minLength(1)),
  operator: Operator,
  threshold: Schema.Number,
  split: Schema.optional(EvaluationSplit),
  description: Schema.optional(Schema.String)
})

/**
 * Candidate may not be worse than Production by more than `max_drop` (absolute). With no Production
 * version at all (the first version) it passes; when there is one but nothing could be compared (its
 * artifact could not be re-scored, or no evaluation row is one it did not train on) it fails, unless
 * `on_missing_baseline: pass`.
 */
export const RelativeRule = Schema.Struct({
  id: Schema.String.pipe(Schema.minLength(1)),
  metric: Schema.String.pipe(Schema.minLength(1)),
  relative_to: Schema.Literal("production"),
  max_drop: Schema.Number.pipe(Schema.greaterThanOrEqualTo(0)),
  split: Schema.optional(EvaluationSplit),
  on_missing_baseline: Schema.optional(Schema.Literal("fail", "pass")),
  description: Schema.optional(Schema.String)
})

/** Blocks a candidate whose own validation data is flagged as drifted against the current reference. */
export const DriftRule = Schema.Struct({
  id: Schema.String.pipe(Schema.minLength(1)),
  drift: Schema.Literal("validation_vs_production_reference"),
  max_severity: Schema.Literal("none", "low", "medium", "high"),
  description: Schema.optional(Schema.String)
})

export const PromotionRule = Schema.Union(ThresholdRule, RelativeRule, DriftRule)
export type PromotionRule = typeof PromotionRule.Type

/** Metrics where a smaller value is better (error metrics, losses). */
export const lowerIsBetter = (metric: string): boolean =>
  /^(mae|mse|rmse|log_loss|loss|max_drop)$|_error$|_loss$|_drop$/.test(metric)

const EQ_TOLERANCE = 1e-6

export const compare = (observed: number, op: Operator, threshold: number): boolean => {
  switch (op) {
    case ">=":
      return observed >= threshold
    case "<=":
      return observed <= threshold
    case ">":
      return observed > threshold
    case "<":
      return observed < threshold
    case "==":
      return Math.abs(observed - threshold) <= EQ_TOLERANCE
  }
}

/** Metrics by split: { val: { accuracy: 0.97 }, test: {...} }. */
export type SplitMetrics = Readonly<Record<string, Readonly<Record<string, number>>>>

export interface RuleOutcome {
  readonly id: string
  readonly passed: boolean
  readonly checks: ReadonlyArray<RuleFailure & { readonly passed: boolean }>
}

/**
 * Production's side of relative rules: the version, its metrics and the candidate's on the rows it
 * was re-scored on (the ones it did not train on), how many rows that was per split, and why it could
 * not be re-scored at all (null when it was).
 */
export interface RelativeBaseline {
  readonly version: number
  readonly metrics: SplitMetrics
  readonly candidateMetrics: SplitMetrics
  readonly rows: Readonly<Record<string, { readonly compared: number; readonly total: number }>>
  readonly unavailable: string | null
}

const splitsOf = (s: EvaluationSplit): ReadonlyArray<"val" | "test"> => (s === "both" ? ["val", "test"] : [s])

/**
 * Evaluates every rule (none short-circuits) against the candidate's metrics and, for relative rules,
 * Production's metrics on the same split. A metric that was not computed counts as a failure.
 * Drift rules are evaluated by the caller (they need a drift check) and passed in `driftSeverity`.
 */
export const evaluateRules = (
  rules: ReadonlyArray<PromotionRule>,
  defaultSplit: EvaluationSplit,
  candidate: SplitMetrics,
  /** null: there is no Production version (relative rules pass: nothing to regress from). */
  production: RelativeBaseline | null,
  /** undefined: no deployed reference to compare with (the rule is skipped); { error }: the check failed (the rule fails). */
  driftSeverity?: "none" | "low" | "medium" | "high" | { readonly error: string } | undefined
): ReadonlyArray<RuleOutcome> =>
  rules.map((rule) => {
    if ("drift" in rule) {
      const order = ["none", "low", "medium", "high"]
      if (typeof driftSeverity === "object") {
        return {
          id: rule.id,
          passed: false,
          checks: [
            {
              id: rule.id,
              metric: "drift_severity",
              split: "val",
              operator: "<=",
              threshold: order.indexOf(rule.max_severity),
              observed: null,
              passed: false,
              message: `the drift check of the validation data could not run: ${driftSeverity.error}`
            }
          ]
        }
      }
      const observed = driftSeverity === undefined ? null : order.indexOf(driftSeverity)
      const passed = observed === null || observed <= order.indexOf(rule.max_severity)
      return {
        id: rule.id,
        passed,
        checks: [
          {
            id: rule.id,
            metric: "drift_severity",
            split: "val",
            operator: "<=",
            threshold: order.indexOf(rule.max_severity),
            observed,
            passed,
            message:
              observed === null
                ? "no Production reference profile to compare against; rule skipped"
                : `validation data drift severity ${driftSeverity} ${passed ? "within" : "exceeds"} ${rule.max_severity}`
          }
        ]
      }
    }
    const checks = splitsOf(rule.split ?? defaultSplit).map((split) => {
      if ("relative_to" in rule) return relativeCheck(rule, split, candidate, production)
      const observed = candidate[split]?.[rule.metric]
      if (observed === undefined || !Number.isFinite(observed)) {
        return {
          id: rule.id,
          metric: rule.metric,
          split,
          operator: rule.operator,
          threshold: rule.threshold,
          observed: null,
          passed: false,
          message: `${rule.metric} was not computed on ${split}`
        }
      }
      const passed = compare(observed, rule.operator, rule.threshold)
      return {
        id: rule.id,
        metric: rule.metric,
        split,
        operator: rule.operator,
        threshold: rule.threshold,
        observed,
        passed,
        message: `${rule.metric} on ${split} = ${observed.toFixed(4)} ${passed ? "satisfies" : "fails"} ${rule.operator} ${rule.threshold}`
      }
    })
    return { id: rule.id, passed: checks.every((c) => c.passed), checks }
  })

/** One split of a relative rule (see RelativeRule for the three cases). */
const relativeCheck = (
  rule: typeof RelativeRule.Type,
  split: "val" | "test",
  candidate: SplitMetrics,
  production: RelativeBaseline | null
): RuleFailure & { readonly passed: boolean } => {
  const base = { id: rule.id, metric: rule.metric, split, operator: "max_drop", threshold: rule.max_drop }
  if (production === null) {
    const observed = candidate[split]?.[rule.metric]
    return {
      ...base,
      observed: observed ?? null,
      passed: observed !== undefined,
      message:
        observed === undefined
          ? `${rule.metric} was not computed on ${split}`
          : `no Production version yet (this would be the first): nothing to regress from; rule passes`
    }
  }
  const rows = production.rows[split]
  const rowsText =
    rows === undefined ? "" : ` (on the ${rows.compared}/${rows.total} ${split} rows Production did not train on)`
  const observed = production.candidateMetrics[split]?.[rule.metric]
  const prod = production.metrics[split]?.[rule.metric]
  if (production.unavailable !== null || observed === undefined || prod === undefined) {
    const why =
      production.unavailable !== null
        ? `Production version ${production.version} could not be re-scored (${production.unavailable}), so no rows were compared`
        : rows !== undefined && rows.compared === 0
          ? `Production version ${production.version} has no comparable ${split} rows (0/${rows.total} are rows it did not train on)`
          : candidate[split]?.[rule.metric] === undefined
            ? `${rule.metric} was not computed on ${split}`
            : `Production version ${production.version} has no ${rule.metric} on ${split}${rowsText}`
    const allowed = rule.on_missing_baseline === "pass" && candidate[split]?.[rule.metric] !== undefined
    return {
      ...base,
      observed: candidate[split]?.[rule.metric] ?? null,
      passed: allowed,
      message: allowed
        ? `${why}; rule passes (on_missing_baseline: pass)`
        : `${why}; rule fails (a regression guard with nothing to compare is not a pass; set on_missing_baseline: pass to allow it)`
    }
  }
  const drop = lowerIsBetter(rule.metric) ? observed - prod : prod - observed
  const passed = drop <= rule.max_drop + 1e-12
  return {
    ...base,
    observed,
    passed,
    message:
      `${rule.metric} on ${split} ${observed.toFixed(4)} vs Production ${prod.toFixed(4)}: ` +
      `${drop > 0 ? "worse" : "not worse"} by ${Math.max(0, drop).toFixed(4)} (allowed ${rule.max_drop})${rowsText}`
  }
}
