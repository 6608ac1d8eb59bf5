import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { testLayer } from "../../src/layers/test.js"
import { loadConfig } from "../../src/programs/loadConfig.js"
import { monitorImageDrift, prepareImageBatch } from "../../src/programs/drift/imageDrift.js"
import { stageTraining, unstageTraining } from "../../src/programs/drift/staging.js"
import { runPipeline } from "../../src/programs/runPipeline.js"
import { Registry } from "../../src/services/Registry.js"
import { Storage } from "../../src/services/Storage.js"
import { configVariant, root, runConfig } from "./helpers.js"

const approve = { outcome: "approved" as const, by: "user:test", reason: "ok" }

/** Real Fashion-MNIST images of every class (every k-th file), optionally darkened with sharp. */
const imageFolder = async (k: number, darken?: number) => {
  const sharp = (await import("sharp")).default
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dg-images-"))
  const src = path.join(root, "data/raw/fashion_mnist/images")
  for (const c of fs.readdirSync(src)) {
    fs.mkdirSync(path.join(dir, c))
    for (const f of fs.readdirSync(path.join(src, c)).filter((_, i) => i % k === 0)) {
      if (darken === undefined) fs.copyFileSync(path.join(src, c, f), path.join(dir, c, f))
      else
        await sharp(path.join(src, c, f))
          .linear(darken, 0)
          .toFile(path.join(dir, c, f))
    }
  }
  return dir
}

describe("image classification through the governed lifecycle (memory layers, tfjs)", () => {
  it.effect(
    "versions, validates, trains a CNN, analyses robustness, promotes, then detects darkened images",
    () =>
      Effect.gen(function* () {
        const file = configVariant("fashion_mnist.yaml", (t) =>
          t
            .replace("epochs: 12", "epochs: 3")
            .replace("threshold: 0.75", "threshold: 0.3")
            .replace("threshold: 0.55", "threshold: 0.95")
            .replace("threshold: 0.17", "threshold: 0.9")
        )
        const r = yield* runConfig(file)
        expect(r.status, JSON.stringify(r.report.stages.map((s) => [s.name, s.status, s.error]))).toBe("completed")
        expect(r.prepared!.rows).toBe(1200)
        expect(r.prepared!.version).toMatch(/^[0-9a-f]{64}$/)
        const storage = yield* Storage
        const evaluation = JSON.parse(yield* storage.readText(`reports/${r.runId}/evaluation_report.json`))
        expect(evaluation.metrics.val.accuracy).toBeGreaterThan(0.4) // 10 classes: chance is 0.1
        const analysis = JSON.parse(yield* storage.readText(`reports/${r.runId}/model_analysis_report.json`))
        expect(analysis.perturbations.length).toBeGreaterThan(20)
        expect(analysis.perturbations.map((p: { family: string }) => p.family)).toContain("jpeg")
        expect(analysis.max_drop).toBeGreaterThan(0)
        const metadata = JSON.parse(yield* storage.readText(`artifacts/${r.runId}/model/metadata.json`))
        expect(metadata.fit_info.backend).toBeTruthy()
        expect(Option.isSome(yield* (yield* Registry).getProduction("fashion-mnist"))).toBe(true)

        const loaded = yield* loadConfig(file)
        const same = yield* prepareImageBatch({
          config: loaded.config,
          configDir: loaded.dir,
          inputDir: yield* Effect.promise(() => imageFolder(12))
        })
        const quiet = yield* monitorImageDrift({ config: loaded.config, batch: same.batch, actor: "t" })
        expect(quiet.report.embedding_mmd.pValue).toBeGreaterThan(0.05)
        const dark = yield* prepareImageBatch({
          config: loaded.config,
          configDir: loaded.dir,
          inputDir: yield* Effect.promise(() => imageFolder(12, 0.3))
        })
        const loud = yield* monitorImageDrift({ config: loaded.config, batch: dark.batch, actor: "t" })
        expect(loud.report.embedding_mmd.pValue).toBeLessThan(0.05)
        expect(loud.report.pixel_wasserstein.max).toBeGreaterThan(quiet.report.pixel_wasserstein.max)
        expect(loud.gate?._tag).toBe("DriftGateFailed")
      }).pipe(Effect.provide(testLayer({ decisions: [approve] }))),
    240_000
  )

  it.effect(
    "stage a labelled drifted image folder → run --fine-tune on the merged version with before/after → unstage",
    () =>
      Effect.gen(function* () {
        const file = configVariant("fashion_mnist.yaml", (t) =>
          t
            .replace("epochs: 12", "epochs: 2")
            .replace(/stages: \[.*\]/, "stages: [preprocessing, training, evaluation, promotion]")
            .replace(
              /rules:[\s\S]*?deployment:/,
              'rules:\n    - { id: min_accuracy, metric: accuracy, operator: ">=", threshold: 0.2 }\ndeployment:'
            )
        )
        const first = yield* runConfig(file)
        expect(first.status).toBe("completed")
        const loaded = yield* loadConfig(file)
        const s = yield* stageTraining({
          config: loaded.config,
          configDir: loaded.dir,
          batch: yield* Effect.promise(() => imageFolder(6, 0.4)),
          holdout: 0.3,
          actor: "t"
        })
        expect(s.batch.rows).toBe(200)
        const loadedRun = yield* loadConfig(file)
        const r = yield* runPipeline({
          loaded: loadedRun,
          codeRevision: "0123456789abcdef0123456789abcdef01234567",
          driftgateVersion: "0.1.0-test",
          fineTune: true
        })
        expect(r.status).toBe("completed")
        expect(r.prepared!.rows).toBe(1200 + s.batch.train_rows)
        expect(r.prepared!.version).toBe(s.merged_version)
        const storage = yield* Storage
        const evaluation = JSON.parse(yield* storage.readText(`reports/${r.runId}/evaluation_report.json`))
        expect(evaluation.drift_holdout.rows).toBe(s.batch.holdout_rows)
        // Production (version 1) is re-scored on evaluation images it did not train on.
        expect(evaluation.production.source).toContain("did not train on")
        expect(evaluation.production.compared_rows.val.compared).toBeGreaterThan(0)
        const meta = JSON.parse(yield* storage.readText(`artifacts/${r.runId}/model/metadata.json`))
        expect(meta.fine_tuned_from.version).toBe(1)
        yield* unstageTraining({ config: loaded.config, actor: "t" })
        const back = yield* runConfig(file)
        expect(back.prepared!.version).toBe(first.prepared!.version)
      }).pipe(Effect.provide(testLayer({ decisions: [approve, approve, approve] }))),
    240_000
  )

  it.effect("--fine-tune without a deployed model is a usage error before anything is written", () =>
    Effect.gen(function* () {
      const loaded = yield* loadConfig(configVariant("fashion_mnist.yaml"))
      const r = yield* Effect.either(
        runPipeline({
          loaded,
          codeRevision: "0123456789abcdef0123456789abcdef01234567",
          driftgateVersion: "0.1.0-test",
          fineTune: true
        })
      )
      expect(r._tag === "Left" && r.left._tag).toBe("UsageError")
      expect(yield* (yield* Storage).list("")).toEqual([])
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("prepare-batch refuses files that are not images, naming them (exit 4)", () =>
    Effect.gen(function* () {
      const loaded = yield* loadConfig(configVariant("fashion_mnist.yaml"))
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dg-notimg-"))
      fs.writeFileSync(path.join(dir, "notes.png"), "this is text")
      fs.copyFileSync(
        path.join(
          root,
          "data/raw/fashion_mnist/images/bag",
          fs.readdirSync(path.join(root, "data/raw/fashion_mnist/images/bag"))[0]!
        ),
        path.join(dir, "ok.png")
      )
      const r = yield* Effect.either(prepareImageBatch({ config: loaded.config, configDir: loaded.dir, inputDir: dir }))
      expect(r._tag === "Left" && r.left._tag).toBe("ContractViolation")
      if (r._tag === "Left" && r.left._tag === "ContractViolation")
        expect(JSON.stringify(r.left.violations)).toContain("notes.png")
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect(
    "a corrupt image and an unknown class folder are reported together (exit 4 data)",
    () =>
      Effect.gen(function* () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dg-badimg-"))
        fs.cpSync(path.join(root, "data/raw/fashion_mnist"), path.join(dir, "fashion_mnist"), { recursive: true })
        const coat = path.join(dir, "fashion_mnist/images/coat")
        const first = fs.readdirSync(coat)[0]!
        fs.writeFileSync(path.join(coat, first), fs.readFileSync(path.join(coat, first)).subarray(0, 40))
        fs.mkdirSync(path.join(dir, "fashion_mnist/images/hat"))
        fs.copyFileSync(path.join(coat, fs.readdirSync(coat)[1]!), path.join(dir, "fashion_mnist/images/hat/x.png"))
        const file = path.join(dir, "config.yaml")
        fs.writeFileSync(
          file,
          fs
            .readFileSync(path.join(root, "configs/fashion_mnist.yaml"), "utf8")
            .replace("dataset: fashion_mnist", `data_root: ${dir}\ndataset: fashion_mnist`)
        )
        const r = yield* runConfig(file)
        expect(r.status).toBe("failed")
        expect(r.error?._tag).toBe("ContractViolation")
        if (r.error?._tag === "ContractViolation") {
          const rules = r.error.violations.map((v) => v.rule)
          expect(rules).toContain("unknown_class")
          expect(rules.some((x) => x === "image_readable")).toBe(true)
        }
        void Either
      }).pipe(Effect.provide(testLayer())),
    120_000
  )
})
