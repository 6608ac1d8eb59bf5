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

/** Candidate may not be worse than Production by more than `max_drop` (absolute). */
export const RelativeRule = Schema.Struct({
  id: Schema.String.pipe(Schema.minLength(1)),
  metric: Schema.String.pipe(Schema.minLength(1)),
  relative_to: Schema.Literal("production"),
  max_drop: Schema.Number.pipe(Schema.greaterThanOrEqualTo(0)),
  split: Schema.optional(EvaluationSplit),
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
  production: SplitMetrics | undefined,
  /** undefined: no deployed reference to compare with (the rule is skipped); { error }: the check failed (the rule fails). */
  driftSeverity?: "none" | "low" | "medium" | "high" | { readonly error: string } | undefined,
  /** The candidate's metrics on the rows it is compared with Production on (relative rules). */
  candidateVsProduction?: SplitMetrics | undefined
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
      const observed = ("relative_to" in rule ? (candidateVsProduction ?? candidate) : candidate)[split]?.[rule.metric]
      if ("relative_to" in rule) {
        const base = production?.[split]?.[rule.metric]
        if (base === undefined) {
          return {
            id: rule.id,
            metric: rule.metric,
            split,
            operator: "max_drop",
            threshold: rule.max_drop,
            observed: observed ?? null,
            passed: observed !== undefined,
            message:
              observed === undefined
                ? `${rule.metric} was not computed on ${split}`
                : `no Production ${rule.metric} on ${split} to compare with; rule passes`
          }
        }
        if (observed === undefined) {
          return {
            id: rule.id,
            metric: rule.metric,
            split,
            operator: "max_drop",
            threshold: rule.max_drop,
            observed: null,
            passed: false,
            message: `${rule.metric} was not computed on ${split}`
          }
        }
        const drop = lowerIsBetter(rule.metric) ? observed - base : base - observed
        const passed = drop <= rule.max_drop + 1e-12
        return {
          id: rule.id,
          metric: rule.metric,
          split,
          operator: "max_drop",
          threshold: rule.max_drop,
          observed,
          passed,
          message:
            `${rule.metric} on ${split} ${observed.toFixed(4)} vs Production ${base.toFixed(4)}: ` +
            `${drop > 0 ? "worse" : "not worse"} by ${Math.max(0, drop).toFixed(4)} (allowed ${rule.max_drop})`
        }
      }
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
