import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parse } from "csv-parse/sync"
import { stringify } from "csv-stringify/sync"
import { makeApproverScripted } from "../../src/layers/approver/ApproverScripted.js"
import { testLayer } from "../../src/layers/test.js"
import { Approver } from "../../src/services/Approver.js"
import { loadConfig } from "../../src/programs/loadConfig.js"
import { monitorDrift } from "../../src/programs/drift/monitor.js"
import { stageTraining, unstageTraining } from "../../src/programs/drift/staging.js"
import { driftSummary, servingLogBatch } from "../../src/programs/drift/summary.js"
import { Storage } from "../../src/services/Storage.js"
import { Layer } from "effect"
import { configVariant, root, runConfig } from "./helpers.js"

const csv = parse(fs.readFileSync(path.join(root, "data/raw/breast_cancer/data.csv"), "utf8")) as string[][]
const header = csv[0]!
const body = csv.slice(1)
const SHIFTED = ["mean_radius", "mean_texture", "worst_area", "mean_smoothness", "texture_error"]

/** A batch of real rows (every k-th from offset), with the named columns scaled; optional column drop/reorder. */
const batchFile = (opts: {
  offset: number
  step: number
  scale?: number
  columns?: ReadonlyArray<string>
  labelled?: boolean
  extra?: boolean
}) => {
  const rows = body.filter((_, i) => i % opts.step === opts.offset)
  const cols = [...(opts.labelled ? header : header.filter((h) => h !== "diagnosis"))].reverse()
  const out = rows.map((r) =>
    cols.map((c) => {
      const v = r[header.indexOf(c)]!
      return (opts.columns ?? []).includes(c) ? String(Number(v) * (opts.scale ?? 1)) : v
    })
  )
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dg-batch-")), "batch.csv")
  fs.writeFileSync(
    file,
    stringify([opts.extra ? [...cols, "surprise"] : cols, ...out.map((r) => (opts.extra ? [...r, "1"] : r))])
  )
  return file
}

const setup = Effect.gen(function* () {
  const file = configVariant("breast_cancer.yaml")
  const r = yield* runConfig(file)
  expect(r.status).toBe("completed")
  return yield* loadConfig(file)
})

const monitor = (loaded: { config: any; dir: string }, batch: string) =>
  monitorDrift({
    config: loaded.config,
    configDir: loaded.dir,
    source: { kind: "file", path: batch },
    actor: "user:test"
  })

const approve = { outcome: "approved" as const, by: "user:test", reason: "ok" }

describe("drift monitoring on in-memory layers", () => {
  it.effect("no drift between real rows the model did not see, drift exactly in the shifted columns", () =>
    Effect.gen(function* () {
      const loaded = yield* setup
      const same = yield* monitor(loaded, batchFile({ offset: 1, step: 3 }))
      expect(same.report.dataset_drift).toBe(false)
      expect(same.gate).toBeNull()
      const shifted = yield* monitor(loaded, batchFile({ offset: 1, step: 3, scale: 1.6, columns: SHIFTED }))
      const drifted = shifted.report.result.columns
        .filter((c) => c.drifted)
        .map((c) => c.column)
        .sort()
      expect(drifted).toEqual([...SHIFTED].sort())
      expect(shifted.report.result.columns.find((c) => c.column === "mean_radius")?.test).toBe("ks")
      const storage = yield* Storage
      const html = yield* storage.readText(shifted.report.files.html.replace("memory://", ""))
      expect(html).toContain("<svg")
      for (const c of SHIFTED) expect(html).toContain(c)
      const summary = yield* driftSummary(loaded.config)
      expect(summary.checks.map((c) => c.dataset_drift)).toEqual([false, false])
      expect(summary.checks[1]!.drifted_columns).toBe(5)
      expect(summary.trend).toHaveLength(2)
    }).pipe(Effect.provide(testLayer({ decisions: [approve] })))
  )

  it.effect("headless at fail_on_severity: the report is written and the gate error is returned", () =>
    Effect.gen(function* () {
      const loaded = yield* setup
      const r = yield* monitor(
        loaded,
        batchFile({ offset: 2, step: 3, scale: 1.5, columns: header.filter((h) => h !== "diagnosis") })
      )
      expect(r.report.severity).toBe("high")
      expect(r.gate?._tag).toBe("DriftGateFailed")
    }).pipe(Effect.provide(testLayer({ decisions: [approve] })))
  )

  it.effect("on a terminal at alert_severity asks for a response with a reason and records it", () =>
    Effect.gen(function* () {
      const loaded = yield* setup
      const r = yield* monitor(
        loaded,
        batchFile({ offset: 2, step: 3, scale: 1.5, columns: header.filter((h) => h !== "diagnosis") })
      )
      expect(r.gate).toBeNull()
      expect(r.report.decision).toMatchObject({
        action: "retrain",
        reason: "sensor recalibrated in March",
        by: "user:test"
      })
      const summary = yield* driftSummary(loaded.config)
      expect(summary.checks.at(-1)?.decision?.action).toBe("retrain")
    }).pipe(
      Effect.provide(
        testLayer({ decisions: [approve], interactive: true, answers: ["retrain", "sensor recalibrated in March"] })
      )
    )
  )

  it.effect("wrong columns or dtypes fail validation naming them; tiny batches are refused", () =>
    Effect.gen(function* () {
      const loaded = yield* setup
      const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dg-bad-")), "b.csv")
      fs.writeFileSync(bad, "mean_radius,mean_texture\nabc,1\n")
      const e = yield* Effect.either(monitor(loaded, bad))
      expect(Either.isLeft(e) && e.left._tag).toBe("ContractViolation")
      if (Either.isLeft(e) && e.left._tag === "ContractViolation") {
        const cols = e.left.violations.map((v) => v.column)
        expect(cols).toContain("mean_radius")
        expect(cols).toContain("worst_area")
      }
      const tiny = yield* Effect.either(monitor(loaded, batchFile({ offset: 0, step: 100 })))
      expect(Either.isLeft(tiny) && tiny.left._tag).toBe("DriftInputError")
      if (Either.isLeft(tiny)) expect(String((tiny.left as { message: string }).message)).toContain("min_batch_size")
    }).pipe(Effect.provide(testLayer({ decisions: [approve] })))
  )
})

describe("drift-adaptive retraining", () => {
  it.effect("stage → run on the merged version → before/after at the gate → unstage restores the original", () => {
    const scripted = makeApproverScripted([approve, approve, approve, approve])
    return Effect.gen(function* () {
      const loaded = yield* setup
      const original = (yield* runConfig(loaded.file)).prepared!.version
      const labelled = batchFile({ offset: 0, step: 3, scale: 1.4, columns: SHIFTED, labelled: true })
      const s = yield* stageTraining({
        config: loaded.config,
        configDir: loaded.dir,
        batch: labelled,
        holdout: 0.3,
        actor: "user:test"
      })
      expect(s.batch.train_rows + s.batch.holdout_rows).toBe(s.batch.rows)
      expect(s.merged_version).not.toBe(original)
      const again = yield* Effect.either(
        stageTraining({
          config: loaded.config,
          configDir: loaded.dir,
          batch: labelled,
          holdout: 0.3,
          actor: "user:test"
        })
      )
      expect(Either.isLeft(again) && again.left._tag).toBe("AlreadyStaged")

      const r = yield* runConfig(loaded.file)
      expect(r.prepared!.version).toBe(s.merged_version)
      expect(r.prepared!.rows).toBe(569 + s.batch.train_rows)
      const gate = scripted.requests.at(-1)!
      expect(gate.driftEvaluation?.map((c) => c.split)).toContain("drift_holdout")
      expect(gate.driftEvaluation?.find((c) => c.metric === "accuracy")?.production).toBeCloseTo(
        s.baseline.metrics.accuracy!,
        10
      )
      // The raw file is never edited.
      expect(fs.readFileSync(path.join(root, "data/raw/breast_cancer/data.csv")).length).toBeGreaterThan(0)

      yield* unstageTraining({ config: loaded.config, actor: "user:test" })
      const after = yield* runConfig(loaded.file)
      expect(after.prepared!.version).toBe(original)
    }).pipe(Effect.provide(Layer.merge(testLayer(), Layer.succeed(Approver, scripted.approver))))
  })

  it.effect("a labelled batch with an unexpected column is refused, naming it", () =>
    Effect.gen(function* () {
      const loaded = yield* setup
      const e = yield* Effect.either(
        stageTraining({
          config: loaded.config,
          configDir: loaded.dir,
          batch: batchFile({ offset: 0, step: 3, labelled: true, extra: true }),
          holdout: 0.3,
          actor: "t"
        })
      )
      expect(Either.isLeft(e) && e.left._tag).toBe("ContractViolation")
      if (Either.isLeft(e) && e.left._tag === "ContractViolation") expect(e.left.violations[0]!.column).toBe("surprise")
    }).pipe(Effect.provide(testLayer({ decisions: [approve] })))
  )
})

describe("drift from the serving log", () => {
  it.effect("reads the rows the service logged (since a time) and checks them like a batch", () =>
    Effect.gen(function* () {
      const loaded = yield* setup
      const storage = yield* Storage
      const features = header.filter((h) => h !== "diagnosis")
      const line = (r: string[], ts: string, scale: number) =>
        JSON.stringify({
          ts,
          request_id: "r",
          model: "breast-cancer",
          version: 1,
          features: Object.fromEntries(
            features.map((f) => [f, Number(r[header.indexOf(f)]) * (SHIFTED.includes(f) ? scale : 1)])
          ),
          prediction: "benign"
        })
      const old =
        body
          .slice(0, 60)
          .map((r) => line(r, "2026-11-25T10:00:00.000Z", 1))
          .join("\n") + "\n"
      const recent =
        body
          .filter((_, i) => i % 3 === 1)
          .map((r) => line(r, "2026-11-27T10:00:00.000Z", 1.6))
          .join("\n") + "\n"
      yield* storage.write("serving/predictions/breast-cancer/2026-11-25.jsonl", old)
      yield* storage.write("serving/predictions/breast-cancer/2026-11-27.jsonl", recent)
      const batch = yield* servingLogBatch(loaded.config, new Date("2026-11-26T00:00:00Z"))
      expect(batch.rows).toBe(body.filter((_, i) => i % 3 === 1).length)
      const r = yield* monitorDrift({
        config: loaded.config,
        configDir: loaded.dir,
        source: { kind: "serving_log", frame: batch.frame, path: batch.path, since: "2026-11-26T00:00:00.000Z" },
        actor: "t"
      })
      expect(r.report.batch.source).toBe("serving_log")
      expect(
        r.report.result.columns
          .filter((c) => c.drifted)
          .map((c) => c.column)
          .sort()
      ).toEqual([...SHIFTED].sort())
    }).pipe(Effect.provide(testLayer({ decisions: [approve] })))
  )
})
