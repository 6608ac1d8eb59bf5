import { Effect } from "effect"
import { TrainingError } from "../domain/errors.js"
import type { FeatureMap } from "../domain/featureMap.js"
import { canonicalHash } from "../domain/hash.js"
import { writeCsv } from "../domain/table.js"
import { type ColumnTransformerState, fitColumnTransformer, transformFrame } from "../ml/preprocess.js"
import { Storage } from "../services/Storage.js"
import { classesOf, featureFrame, readFrame } from "./splitData.js"
import type { PipelineContext } from "./stages.js"
import { datasetKeys } from "./workspace.js"

export interface Preprocessed {
  readonly key: string
  readonly transform: ColumnTransformerState
  readonly transformHash: string
  readonly featureMap: FeatureMap
  readonly unknownCategories: Readonly<Record<string, Readonly<Record<string, number>>>>
}

const mlError = (e: unknown) => new TrainingError({ model: "preprocessing", message: e instanceof Error ? e.message : String(e) })

/**
 * Fits the column transformer on train only, applies it to val and test, and writes preprocessed/
 * plus feature_map.json — the input contract for serving and drift.
 */
export const preprocessStage = Effect.fn("stage.preprocessing")(function* (ctx: PipelineContext) {
  const storage = yield* Storage
  const p = ctx.prepared!
  const spec = p.spec
  const columns = [...spec.features, spec.target]
  const train = yield* readFrame(p.splits.train.key, spec, columns)
  const trainX = featureFrame(train, spec.features)
  const transform = yield* Effect.try({ try: () => fitColumnTransformer(trainX, ctx.config.preprocessing), catch: mlError })
  const transformHash = canonicalHash(transform)
  const key = datasetKeys(p.dataset, p.version).preprocessed(p.splitId, transformHash)
  const classes = ctx.config.task_type === "classification" ? classesOf(spec, Object.keys(p.validation.labels ?? {})) : null

  const unknownCategories: Record<string, Record<string, number>> = {}
  for (const split of ["train", "val", "test"] as const) {
    const frame = split === "train" ? train : yield* readFrame(p.splits[split].key, spec, columns)
    const t = yield* Effect.try({ try: () => transformFrame(transform, featureFrame(frame, spec.features)), catch: mlError })
    unknownCategories[split] = t.unknownCategories
    const targetCol = frame.columns.find((c) => c.name === spec.target)!
    const rows: Array<Array<string | null>> = []
    for (let i = 0; i < frame.rows; i++) {
      const r: Array<string | null> = []
      for (let j = 0; j < t.matrix.cols; j++) r.push(String(t.matrix.data[i * t.matrix.cols + j]))
      const v = targetCol.values[i]
      r.push(v === null || v === undefined ? null : String(v))
      rows.push(r)
    }
    yield* storage.writeOnce(`${key}/${split}.csv`, writeCsv([...t.featureNames, spec.target], rows))
  }

  const numericRange = (name: string) => {
    const c = train.columns.find((x) => x.name === name)!
    if (c.dtype !== "float" && c.dtype !== "int") return {}
    let min = Infinity, max = -Infinity
    for (const v of c.values) if (!Number.isNaN(v)) { if (v < min) min = v; if (v > max) max = v }
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
        nullable: ctx.config.preprocessing.impute !== "none"
      }
    }),
    output_features: transform.featureNames,
    transform_hash: transformHash,
    preprocessing: ctx.config.preprocessing
  }
  yield* storage.write(`${key}/feature_map.json`, JSON.stringify(featureMap, null, 2) + "\n")
  yield* storage.write(`${key}/transform.json`, JSON.stringify(transform) + "\n")
  ctx.artifacts.preprocessed = { key, transform, transformHash, featureMap, unknownCategories } satisfies Preprocessed
  return {
    preprocessed: key,
    features_in: spec.features.length,
    features_out: transform.featureNames.length,
    transform_hash: transformHash,
    unknown_categories: unknownCategories
  }
})
