import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parse } from "yaml"
import { describeError } from "../../src/domain/describe.js"
import { makePromptScripted } from "../../src/layers/prompt/PromptScripted.js"
import { testLayer } from "../../src/layers/test.js"
import { Prompt } from "../../src/services/Prompt.js"
import { loadConfig } from "../../src/programs/loadConfig.js"
import { prepareData } from "../../src/programs/prepareData.js"
import { readFrame } from "../../src/programs/splitData.js"
import { Storage } from "../../src/services/Storage.js"

const root = path.resolve(__dirname, "../..")
const fixture = (name: string) => path.join(root, "tests/fixtures/bad", name, "config.yaml")

const prepare = (configFile: string, extra: { target?: string; task?: "classification" | "regression" } = {}) =>
  Effect.gen(function* () {
    const loaded = yield* loadConfig(configFile)
    return yield* prepareData({ config: loaded.config, configDir: loaded.dir, ...extra })
  })

describe("prepareData on in-memory layers", () => {
  it.effect("versions by SHA-256 of the raw bytes and is idempotent", () =>
    Effect.gen(function* () {
      const storage = yield* Storage
      const a = yield* prepare(path.join(root, "configs/breast_cancer.yaml"))
      const expected = createHash("sha256")
        .update(fs.readFileSync(path.join(root, "data/raw/breast_cancer/data.csv")))
        .digest("hex")
      expect(a.version).toBe(expected)
      expect(a.snapshotCreated).toBe(true)
      const files = yield* storage.list("datasets")
      const b = yield* prepare(path.join(root, "configs/breast_cancer.yaml"))
      expect(b.version).toBe(a.version)
      expect(b.splitId).toBe(a.splitId)
      expect(b.snapshotCreated).toBe(false)
      expect(yield* storage.list("datasets")).toEqual(files)
      expect(a.rows).toBe(569)
      expect(a.splits.train.rows + a.splits.val.rows + a.splits.test.rows).toBe(569)
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("writes byte-identical split files for the same seed, in separate workspaces", () =>
    Effect.gen(function* () {
      const read = Effect.gen(function* () {
        const s = yield* Storage
        const p = yield* prepare(path.join(root, "configs/iris.yaml"))
        const files = yield* Effect.all([
          s.read(p.splits.train.key),
          s.read(p.splits.val.key),
          s.read(p.splits.test.key)
        ])
        // a split part is row indices over the Arrow snapshot; read back, it has the file's columns in order
        const train = yield* readFrame(p.splits.train.key, p.spec, [...p.spec.features, p.spec.target])
        return { files, columns: train.columns.map((c) => c.name), rows: train.rows, declared: p.splits.train.rows }
      })
      const a = yield* read.pipe(Effect.provide(testLayer()))
      const b = yield* read.pipe(Effect.provide(testLayer()))
      expect(a).toEqual(b)
      expect(a.columns.join(",")).toBe("sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,species")
      expect(a.rows).toBe(a.declared)
    })
  )

  it.effect("stratifies: each class's share in each split is within one row of its target", () =>
    Effect.gen(function* () {
      const p = yield* prepare(path.join(root, "configs/wine.yaml"))
      const total = p.validation.labels!
      for (const [split, frac] of [
        ["train", 0.7],
        ["val", 0.15],
        ["test", 0.15]
      ] as const) {
        for (const [label, n] of Object.entries(total)) {
          expect(Math.abs((p.splits[split].labels![label] ?? 0) - n * frac)).toBeLessThanOrEqual(1)
        }
      }
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("reports every contract violation at once, each naming its column", () =>
    Effect.gen(function* () {
      const r = yield* Effect.either(prepare(fixture("contract_all_at_once")))
      expect(Either.isLeft(r)).toBe(true)
      if (Either.isLeft(r)) {
        expect(r.left._tag).toBe("ContractViolation")
        if (r.left._tag === "ContractViolation") {
          const got = r.left.violations.map((v) => `${v.column}:${v.rule}`).sort()
          expect(got).toEqual(
            [
              "null:min_rows",
              "sepal_length_cm:max_null_fraction",
              "sepal_length_cm:range",
              "species:label_classes"
            ].sort()
          )
        }
      }
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("headless without dataset.yaml: fails naming --target and --task", () =>
    Effect.gen(function* () {
      const r = yield* Effect.either(prepare(fixture("missing_dataset_yaml")))
      expect(Either.isLeft(r) && r.left._tag).toBe("DatasetSpecMissing")
    }).pipe(Effect.provide(testLayer({ interactive: false })))
  )

  const copyFixture = (name: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dg-fixture-"))
    fs.cpSync(path.join(root, "tests/fixtures/bad", name), dir, { recursive: true })
    return dir
  }

  it.effect("creates dataset.yaml from --target/--task, inferring the schema", () =>
    Effect.gen(function* () {
      const dir = copyFixture("missing_dataset_yaml")
      const p = yield* prepare(path.join(dir, "config.yaml"), { target: "species", task: "classification" })
      expect(p.specCreated).toBe(true)
      const spec = parse(fs.readFileSync(path.join(dir, "data/iris/dataset.yaml"), "utf8"))
      expect(spec.target).toBe("species")
      expect(spec.schema).toEqual({
        sepal_length_cm: "float",
        sepal_width_cm: "float",
        petal_length_cm: "float",
        petal_width_cm: "float",
        species: "string"
      })
      expect(spec.constraints.label_classes).toEqual(["setosa", "versicolor", "virginica"])
      // Second run finds it and does not ask again.
      const again = yield* prepare(path.join(dir, "config.yaml"))
      expect(again.specCreated).toBe(false)
    }).pipe(Effect.provide(testLayer({ interactive: false })))
  )

  it.effect("on a terminal asks once for target and task", () =>
    Effect.gen(function* () {
      const dir = copyFixture("missing_dataset_yaml")
      const p = yield* prepare(path.join(dir, "config.yaml"))
      expect(p.spec.target).toBe("species")
      expect(p.spec.task_type).toBe("classification")
    }).pipe(Effect.provide(testLayer({ interactive: true, answers: ["species", "classification"] })))
  )

  it.effect("a data.csv edited between the reads that create dataset.yaml is refused, not half merged", () => {
    // numeric labels with --task classification: the target column is read a second time as text; the
    // file is appended to while the terminal asks for the target, between the two passes
    const dir = copyFixture("missing_dataset_yaml")
    const csv = path.join(dir, "data/iris/data.csv")
    const lines = fs.readFileSync(csv, "utf8").trimEnd().split("\n")
    const codes = new Map<string, string>()
    fs.writeFileSync(
      csv,
      [
        lines[0],
        ...lines
          .slice(1)
          .map((l) =>
            l.replace(/[a-z]+$/, (sp) => codes.get(sp) ?? (codes.set(sp, String(codes.size)), String(codes.size - 1)))
          )
      ].join("\n") + "\n"
    )
    const scripted = makePromptScripted(["species", "classification"]).prompt
    const editing = Prompt.of({
      ...scripted,
      ask: (q, o) =>
        Effect.zipRight(
          Effect.sync(() => fs.appendFileSync(csv, "5.0,3.0,1.0,0.1,7\n")),
          scripted.ask(q, o)
        )
    })
    return Effect.gen(function* () {
      const r = yield* Effect.either(prepare(path.join(dir, "config.yaml")))
      expect(Either.isLeft(r)).toBe(true)
      if (Either.isLeft(r)) expect(describeError(r.left)).toContain("changed while it was read")
      expect(fs.existsSync(path.join(dir, "data/iris/dataset.yaml"))).toBe(false)
    }).pipe(Effect.provide(Layer.succeed(Prompt, editing)), Effect.provide(testLayer({ interactive: true })))
  })

  it.effect(
    "an edited dataset.yaml (a dtype, a missing-value token) gives a new snapshot and split, not the old types",
    () =>
      Effect.gen(function* () {
        // the same bytes: '-' marks a missing x; first read as a string column, then declared float with na_values
        const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), "dg-contract-"))
        fs.mkdirSync(path.join(dataRoot, "toy"))
        const rows = Array.from(
          { length: 40 },
          (_, i) => `${i % 7 === 0 ? "-" : (i / 10).toFixed(1)},${i % 2 ? "a" : "b"}`
        )
        fs.writeFileSync(path.join(dataRoot, "toy", "data.csv"), ["x,label", ...rows].join("\n") + "\n")
        const spec = (dtype: string, na: string) =>
          `name: toy\ntask_type: classification\nfeatures: [x]\ntarget: label\nschema: { x: ${dtype}, label: string }\nna_values: ${na}\nconstraints: { min_rows: 10, max_null_fraction: 0.5 }\n`
        const file = path.join(dataRoot, "config.yaml")
        fs.writeFileSync(
          file,
          `name: toy\ntask_type: classification\ndataset: toy\ndata_root: ${dataRoot}\nrandom_seed: 1\ntraining: { model: logistic_regression }\n`
        )
        fs.writeFileSync(path.join(dataRoot, "toy", "dataset.yaml"), spec("string", "[]"))
        const a = yield* prepare(file)
        fs.writeFileSync(path.join(dataRoot, "toy", "dataset.yaml"), spec("float", '["-"]'))
        const b = yield* prepare(file)
        expect(b.version).toBe(a.version) // the dataset version is the bytes' SHA-256 …
        expect(b.snapshotKey).not.toBe(a.snapshotKey) // … but the typed snapshot is another one
        expect(b.snapshotCreated).toBe(true)
        expect(b.splitId).not.toBe(a.splitId)
        const before = yield* readFrame(a.splits.train.key, a.spec, ["x"])
        const after = yield* readFrame(b.splits.train.key, b.spec, ["x"])
        expect(before.columns[0]!.dtype).toBe("string")
        expect(after.columns[0]!.dtype).toBe("float")
        const x = after.columns[0]!.values as Float64Array
        expect(x.some((v) => Number.isNaN(v))).toBe(true)
        expect(x.every((v) => Number.isNaN(v) || (v >= 0 && v < 4))).toBe(true)
      }).pipe(Effect.provide(testLayer()))
  )

  it.effect("a missing dataset folder is reported with its path", () =>
    Effect.gen(function* () {
      const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), "dg-noset-"))
      const file = path.join(dataRoot, "config.yaml")
      fs.writeFileSync(
        file,
        fs
          .readFileSync(path.join(root, "configs/iris.yaml"), "utf8")
          .replace("dataset: iris", `data_root: ${dataRoot}\ndataset: iris`)
      )
      const r = yield* Effect.either(prepare(file))
      expect(Either.isLeft(r) && r.left._tag).toBe("DatasetNotFound")
      if (Either.isLeft(r) && r.left._tag === "DatasetNotFound") {
        expect(r.left.path).toBe(path.join(dataRoot, "iris", "data.csv"))
        expect(r.left.message).toBe("no such dataset folder")
        expect(describeError(r.left)).toContain(path.join(dataRoot, "iris"))
      }
      // The folder exists but holds no data.csv: a different sentence, the same path.
      fs.mkdirSync(path.join(dataRoot, "iris"))
      const empty = yield* Effect.either(prepare(file))
      expect(Either.isLeft(empty) && empty.left._tag === "DatasetNotFound" && empty.left.message).toBe(
        "the folder has no data.csv"
      )
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("a dataset name that climbs out of data_root is a config error naming it", () =>
    Effect.gen(function* () {
      const r = yield* Effect.either(prepare(fixture("path_traversal")))
      expect(Either.isLeft(r) && r.left._tag).toBe("ConfigError")
      if (Either.isLeft(r)) {
        expect(describeError(r.left)).toContain('invalid value at "dataset"')
        expect(describeError(r.left)).toContain("no path separators or '..'")
      }
    }).pipe(Effect.provide(testLayer()))
  )
})
