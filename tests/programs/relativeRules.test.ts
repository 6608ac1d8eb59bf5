import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { testLayer } from "../../src/layers/test.js"
import { Storage } from "../../src/services/Storage.js"
import { configVariant, runConfig } from "./helpers.js"

const approve = { outcome: "approved" as const, by: "user:test", reason: "ok" }
const readJson = (key: string) => Effect.flatMap(Storage, (s) => Effect.map(s.readText(key), (t) => JSON.parse(t)))

/** breast_cancer with a decision tree (fast) and its no_regression rule, optionally lenient on a missing baseline. */
const config = (seed: number, lenient = false) =>
  configVariant("breast_cancer.yaml", (t) =>
    t
      .replace("model: random_forest", "model: decision_tree")
      .replace("params: { n_estimators: 100, max_features: sqrt }", "params: {}")
      .replace("random_seed: 42", `random_seed: ${seed}`)
      .replace("max_drop: 0.01 }", lenient ? "max_drop: 0.5, on_missing_baseline: pass }" : "max_drop: 0.5 }")
  )

describe("no_regression when Production exists but cannot be compared", () => {
  // A registered Production whose files are gone or altered is an integrity failure of the store
  // (issue #11), stronger than a verdict: the run fails naming the file, whatever the rule allows,
  // and never falls back to recorded metrics. The rule's own handling of a baseline that cannot be
  // compared (fail, or pass with on_missing_baseline: pass) is tested in tests/domain/rules.test.ts.
  it.effect(
    "Production's model.json is gone: the run is refused naming the file (no silent fallback to recorded metrics)",
    () =>
      Effect.gen(function* () {
        const first = yield* runConfig(config(42))
        expect(first.status).toBe("completed")
        const firstDecision = yield* readJson(`reports/${first.runId}/promotion_decision.json`)
        expect(firstDecision.rules.find((r: { id: string }) => r.id === "no_regression").checks[0].message).toContain(
          "no Production version yet"
        )
        yield* (yield* Storage).remove(`artifacts/${first.runId}/model/model.json`)

        for (const lenient of [false, true]) {
          const next = yield* runConfig(config(7, lenient))
          expect(next.status).toBe("failed")
          expect(next.error?._tag).toBe("ArtifactMismatch")
          expect(JSON.stringify(next.error)).toContain("model.json")
        }
      }).pipe(Effect.provide(testLayer({ decisions: [approve, approve] })))
  )

  it.effect("when Production can be re-scored the message names the rows compared", () =>
    Effect.gen(function* () {
      yield* runConfig(config(42))
      const second = yield* runConfig(config(7))
      expect(second.status).toBe("completed")
      const evaluation = yield* readJson(`reports/${second.runId}/evaluation_report.json`)
      const rows = evaluation.production.compared_rows.val
      const decision = yield* readJson(`reports/${second.runId}/promotion_decision.json`)
      expect(decision.rules.find((r: { id: string }) => r.id === "no_regression").checks[0].message).toContain(
        `on the ${rows.compared}/${rows.total} val rows Production did not train on`
      )
    }).pipe(Effect.provide(testLayer({ decisions: [approve, approve] })))
  )
})
