import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { testLayer } from "../../src/layers/test.js"
import { promote } from "../../src/programs/promoteStage.js"
import { Registry } from "../../src/services/Registry.js"
import { Storage } from "../../src/services/Storage.js"
import { Tracker } from "../../src/services/Tracker.js"
import { configVariant, runConfig } from "./helpers.js"
import type { Evaluation } from "../../src/programs/evaluateStage.js"

const approve = { outcome: "approved" as const, by: "user:test", reason: "looks good" }
const readJson = (key: string) => Effect.flatMap(Storage, (s) => Effect.map(s.readText(key), (t) => JSON.parse(t)))

describe("runPipeline on in-memory layers", () => {
  it.effect("takes breast_cancer from raw CSV to a Production model with every report", () =>
    Effect.gen(function* () {
      const r = yield* runConfig(configVariant("breast_cancer.yaml"))
      expect(r.status).toBe("completed")
      expect(r.report.stages.map((s) => [s.name, s.status])).toEqual([
        ["data_preparation", "completed"],
        ["preprocessing", "completed"],
        ["training", "completed"],
        ["evaluation", "completed"],
        ["promotion", "completed"],
        ["deployment", "completed"]
      ])
      const registry = yield* Registry
      const prod = Option.getOrThrow(yield* registry.getProduction("breast-cancer"))
      expect(prod).toMatchObject({ version: 1, runId: r.runId, stage: "Production", aliases: ["champion"] })
      for (const k of [
        "execution_id",
        "config_hash",
        "dataset_version",
        "random_seed",
        "run_id",
        "driftgate_version",
        "code_revision"
      ]) {
        expect(prod.tags[k], k).toBeTruthy()
      }
      const run = yield* readJson(`reports/${r.runId}/run_report.json`)
      expect(run.status).toBe("completed")
      for (const s of run.stages) expect(s).toHaveProperty("duration_s")
      const evaluation = yield* readJson(`reports/${r.runId}/evaluation_report.json`)
      expect(evaluation.metrics.val.accuracy).toBeGreaterThan(0.9)
      expect(evaluation.overall_verdict).toBe("no_baseline")
      const decision = yield* readJson(`reports/${r.runId}/promotion_decision.json`)
      expect(decision).toMatchObject({ outcome: "approved", decided_by: "user:test", reason: "looks good", version: 1 })
      const manifest = yield* readJson(`reports/${r.runId}/deployment_manifest.json`)
      expect(manifest).toMatchObject({
        readiness: "ready",
        version: 1,
        artifact_exists: true,
        registered_model: "breast-cancer"
      })
      const latest = yield* readJson("reports/latest/deployment_manifest.json")
      expect(latest).toEqual(manifest)
      const tracked = yield* (yield* Tracker).getRun(r.runId)
      expect(tracked.run.status).toBe("completed")
      expect(tracked.metrics.find((m) => m.key === "val.accuracy")?.value).toBeCloseTo(
        evaluation.metrics.val.accuracy,
        4
      )
      expect(tracked.artifacts.map((a) => a.name)).toContain("model.json")
    }).pipe(Effect.provide(testLayer({ decisions: [approve] })))
  )

  it.effect("a second run with another seed becomes version 2 and archives version 1", () =>
    Effect.gen(function* () {
      const a = yield* runConfig(configVariant("breast_cancer.yaml"))
      const b = yield* runConfig(
        configVariant("breast_cancer.yaml", (t) => t.replace("random_seed: 42", "random_seed: 7"))
      )
      expect([a.status, b.status]).toEqual(["completed", "completed"])
      const versions = yield* (yield* Registry).listVersions("breast-cancer")
      expect(versions.map((v) => [v.version, v.stage])).toEqual([
        [1, "Archived"],
        [2, "Production"]
      ])
      const evaluation = yield* readJson(`reports/${b.runId}/evaluation_report.json`)
      // Production is compared only on rows it did not train on.
      expect(evaluation.production.compared_rows.val.compared).toBeLessThan(
        evaluation.production.compared_rows.val.total
      )
      expect(evaluation.production.version).toBe(1)
    }).pipe(Effect.provide(testLayer({ decisions: [approve, approve] })))
  )

  it.effect("unmeetable thresholds block promotion, list every failing rule and register nothing", () =>
    Effect.gen(function* () {
      const file = configVariant("breast_cancer.yaml", (t) =>
        t.replace("threshold: 0.80", "threshold: 0.999").replace("threshold: 0.75", "threshold: 0.998")
      )
      const r = yield* runConfig(file)
      expect(r.status).toBe("blocked")
      expect(r.error?._tag).toBe("PromotionBlocked")
      if (r.error?._tag === "PromotionBlocked")
        expect(r.error.failures.map((f) => f.id)).toEqual(["min_accuracy", "min_f1"])
      expect(yield* (yield* Registry).listModels()).toEqual([])
      const decision = yield* readJson(`reports/${r.runId}/promotion_decision.json`)
      expect(decision.outcome).toBe("blocked")
      const manifest = yield* readJson(`reports/${r.runId}/deployment_manifest.json`)
      expect(manifest.readiness).toBe("promotion_not_approved")
      expect(r.report.stages.find((s) => s.name === "deployment")?.status).toBe("completed")
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("a rejection is recorded with its reason (not a crash) and registers nothing", () =>
    Effect.gen(function* () {
      const r = yield* runConfig(configVariant("iris.yaml"))
      expect(r.status).toBe("cancelled")
      expect(r.error).toMatchObject({ _tag: "ApprovalRejected", reason: "needs more data" })
      const registry = yield* Registry
      expect(yield* registry.listModels()).toEqual([])
      const audit = yield* registry.audit()
      expect(audit.map((a) => [a.action, a.reason])).toEqual([["rejected", "needs more data"]])
      expect((yield* registry.verify()).ok).toBe(true)
      expect((yield* readJson(`reports/${r.runId}/promotion_decision.json`)).outcome).toBe("rejected")
    }).pipe(
      Effect.provide(testLayer({ decisions: [{ outcome: "rejected", by: "user:qa", reason: "needs more data" }] }))
    )
  )

  it.effect("a failed stage skips the rest and the run is recorded as failed", () =>
    Effect.gen(function* () {
      const file = configVariant("iris.yaml", (t) =>
        t.replace("stages: [preprocessing, training,", "stages: [training,")
      )
      const r = yield* runConfig(file)
      expect(r.status).toBe("failed")
      expect(r.report.stages.map((s) => s.status)).toEqual(["completed", "failed", "skipped", "skipped", "skipped"])
      expect((yield* (yield* Tracker).getRun(r.runId)).run.status).toBe("failed")
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("refuses to promote a run whose lineage anchors are incomplete", () =>
    Effect.gen(function* () {
      const r = yield* runConfig(configVariant("iris.yaml", (t) => t.replace(", promotion, deployment]", "]")))
      const { code_revision: _drop, ...anchors } = r.context.anchors
      const loaded = r.context.config
      const out = yield* Effect.either(
        promote({ runId: r.runId, config: loaded, anchors, evaluation: r.context.evaluation as Evaluation })
      )
      expect(out._tag).toBe("Left")
      if (out._tag === "Left") {
        expect(out.left._tag).toBe("RegistryError")
        expect(out.left._tag === "RegistryError" && out.left.message).toContain("code_revision is missing")
      }
      expect(yield* (yield* Registry).listModels()).toEqual([])
    }).pipe(Effect.provide(testLayer({ decisions: [approve] })))
  )
})

describe("reproducibility", () => {
  const modelBytes = (config: string) =>
    Effect.gen(function* () {
      const r = yield* runConfig(
        configVariant(config, (t) => t.replace(/stages: \[.*\]/, "stages: [preprocessing, training, evaluation]"))
      )
      expect(r.status).toBe("completed")
      const storage = yield* Storage
      const model = yield* storage.readText(`artifacts/${r.runId}/model/model.json`)
      const evaluation = JSON.parse(yield* storage.readText(`reports/${r.runId}/evaluation_report.json`))
      return { model, metrics: evaluation.metrics }
    })

  for (const config of ["breast_cancer.yaml", "iris.yaml", "wine.yaml"]) {
    it.effect(`same config, data and seed give byte-identical model.json and metrics (${config})`, () =>
      Effect.gen(function* () {
        const a = yield* modelBytes(config).pipe(Effect.provide(testLayer()))
        const b = yield* modelBytes(config).pipe(Effect.provide(testLayer()))
        expect(a.model.length).toBeGreaterThan(100)
        expect(a.model === b.model).toBe(true)
        expect(a.metrics).toEqual(b.metrics)
      })
    )
  }
})

describe("split edge cases", () => {
  it.effect("a split without val/test trains and evaluates what exists; rules on a missing split fail clearly", () =>
    Effect.gen(function* () {
      const r = yield* runConfig(
        configVariant("iris.yaml", (t) =>
          t.replace("split: { train: 0.6, val: 0.2, test: 0.2, stratify: true }", "split: { train: 0.8, test: 0.2 }")
        )
      )
      expect(r.report.stages.find((s) => s.name === "training")?.status).toBe("completed")
      expect(r.status).toBe("blocked")
      if (r.error?._tag === "PromotionBlocked")
        expect(r.error.failures[0]!.message).toContain("was not computed on val")
    }).pipe(Effect.provide(testLayer({ decisions: [approve] })))
  )
})
