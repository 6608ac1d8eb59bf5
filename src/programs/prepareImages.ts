import { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import * as path from "node:path"
import type { PipelineConfig } from "../domain/config.js"
import type { DatasetSpec } from "../domain/dataset.js"
import { ContractViolation, DatasetNotFound, StagingOutdated } from "../domain/errors.js"
import { canonicalHash } from "../domain/hash.js"
import { splitIndices } from "../domain/split.js"
import { ImageCodec } from "../services/ImageCodec.js"
import { Storage } from "../services/Storage.js"
import type { PreparedData, SplitInfo } from "./pipelineTypes.js"
import { datasetKeys, splitKeys } from "./workspace.js"
import type { ImageSplit } from "./workspaceJson.js"
import { activeStaging, isImageStaging } from "./drift/stagingState.js"
import { isRawPipeline, validateRawFolder } from "./rawImages.js"

export type { ImageSplit } from "./workspaceJson.js"

const counts = (labels: ReadonlyArray<string>) => {
  const out: Record<string, number> = {}
  for (const l of [...labels].sort()) out[l] = (out[l] ?? 0) + 1
  return out
}

/**
 * Image data preparation: byte-level version (SHA-256 over sorted relative paths and each file's
 * SHA-256), validation collecting every problem, a content-addressed snapshot of the files, and a
 * seeded stratified split written as lists of paths.
 */
export const prepareImages = Effect.fn("data.prepareImages")(function* (args: {
  readonly config: PipelineConfig
  readonly spec: DatasetSpec
  readonly specFile: string
  readonly dir: string
}) {
  const codec = yield* ImageCodec
  const storage = yield* Storage
  const fs = yield* FileSystem.FileSystem
  const { config, spec } = args
  const root = path.join(args.dir, "images")
  if (!(yield* fs.exists(root).pipe(Effect.orElseSucceed(() => false)))) {
    return yield* Effect.fail(
      new DatasetNotFound({
        dataset: config.dataset,
        path: root,
        message: "an image dataset keeps its files in images/<class>/"
      })
    )
  }
  const props = spec.image_properties!
  const violations = isRawPipeline(config)
    ? yield* validateRawFolder(root, props, spec.constraints.label_classes)
    : yield* codec.validate(root, props, spec.constraints.label_classes)
  const scan = yield* codec.scan(root).pipe(
    Effect.mapError(
      (e) =>
        new ContractViolation({
          dataset: config.dataset,
          file: root,
          violations: [
            {
              column: null,
              rule: "image_folder_readable",
              observed: e.message,
              expected: "a readable folder",
              rows: []
            }
          ]
        })
    )
  )
  const usable = scan.files.filter((f) => f.label !== null)
  const problems = [...violations]
  if (usable.length < spec.constraints.min_rows) {
    problems.push({
      column: null,
      rule: "min_rows",
      observed: `${usable.length} images`,
      expected: `at least ${spec.constraints.min_rows}`,
      rows: []
    })
  }
  if (problems.length > 0)
    return yield* Effect.fail(new ContractViolation({ dataset: config.dataset, file: root, violations: problems }))

  // A staged labelled drift batch joins the training data as a version of its own (raw images untouched).
  const staging = yield* activeStaging(config.dataset)
  const staged = staging !== null && isImageStaging(staging) ? staging : null
  if (staged !== null && staged.base_version !== scan.version) {
    return yield* Effect.fail(
      new StagingOutdated({
        dataset: config.dataset,
        id: staged.id,
        message: `${root} changed since drift training ${staged.id} was staged; run drift unstage-training and stage the batch again`
      })
    )
  }
  const all: ReadonlyArray<{ path: string; source: string; label: string; sha256: string }> = [
    ...usable.map((f) => ({ path: f.path, source: f.absolutePath, label: f.label!, sha256: f.sha256 })),
    ...(staged?.train_files ?? [])
  ]
  const version = staged?.merged_version ?? scan.version
  const keys = datasetKeys(config.dataset, version)
  let created = false
  for (const f of all) {
    const bytes = yield* fs.readFile(f.source).pipe(Effect.orDie)
    if (yield* storage.writeOnce(keys.image(f.path), bytes)) created = true
  }
  yield* storage.writeOnce(
    keys.manifest,
    JSON.stringify(
      {
        dataset: config.dataset,
        version,
        images: all.length,
        classes: scan.classes,
        source: root,
        ...(staged ? { staged_from: staged.id } : {}),
        files: all.map((f) => ({ path: f.path, sha256: f.sha256, label: f.label }))
      },
      null,
      2
    ) + "\n"
  )

  const splitSpec = {
    seed: config.random_seed,
    train: config.split.train,
    val: config.split.val,
    test: config.split.test,
    stratify: config.split.stratify,
    target: "label",
    images: true
  }
  const splitId = canonicalHash(splitSpec).slice(0, 16)
  const splitKey = keys.split(splitId)
  const splitFiles = splitKeys(splitKey)
  const labels = all.map((f) => f.label)
  const idx = splitIndices(all.length, config.split, config.random_seed, config.split.stratify ? labels : undefined)
  const info = (name: "train" | "val" | "test"): SplitInfo => {
    const ls = idx[name].map((i) => labels[i]!)
    return { key: splitFiles.list(name), rows: ls.length, labels: counts(ls) }
  }
  const splits = { train: info("train"), val: info("val"), test: info("test") }
  for (const name of ["train", "val", "test"] as const) {
    const split: ImageSplit = {
      paths: idx[name].map((i) => all[i]!.path),
      sources: idx[name].map((i) => all[i]!.source),
      labels: idx[name].map((i) => labels[i]!)
    }
    yield* storage.writeOnce(splits[name].key, JSON.stringify(split) + "\n")
  }
  yield* storage.writeOnce(
    splitFiles.spec,
    JSON.stringify(
      {
        split_id: splitId,
        dataset_version: version,
        ...splitSpec,
        rows: { train: splits.train.rows, val: splits.val.rows, test: splits.test.rows },
        label_distribution: { train: splits.train.labels, val: splits.val.labels, test: splits.test.labels }
      },
      null,
      2
    ) + "\n"
  )
  return {
    dataset: config.dataset,
    version,
    rawFile: root,
    spec,
    specFile: args.specFile,
    specCreated: false,
    snapshotKey: keys.manifest,
    snapshotCreated: created,
    rows: all.length,
    validation: { verdict: "passed" as const, nullFractions: {}, labels: counts(labels) },
    splitId,
    splitKey,
    splits,
    ...(staged ? { stagedFrom: staged.id } : {})
  } satisfies PreparedData
})
