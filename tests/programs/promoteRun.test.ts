import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { testLayer } from "../../src/layers/test.js"
import { promoteRun } from "../../src/programs/promoteRun.js"
import { Storage } from "../../src/services/Storage.js"
import { Tracker } from "../../src/services/Tracker.js"
import { configVariant, runConfig } from "./helpers.js"

const approve = { outcome: "approved" as const, by: "user:test", reason: "ok" }

/** breast_cancer on a decision tree (fast) with a lenient no_regression rule. */
const config = (seed: number, stages: string) =>
  configVariant("breast_cancer.yaml", (t) =>
    t
      .replace("model: random_forest", "model: decision_tree")
      .replace("params: { n_estimators: 100, max_features: sqrt }", "params: {}")
      .replace("random_seed: 42", `random_seed: ${seed}`)
      .replace("max_drop: 0.01 }", "max_drop: 0.5 }")
      .replace(/stages: \[.*\]/, `stages: [${stages}]`)
  )

describe("promote --run is a new evaluation record, not a rewrite", () => {
  it.effect(
    "the run's evaluation_report.json and step-0 metrics stay as they were; the later one sits beside them",
    () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const tracker = yield* Tracker
        const evaluated = yield* runConfig(config(42, "preprocessing, training, evaluation"))
        expect(evaluated.status).toBe("completed")
        const originalKey = `reports/${evaluated.runId}/evaluation_report.json`
        const originalBytes = yield* storage.readText(originalKey)
        expect(JSON.parse(originalBytes).production).toBeNull()
        const originalMetrics = (yield* tracker.getRun(evaluated.runId)).metrics

        // Another run becomes Production, so the later evaluation has a baseline the first one had not.
        expect((yield* runConfig(config(7, "preprocessing, training, evaluation, promotion"))).status).toBe("completed")
        const promoted = yield* promoteRun(evaluated.runId)
        expect(promoted.version.version).toBe(2)

        expect(yield* storage.readText(originalKey)).toBe(originalBytes)
        const later = (yield* storage.list(`reports/${evaluated.runId}/evaluations`)).filter((k) =>
          k.endsWith("/evaluation_report.json")
        )
        expect(later).toHaveLength(1)
        const report = JSON.parse(yield* storage.readText(later[0]!))
        expect(report.evaluation).toMatchObject({ step: 1, reason: "promote --run", original_report: originalKey })
        expect(later[0]).toContain(report.evaluation.id)
        expect(report.production.version).toBe(1)
        const decision = JSON.parse(yield* storage.readText(`reports/${evaluated.runId}/promotion_decision.json`))
        expect(decision.evaluation_report).toBe(later[0])

        const detail = yield* tracker.getRun(evaluated.runId)
        const step0 = detail.metrics.filter((m) => m.step === 0)
        expect(step0.map((m) => [m.key, m.value])).toEqual(originalMetrics.map((m) => [m.key, m.value]))
        const step1 = detail.metrics.filter((m) => m.step === 1)
        expect(step1.map((m) => m.key)).toContain("val.accuracy")
        expect(detail.tags.latest_evaluation).toBe(report.evaluation.id)
      }).pipe(Effect.provide(testLayer({ decisions: [approve, approve] })))
  )
})
