import { Effect } from "effect"
import { contractAllowsNulls } from "../domain/dataset.js"
import { TrainingError } from "../domain/errors.js"
import type { FeatureMap, ImageTransform } from "../domain/featureMap.js"
import { ImageCodec } from "../services/ImageCodec.js"
import * as path from "node:path"
import { canonicalHash } from "../domain/hash.js"
import { encodeTable } from "../domain/arrowIpc.js"
import { type ColumnTable, selectColumns, tableColumn, type TableColumn } from "../domain/columnTable.js"
import { fitColumnTransformer, transformFrameColumns } from "../ml/preprocess.js"
import { Storage } from "../services/Storage.js"
import { classesOf, readTable, tableToFrame } from "./splitData.js"
import { DriftDetector } from "../services/DriftDetector.js"
import type { PipelineContext, PreparedData, Preprocessed } from "./pipelineTypes.js"
import { datasetKeys, preprocessedKeys } from "./workspace.js"
import { handOverTable } from "./tableCache.js"
import { ImageSplitSchema, readWorkspaceJson } from "./workspaceJson.js"
import { decodePipelineImages, ispConfigOf, isRawPipeline } from "./rawImages.js"
import { ispParamsOf } from "../domain/isp.js"

export type { Preprocessed } from "./pipelineTypes.js"

const mlError = (e: unknown) =>
  new TrainingError({ model: "preprocessing", message: e instanceof Error ? e.message : String(e), cause: e })

/**
 * Fits the column transformer on train only, applies it to val and test, and writes preprocessed/
 * plus feature_map.json — the input contract for serving and drift.
 */
export const preprocessStage = Effect.fn("stage.preprocessing")(function* (ctx: PipelineContext, p: PreparedData) {
  if (ctx.config.task_type === "image_classification") return yield* preprocessImages(ctx, p)
  const storage = yield* Storage
  const spec = p.spec
  const columns = [...spec.features, spec.target]
  const train = yield* readTable(p.splits.train.key, spec, columns)
  const trainX = selectColumns(train, spec.features)
  const transform = yield* Effect.try({
    try: () => fitColumnTransformer(trainX, ctx.config.preprocessing),
    catch: mlError
  })
  const transformHash = canonicalHash(transform)
  const key = datasetKeys(p.dataset, p.version).preprocessed(p.splitId, transformHash)
  const files = preprocessedKeys(key)
  const classes =
    ctx.config.task_type === "classification" ? classesOf(spec, Object.keys(p.validation.labels ?? {})) : null

  // The drift reference of the raw train features, from the rows taken above (training copies it into the
  // model's artifacts): begun now, so that a large one is built beside the transforms below.
  const detector = yield* DriftDetector
  const profileKey = files.profile(ctx.config.random_seed)
  const profiling = (yield* storage.exists(profileKey))
    ? undefined
    : yield* detector.startProfile(tableToFrame(trainX), ctx.config.random_seed)

  const unknownCategories: Record<string, Record<string, number>> = {}
  for (const split of ["train", "val", "test"] as const) {
    // An empty val or test split (e.g. split: { train: 0.8, val: 0.2 }) has nothing to transform.
    if (split !== "train" && p.splits[split].rows === 0) continue
    const frame = split === "train" ? train : yield* readTable(p.splits[split].key, spec, columns)
    const t = yield* Effect.try({
      try: () => transformFrameColumns(transform, selectColumns(frame, spec.features)),
      catch: mlError
    })
    unknownCategories[split] = t.unknownCategories
    // the encoded features as Float64 columns (column-major, no copy), then the raw target as read
    const out: ColumnTable = {
      rows: frame.rows,
      columns: [
        ...t.featureNames.map((name, j): TableColumn => ({ name, dtype: "float", values: t.columns[j]! })),
        tableColumn(frame, spec.target)!
      ]
    }
    const created = yield* storage.writeOnce(files.table(split), encodeTable(out, { target: spec.target }))
    // training and evaluation take it from here instead of reading the file back (a file that was
    // already there, perhaps from another build, is read as it is)
    if (created) handOverTable(storage, storage.locate(files.table(split)), out)
  }

  const numericRange = (name: string) => {
    const c = tableColumn(train, name)!
    if (c.dtype !== "float" && c.dtype !== "int") return {}
    let min = Infinity,
      max = -Infinity
    // an indexed loop: for…of over a typed array goes through the iterator protocol (~10x slower)
    const values = c.values
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!
      if (v < min) min = v
      if (v > max) max = v
    }
    return Number.isFinite(min) ? { min, max } : {}
  }
  const featureMap: FeatureMap = {
    format: "driftgate.feature_map/1",
    dataset: p.dataset,
    dataset_version: p.version,
    task_type: ctx.config.task_type as "classification" | "regression",
    target: spec.target,
    classes,
    input_features: spec.features.map((name) => {
      const step = transform.steps.find((s) => s.name === name)
      return {
        name,
        dtype: spec.schema[name]!,
        ...(step?.kind === "categorical" ? { categories: step.categories } : {}),
        ...numericRange(name),
        // A request may send null only where it can be imputed and the contract allows empty cells (or the config says so).
        nullable:
          ctx.config.preprocessing.impute !== "none" &&
          (contractAllowsNulls(spec, name) || ctx.config.serving?.allow_nulls === true)
      }
    }),
    output_features: transform.featureNames,
    transform_hash: transformHash,
    preprocessing: ctx.config.preprocessing
  }
  yield* storage.write(files.featureMap, JSON.stringify(featureMap, null, 2) + "\n")
  yield* storage.write(files.transform, JSON.stringify(transform) + "\n")
  if (profiling !== undefined) {
    const profile = yield* profiling
    yield* storage.writeOnce(profileKey, JSON.stringify(profile) + "\n")
  }
  const preprocessed: Preprocessed = { key, transform, transformHash, featureMap, unknownCategories }
  return {
    preprocessed,
    summary: {
      preprocessed: key,
      features_in: spec.features.length,
      features_out: transform.featureNames.length,
      transform_hash: transformHash,
      unknown_categories: unknownCategories
    }
  }
})

/** Image preprocessing: decode and resize each split with sharp into a DGT1 tensor file + sidecar. */
const preprocessImages = (ctx: PipelineContext, p: PreparedData) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const codec = yield* ImageCodec
    const props = p.spec.image_properties!
    const transform: ImageTransform = {
      format: "driftgate.image_transform/1",
      target_size: props.target_size,
      channels: props.channels,
      scale: "x/255",
      ...(isRawPipeline(ctx.config) ? { isp: ispParamsOf(ispConfigOf(ctx.config)) } : {})
    }
    const transformHash = canonicalHash(transform)
    const key = datasetKeys(p.dataset, p.version).preprocessed(p.splitId, transformHash)
    const files = preprocessedKeys(key)
    const classes = classesOf(p.spec, Object.keys(p.validation.labels ?? {}))
    for (const split of ["train", "val", "test"] as const) {
      if (split !== "train" && p.splits[split].rows === 0) continue
      const s = yield* readWorkspaceJson(p.splits[split].key, ImageSplitSchema, "image split list")
      if (yield* storage.exists(files.sidecar(split))) continue
      const images = yield* decodePipelineImages(
        ctx.config,
        s.sources ?? s.paths.map((f) => path.join(p.rawFile, f)),
        props
      )
      yield* storage.writeOnce(files.tensor(split), codec.writeTensor(images))
      yield* storage.writeOnce(
        files.sidecar(split),
        JSON.stringify({ shape: images.shape, classes, labels: s.labels, paths: s.paths }) + "\n"
      )
    }
    const featureMap: FeatureMap = {
      format: "driftgate.feature_map/1",
      dataset: p.dataset,
      dataset_version: p.version,
      task_type: "image_classification",
      target: p.spec.target,
      classes,
      input_features: [{ name: "image", dtype: "string", nullable: false }],
      output_features: [`pixels[${props.target_size[0]}x${props.target_size[1]}x${props.channels}]`],
      transform_hash: transformHash,
      preprocessing: { scale: "x/255", impute: "none", encode: "none" },
      image: { height: props.target_size[0], width: props.target_size[1], channels: props.channels }
    }
    yield* storage.write(files.featureMap, JSON.stringify(featureMap, null, 2) + "\n")
    yield* storage.write(files.transform, JSON.stringify(transform) + "\n")
    const preprocessed: Preprocessed = { key, transform, transformHash, featureMap, unknownCategories: {} }
    return {
      preprocessed,
      summary: { preprocessed: key, image: featureMap.image, classes: classes.length, transform_hash: transformHash }
    }
  })
