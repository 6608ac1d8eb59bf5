import { FileSystem } from "@effect/platform"
import { Clock, Effect } from "effect"
import * as path from "node:path"
import type { PipelineConfig } from "../../domain/config.js"
import { AlreadyStaged, ContractViolation, NotStaged, UsageError } from "../../domain/errors.js"
import { sha256Hex } from "../../domain/hash.js"
import { isNumeric } from "../../domain/columnTable.js"
import { uuidv7 } from "../../domain/ids.js"
import { splitIndices } from "../../domain/split.js"
import type { Frame } from "../../domain/table.js"
import { takeFrameRows } from "../../ml/frame.js"
import { Storage } from "../../services/Storage.js"
import { predictFrame } from "../modelBundle.js"
import { positiveClassIndex, scorePredictions } from "../scoring.js"
import { targetVector } from "../splitData.js"
import { datasetDir, stagingHistoryKey, stagingKey, stagingKeys } from "../workspace.js"
import { loadDatasetSpec, readBatch } from "./batch.js"
import { stageImageTraining } from "./imageStaging.js"
import { deployedReference } from "./reference.js"
import { activeStaging, type Staging } from "./stagingState.js"
import { collect, holdoutCsv, mergedCsv, rawHeaderOf } from "./stagingCsv.js"

/**
 * `drift stage-training`: a labelled drifted batch (columns in any order) is validated with the
 * dataset's contract and split into a training part and a held-out drift evaluation set. The raw
 * file is never edited: raw + training part becomes a new dataset version that the next run uses;
 * the current Production model's score on the held-out set is recorded as the baseline.
 */
export const stageTraining = Effect.fn("program.stageTraining")(function* (args: {
  readonly config: PipelineConfig
  readonly configDir: string
  readonly batch: string
  readonly holdout: number
  readonly actor: string
}) {
  const storage = yield* Storage
  const fs = yield* FileSystem.FileSystem
  const { config } = args
  if (!(args.holdout > 0 && args.holdout < 1))
    return yield* Effect.fail(new UsageError({ message: `--holdout must be between 0 and 1 (got ${args.holdout})` }))
  const existing = yield* activeStaging(config.dataset)
  if (existing !== null) {
    return yield* Effect.fail(
      new AlreadyStaged({ dataset: config.dataset, id: existing.id, batch: existing.batch.file })
    )
  }
  if (config.task_type === "image_classification") {
    return yield* stageImageTraining({ ...args, rawRoot: path.join(datasetDir(config, args.configDir), "images") })
  }
  const spec = yield* loadDatasetSpec(config, args.configDir)
  const batch = yield* readBatch(args.batch, spec, { labelled: true })
  const known = new Set([...spec.features, spec.target])
  const extra = batch.header.filter((h) => !known.has(h))
  if (extra.length > 0) {
    return yield* Effect.fail(
      new ContractViolation({
        dataset: spec.name,
        file: batch.file,
        violations: extra.map((c) => ({
          column: c,
          rule: "unexpected_column",
          observed: "not in dataset.yaml",
          expected: `only ${[...known].join(", ")}`,
          rows: [1]
        }))
      })
    )
  }
  const rawFile = path.join(datasetDir(config, args.configDir), "data.csv")
  const rawBytes = yield* fs
    .readFile(rawFile)
    .pipe(Effect.mapError((e) => new UsageError({ message: `cannot read ${rawFile}: ${e.message}` })))
  const rawHeader = rawHeaderOf(rawBytes)
  const cells = batch.cells!
  const n = cells.rows
  const target = cells.columns.find((c) => c.name === spec.target)
  const strata =
    config.task_type === "classification" && target !== undefined && !isNumeric(target)
      ? Array.from(target.codes, (k) => (k < 0 ? null : target.dictionary[k]!))
      : undefined
  const idx = splitIndices(n, { train: 1 - args.holdout, val: args.holdout, test: 0 }, config.random_seed, strata)
  if (idx.train.length === 0 || idx.val.length === 0) {
    return yield* Effect.fail(
      new UsageError({
        message: `the batch has ${n} rows: too few to split into a training part and a held-out set with --holdout ${args.holdout}`
      })
    )
  }
  // The batch's rows in the raw file's column order, appended to the raw bytes (in pieces, never one string).
  const merged = collect(mergedCsv(rawBytes, cells, rawHeader, idx.train))
  const holdout = collect(holdoutCsv(cells, rawHeader, idx.val))

  // Production's score on the held-out drifted rows: the "before" of the before/after at the gate.
  const ref = yield* deployedReference(config)
  const inputs = ref.bundle.featureMap.input_features.map((f) => f.name)
  const sub = takeFrameRows(batch.frame, idx.val) as Frame
  const p = yield* predictFrame(ref.bundle, {
    rows: sub.rows,
    columns: inputs.map((name) => sub.columns.find((c) => c.name === name)!)
  })
  const y = targetVector(sub, spec.target, ref.bundle.featureMap.classes)
  const metrics = scorePredictions(
    config.task_type,
    y,
    p.predictions,
    p.proba,
    ref.bundle.featureMap.classes?.length ?? 0,
    positiveClassIndex(ref.bundle.featureMap.classes, spec.positive_class)
  )

  const nowMs = yield* Clock.currentTimeMillis
  const id = uuidv7(nowMs)
  const files = stagingKeys(config.dataset, id)
  const staging: Staging = {
    format: "driftgate.staging/1",
    id,
    created_at: new Date(nowMs).toISOString(),
    actor: args.actor,
    dataset: config.dataset,
    base_version: sha256Hex(rawBytes),
    merged_version: merged.sha256,
    merged_key: files.merged,
    holdout_key: files.holdout,
    batch: {
      file: batch.file,
      sha256: batch.sha256,
      rows: n,
      train_rows: idx.train.length,
      holdout_rows: idx.val.length,
      holdout: args.holdout
    },
    baseline: { model: ref.name, version: ref.version.version, run_id: ref.version.runId, metrics }
  }
  yield* storage.writeOnce(staging.merged_key, merged.pieces)
  yield* storage.writeOnce(staging.holdout_key, holdout.pieces)
  yield* storage.write(files.record, JSON.stringify(staging, null, 2) + "\n")
  // staged.json last: until it exists, nothing uses the staging.
  yield* storage.write(stagingKey(config.dataset), JSON.stringify(staging, null, 2) + "\n")
  yield* storage.append(
    stagingHistoryKey(config.dataset),
    JSON.stringify({ at: staging.created_at, action: "staged", id, by: args.actor, batch: batch.file }) + "\n"
  )
  return staging
})

/** `drift unstage-training`: the next run uses the original dataset version again. */
export const unstageTraining = Effect.fn("program.unstageTraining")(function* (args: {
  readonly config: PipelineConfig
  readonly id?: string | undefined
  readonly actor: string
}) {
  const storage = yield* Storage
  const active = yield* activeStaging(args.config.dataset)
  if (active === null) return yield* Effect.fail(new NotStaged({ dataset: args.config.dataset }))
  if (args.id !== undefined && args.id !== active.id) {
    return yield* Effect.fail(new NotStaged({ dataset: args.config.dataset, asked: args.id, active: active.id }))
  }
  yield* storage.remove(stagingKey(args.config.dataset))
  const at = new Date(yield* Clock.currentTimeMillis).toISOString()
  yield* storage.append(
    stagingHistoryKey(args.config.dataset),
    JSON.stringify({ at, action: "unstaged", id: active.id, by: args.actor }) + "\n"
  )
  return active
})
