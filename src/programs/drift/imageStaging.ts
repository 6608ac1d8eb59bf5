import { Clock, Effect } from "effect"
import * as path from "node:path"
import type { PipelineConfig } from "../../domain/config.js"
import { ContractViolation, UsageError } from "../../domain/errors.js"
import { uuidv7 } from "../../domain/ids.js"
import { splitIndices } from "../../domain/split.js"
import type { Matrix } from "../../ml/matrix.js"
import { ImageCodec, type ImageBatch } from "../../services/ImageCodec.js"
import { Storage } from "../../services/Storage.js"
import { Trainer } from "../../services/Trainer.js"
import { imageDatasetVersion } from "../../vision/version.js"
import { scorePredictions } from "../evaluateStage.js"
import { stagingKey } from "../workspace.js"
import { loadDatasetSpec } from "./batch.js"
import type { Staging } from "./staging.js"
import { deployedModel } from "../deployed.js"

export interface StagedImage {
  /** Path in the merged dataset ("drift-<id>/<class>/<file>"). */
  readonly path: string
  /** Where the bytes are read from (the copy in the workspace when it is on disk). */
  readonly source: string
  readonly label: string
  readonly sha256: string
}

/** staged.json for an image dataset. */
export interface ImageStaging extends Omit<Staging, "merged_key" | "holdout_key"> {
  readonly kind: "images"
  readonly train_files: ReadonlyArray<StagedImage>
  readonly holdout_files: ReadonlyArray<StagedImage>
}

export const isImageStaging = (s: Staging | ImageStaging): s is ImageStaging => (s as ImageStaging).kind === "images"

const asMatrix = (b: ImageBatch): Matrix => ({
  rows: b.shape[0],
  cols: b.shape[1] * b.shape[2] * b.shape[3],
  data: b.data as unknown as Float64Array
})

/** Decodes staged images and scores a model on them (held-out drift evaluation). */
export const scoreImages = (
  model: Parameters<Trainer["Type"]["predict"]>[0],
  files: ReadonlyArray<StagedImage>,
  classes: ReadonlyArray<string>,
  props: NonNullable<import("../../domain/dataset.js").DatasetSpec["image_properties"]>
) =>
  Effect.gen(function* () {
    const codec = yield* ImageCodec
    const trainer = yield* Trainer
    const images = yield* codec.decode(
      files.map((f) => f.source),
      props
    )
    const p = yield* trainer.predict(model, asMatrix(images))
    const index = new Map(classes.map((c, i) => [c, i]))
    const y = Float64Array.from(files, (f) => index.get(f.label) ?? NaN)
    return scorePredictions("image_classification", y, p.predictions, p.proba, classes.length)
  })

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
  const violations = (yield* codec.validate(
    dir,
    { ...props, min_images_per_class: 1 },
    spec.constraints.label_classes
  )).filter((v) => v.rule !== "min_images_per_class")
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
  const base = `datasets/${config.dataset}/staging/${id}/images`
  const copy = (i: number) =>
    Effect.gen(function* () {
      const f = labelled[i]!
      const key = `${base}/${f.path}`
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
  const metrics = yield* scoreImages(model, holdoutFiles, classes, props)

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
  yield* storage.write(`datasets/${config.dataset}/staging/${id}/staging.json`, JSON.stringify(staging, null, 2) + "\n")
  yield* storage.write(stagingKey(config.dataset), JSON.stringify(staging, null, 2) + "\n")
  yield* storage.append(
    `datasets/${config.dataset}/staging/history.jsonl`,
    JSON.stringify({ at: staging.created_at, action: "staged", id, by: args.actor, batch: dir }) + "\n"
  )
  return staging
})
