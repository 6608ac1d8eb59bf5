import { Clock, Effect } from "effect"
import * as path from "node:path"
import type { PipelineConfig } from "../../domain/config.js"
import { ContractViolation, UsageError } from "../../domain/errors.js"
import { uuidv7 } from "../../domain/ids.js"
import { splitIndices } from "../../domain/split.js"
import type { ImageStaging, StagedImage } from "../../domain/staging.js"
import { ImageCodec } from "../../services/ImageCodec.js"
import { Storage } from "../../services/Storage.js"
import { imageDatasetVersion } from "../../vision/version.js"
import { deployedModel } from "../deployed.js"
import { isRawPipeline, validateRawFolder } from "../rawImages.js"
import { scoreImages } from "../scoring.js"
import { stagingHistoryKey, stagingKey, stagingKeys } from "../workspace.js"
import { loadDatasetSpec } from "./batch.js"

/**
 * stage-training for images: a labelled folder (class subfolders) is validated like training data,
 * split into a training part (joins the dataset as a new byte-level version, under drift-<id>/) and
 * a held-out drift set, and the deployed CNN's score on the held-out set is recorded as the baseline.
 */
export const stageImageTraining = Effect.fn("program.stageImageTraining")(function* (args: {
  readonly config: PipelineConfig
  readonly configDir: string
  readonly batch: string
  readonly holdout: number
  readonly actor: string
  readonly rawRoot: string
}) {
  const codec = yield* ImageCodec
  const storage = yield* Storage
  const { config } = args
  const spec = yield* loadDatasetSpec(config, args.configDir)
  const props = spec.image_properties!
  const dir = path.resolve(args.batch)
  // A drifted batch rarely covers every class: only unreadable files, wrong formats and unknown classes count.
  const batchProps = { ...props, min_images_per_class: 1 }
  const violations = (yield* isRawPipeline(config)
    ? validateRawFolder(dir, batchProps, spec.constraints.label_classes)
    : codec.validate(dir, batchProps, spec.constraints.label_classes)).filter((v) => v.rule !== "min_images_per_class")
  if (violations.length > 0)
    return yield* Effect.fail(new ContractViolation({ dataset: spec.name, file: dir, violations }))
  const scan = yield* codec.scan(dir)
  const labelled = scan.files.filter((f) => f.label !== null)
  if (labelled.length !== scan.files.length) {
    return yield* Effect.fail(
      new UsageError({ message: `${dir}: a labelled batch keeps each image in a folder named after its class` })
    )
  }
  const raw = yield* codec.scan(args.rawRoot)
  const idx = splitIndices(
    labelled.length,
    { train: 1 - args.holdout, val: args.holdout, test: 0 },
    config.random_seed,
    labelled.map((f) => f.label!)
  )
  if (idx.train.length === 0 || idx.val.length === 0) {
    return yield* Effect.fail(
      new UsageError({
        message: `the batch has ${labelled.length} images: too few to split with --holdout ${args.holdout}`
      })
    )
  }
  const nowMs = yield* Clock.currentTimeMillis
  const id = uuidv7(nowMs)
  const files = stagingKeys(config.dataset, id)
  const copy = (i: number) =>
    Effect.gen(function* () {
      const f = labelled[i]!
      const key = files.image(f.path)
      const bytes = new Uint8Array(
        yield* Effect.promise(() => import("node:fs/promises").then((m) => m.readFile(f.absolutePath)))
      )
      yield* storage.writeOnce(key, bytes)
      const local = storage.locate(key)
      return {
        path: `drift-${id}/${f.path}`,
        source: path.isAbsolute(local) ? local : f.absolutePath,
        label: f.label!,
        sha256: f.sha256
      } satisfies StagedImage
    })
  const trainFiles = yield* Effect.forEach(idx.train, copy)
  const holdoutFiles = yield* Effect.forEach(idx.val, copy)
  const merged = imageDatasetVersion([
    ...raw.files.filter((f) => f.label !== null).map((f) => ({ path: f.path, sha256: f.sha256 })),
    ...trainFiles.map((f) => ({ path: f.path, sha256: f.sha256 }))
  ])

  const { name, version: prod, model } = yield* deployedModel(config, "to measure the baseline with")
  const classes = [...(spec.constraints.label_classes ?? raw.classes)]
  const metrics = yield* scoreImages(config, prod.runId, model, holdoutFiles, classes, props)

  const staging: ImageStaging = {
    format: "driftgate.staging/1",
    kind: "images",
    id,
    created_at: new Date(nowMs).toISOString(),
    actor: args.actor,
    dataset: config.dataset,
    base_version: raw.version,
    merged_version: merged,
    batch: {
      file: dir,
      sha256: scan.version,
      rows: labelled.length,
      train_rows: trainFiles.length,
      holdout_rows: holdoutFiles.length,
      holdout: args.holdout
    },
    baseline: { model: name, version: prod.version, run_id: prod.runId, metrics },
    train_files: trainFiles,
    holdout_files: holdoutFiles
  }
  yield* storage.write(files.record, JSON.stringify(staging, null, 2) + "\n")
  yield* storage.write(stagingKey(config.dataset), JSON.stringify(staging, null, 2) + "\n")
  yield* storage.append(
    stagingHistoryKey(config.dataset),
    JSON.stringify({ at: staging.created_at, action: "staged", id, by: args.actor, batch: dir }) + "\n"
  )
  return staging
})
