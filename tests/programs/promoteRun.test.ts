import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { testLayer } from "../../src/layers/test.js"
import { loadConfig } from "../../src/programs/loadConfig.js"
import { promoteRun } from "../../src/programs/promoteRun.js"
import { runPipeline } from "../../src/programs/runPipeline.js"
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

describe("promote --run of a fine-tuned CNN", () => {
  it.effect(
    "judges it like run would: on the rows its starting weights never saw (the fine-tune flag is in run_context.json)",
    () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const cnn = (stages: string, seed: number) =>
          configVariant("fashion_mnist.yaml", (t) =>
            t
              .replace("random_seed: 42", `random_seed: ${seed}`)
              .replace("epochs: 12", "epochs: 1")
              .replace(/stages: \[.*\]/, `stages: [${stages}]`)
              .replace(
                /rules:[\s\S]*?deployment:/,
                "rules:\n" +
                  '    - { id: min_accuracy, metric: accuracy, operator: ">=", threshold: 0.0 }\n' +
                  "    - { id: no_regression, metric: accuracy, relative_to: production, max_drop: 1.0 }\n" +
                  "deployment:"
              )
          )
        expect((yield* runConfig(cnn("preprocessing, training, evaluation, promotion", 42))).status).toBe("completed")
        // Another seed, another split: part of its evaluation images are ones Production trained on.
        const tuned = yield* runPipeline({
          loaded: yield* loadConfig(cnn("preprocessing, training, evaluation", 3)),
          codeRevision: "0123456789abcdef0123456789abcdef01234567",
          driftgateVersion: "0.1.0-test",
          fineTune: true
        })
        expect(tuned.status).toBe("completed")
        const context = JSON.parse(yield* storage.readText(`reports/${tuned.runId}/run_context.json`))
        expect(context.fine_tune).toBe(true)
        const original = JSON.parse(yield* storage.readText(`reports/${tuned.runId}/evaluation_report.json`))
        expect(original.warnings.join(" ")).toContain("its starting weights never saw")

        const promoted = yield* promoteRun(tuned.runId)
        const later = JSON.parse(yield* storage.readText(promoted.evaluation.report!))
        expect(later.metrics).toEqual(original.metrics)
        expect(later.comparison).toEqual(original.comparison)
        expect(later.overall_verdict).toBe(original.overall_verdict)
        expect(later.production.compared_rows).toEqual(original.production.compared_rows)
        expect(original.production.compared_rows.val.compared).toBeLessThan(original.production.compared_rows.val.total)
      }).pipe(Effect.provide(testLayer({ decisions: [approve, approve] }))),
    300_000
  )
})
