import { describe, expect, it } from "vitest"
import { evaluateRules, type PromotionRule, type RelativeBaseline } from "../../src/domain/rules.js"

const rule: PromotionRule = { id: "no_regression", metric: "accuracy", relative_to: "production", max_drop: 0.01 }
const lenient: PromotionRule = { ...rule, on_missing_baseline: "pass" }
const candidate = { val: { accuracy: 0.9 } }
const check = (r: PromotionRule, production: RelativeBaseline | null) =>
  evaluateRules([r], "val", candidate, production)[0]!

const compared: RelativeBaseline = {
  version: 3,
  metrics: { val: { accuracy: 0.95 } },
  candidateMetrics: { val: { accuracy: 0.93 } },
  rows: { val: { compared: 40, total: 86 } },
  unavailable: null
}

describe("relative rules: no Production vs nothing comparable", () => {
  it("passes when there is no Production version at all (the first version)", () => {
    const o = check(rule, null)
    expect(o.passed).toBe(true)
    expect(o.checks[0]!.message).toContain("no Production version yet")
  })

  it("compares on the rows Production did not train on and says how many", () => {
    const o = check(rule, compared)
    // 0.95 - 0.93 = 0.02 > 0.01: the candidate on the same 40 rows, not its 0.9 on all rows.
    expect(o.passed).toBe(false)
    expect(o.checks[0]!.observed).toBe(0.93)
    expect(o.checks[0]!.message).toContain("on the 40/86 val rows Production did not train on")
  })

  it("fails when Production exists but could not be re-scored, unless on_missing_baseline: pass", () => {
    const gone: RelativeBaseline = {
      version: 3,
      metrics: {},
      candidateMetrics: {},
      rows: {},
      unavailable: "artifacts/r/model/model.json not found"
    }
    const strict = check(rule, gone)
    expect(strict.passed).toBe(false)
    expect(strict.checks[0]!.message).toContain("Production version 3 could not be re-scored")
    expect(strict.checks[0]!.message).toContain("model.json not found")
    expect(strict.checks[0]!.message).toContain("on_missing_baseline: pass")
    const allowed = check(lenient, gone)
    expect(allowed.passed).toBe(true)
    expect(allowed.checks[0]!.message).toContain("rule passes (on_missing_baseline: pass)")
  })

  it("fails when no evaluation row is one Production did not train on, naming the row counts", () => {
    const none: RelativeBaseline = {
      version: 2,
      metrics: {},
      candidateMetrics: {},
      rows: { val: { compared: 0, total: 86 } },
      unavailable: null
    }
    const o = check(rule, none)
    expect(o.passed).toBe(false)
    expect(o.checks[0]!.message).toContain("no comparable val rows (0/86")
    expect(check(lenient, none).passed).toBe(true)
  })

  it("a candidate metric that was not computed fails even with on_missing_baseline: pass", () => {
    const o = evaluateRules([{ ...lenient, metric: "roc_auc" }], "val", candidate, compared)[0]!
    expect(o.passed).toBe(false)
    expect(o.checks[0]!.message).toContain("roc_auc was not computed on val")
  })
})
