import { Effect } from "effect"
import { ContractViolation } from "../domain/errors.js"
import { sha256Hex } from "../domain/hash.js"
import { decodeTable } from "../domain/arrowIpc.js"
import { isNumeric } from "../domain/columnTable.js"
import type { Matrix } from "../ml/matrix.js"
import { Storage } from "../services/Storage.js"
import { Tracker } from "../services/Tracker.js"
import { Trainer } from "../services/Trainer.js"
import { Prompt } from "../services/Prompt.js"
import { DriftDetector } from "../services/DriftDetector.js"
import { featureFrame, readFrame } from "./splitData.js"
import { takeTable } from "./tableCache.js"
import { ImageCodec } from "../services/ImageCodec.js"
import { deployedModel } from "./deployed.js"
import type { PipelineContext, PreparedData, Preprocessed, Trained } from "./pipelineTypes.js"
import { artifactKeys, preprocessedKeys, type SplitPart } from "./workspace.js"
import { ImageSidecarSchema, readWorkspaceJson } from "./workspaceJson.js"

export type { Trained } from "./pipelineTypes.js"

const decodePreprocessed = Effect.fn("data.decodePreprocessed")(function* (key: string) {
  const storage = yield* Storage
  const bytes = yield* storage.read(key)
  return yield* Effect.try({
    try: () => decodeTable(bytes),
    catch: (e) =>
      new ContractViolation({
        dataset: key,
        file: storage.locate(key),
        violations: [
          { column: null, rule: "arrow_file", observed: String(e), expected: "a preprocessed Arrow file", rows: [] }
        ]
      })
  })
})

/**
 * Reads a preprocessed split (encoded features + raw target, Arrow IPC) as a row-major matrix (the
 * learners' layout, src/ml/matrix.ts) and a target vector (class indices for classification).
 */
export const readPreprocessed = Effect.fn("data.readPreprocessed")(function* (
  key: string,
  classes: ReadonlyArray<string> | null
) {
  const storage = yield* Storage
  const handed = takeTable(storage, storage.locate(key))
  const decoded = handed !== undefined ? { table: handed } : yield* decodePreprocessed(key)
  const { table } = decoded
  const n = table.rows
  const features = table.columns.slice(0, -1)
  const target = table.columns[table.columns.length - 1]!
  const p = features.length
  const cols: Float64Array[] = []
  for (const c of features) {
    if (!isNumeric(c)) return yield* Effect.die(new Error(`${key}: feature ${c.name} is not numeric`))
    cols.push(c.values)
  }
  // the columns as they are, and the row-major matrix laid out only when a learner asks for it (a
  // histogram gradient boosting fit reads the columns); on shared memory, so that a learner's worker
  // threads read it without a copy. Row by row: the matrix is written in order (a column at a time would
  // revisit every cache line p times)
  let rowMajor: Float64Array | undefined
  const layOut = (): Float64Array => {
    const data = new Float64Array(new SharedArrayBuffer(Math.max(1, n * p) * Float64Array.BYTES_PER_ELEMENT), 0, n * p)
    for (let i = 0, o = 0; i < n; i++) for (let j = 0; j < p; j++, o++) data[o] = cols[j]![i]!
    return data
  }
  const y = new Float64Array(n)
  const index = classes === null ? undefined : new Map(classes.map((c, i) => [c, i]))
  if (isNumeric(target)) {
    for (let i = 0; i < n; i++) {
      const v = target.values[i]!
      // a numeric label column (0/1) names its classes by their text, as the CSV did
      y[i] = index === undefined ? v : v !== v ? NaN : (index.get(String(v)) ?? NaN)
    }
  } else {
    const codeClass = target.dictionary.map((d) => (index === undefined ? Number(d) : (index.get(d) ?? NaN)))
    for (let i = 0; i < n; i++) {
      const k = target.codes[i]!
      y[i] = k < 0 ? NaN : codeClass[k]!
    }
  }
  const x: Matrix = {
    rows: n,
    cols: p,
    columns: cols,
    get data() {
      return (rowMajor ??= layOut())
    }
  }
  return { x, y, featureNames: features.map((c) => c.name) }
})

/** A preprocessed split as a matrix: encoded tabular features, or one flattened image per row. */
export const readSplit = Effect.fn("data.readSplit")(function* (
  pre: Preprocessed,
  split: SplitPart,
  classes: ReadonlyArray<string> | null
) {
  const files = preprocessedKeys(pre.key)
  if (pre.featureMap.image === undefined) return yield* readPreprocessed(files.table(split), classes)
  const storage = yield* Storage
  const codec = yield* ImageCodec
  const images = yield* codec.readTensor(yield* storage.read(files.tensor(split)))
  const side = yield* readWorkspaceJson(files.sidecar(split), ImageSidecarSchema, "preprocessed image split sidecar")
  const index = new Map((classes ?? []).map((c, i) => [c, i]))
  const [n, h, w, c] = images.shape
  const y = Float64Array.from(side.labels, (l) => index.get(l) ?? NaN)
  return {
    x: { rows: n, cols: h * w * c, data: images.data as unknown as Float64Array } as Matrix,
    y,
    featureNames: pre.featureMap.output_features as ReadonlyArray<string>
  }
})

/**
 * Fits the configured learner on the preprocessed train split and writes the artifact under
 * artifacts/<run-id>/model/ (keyed by run: a later run on the same data never overwrites it).
 */
export const trainStage = Effect.fn("stage.training")(function* (
  ctx: PipelineContext,
  prepared: PreparedData,
  pre: Preprocessed
) {
  const storage = yield* Storage
  const tracker = yield* Tracker
  const trainer = yield* Trainer
  const detector = yield* DriftDetector
  const codec = yield* ImageCodec
  const training = ctx.config.training!
  const classes = pre.featureMap.classes
  const { x, y, featureNames } = yield* readSplit(pre, "train", classes)
  const image = pre.featureMap.image
  const validation =
    image !== undefined && prepared.splits.val.rows > 0 ? yield* readSplit(pre, "val", classes) : undefined
  const initial = ctx.fineTune ? yield* productionModel(ctx) : undefined
  const prompt = yield* Prompt
  const bar =
    image !== undefined
      ? prompt.progress(`training ${training.model}`, (training.params as { epochs?: number }).epochs ?? 1)
      : undefined
  const t0 = performance.now()
  const model = yield* trainer
    .fit({
      kind: training.model,
      task: ctx.config.task_type === "regression" ? "regression" : "classification",
      params: training.params,
      x,
      y,
      featureNames,
      seed: ctx.config.random_seed,
      ...(classes !== null ? { nClasses: classes.length } : {}),
      ...(image !== undefined ? { imageShape: [image.height, image.width, image.channels] as const } : {}),
      ...(validation !== undefined ? { validation: { x: validation.x, y: validation.y } } : {}),
      ...(initial !== undefined ? { initial: initial.model } : {}),
      ...(bar !== undefined
        ? { onProgress: (done: number, _total: number, text: string) => bar.update(done, text) }
        : {})
    })
    .pipe(Effect.ensuring(Effect.sync(() => bar?.stop())))
  const fitSeconds = (performance.now() - t0) / 1000
  const json = trainer.encode(model)
  const modelSha256 = sha256Hex(json)
  const keys = artifactKeys(ctx.runId)
  const metadata = {
    format: "driftgate.model_metadata/1",
    run_id: ctx.runId,
    pipeline: ctx.config.name,
    model_kind: training.model,
    task_type: ctx.config.task_type,
    params: training.params,
    random_seed: ctx.config.random_seed,
    dataset: pre.featureMap.dataset,
    dataset_version: pre.featureMap.dataset_version,
    split_id: prepared.splitId,
    transform_hash: pre.transformHash,
    feature_names: featureNames,
    classes,
    training_rows: x.rows,
    model_sha256: modelSha256,
    fit_info: model.info,
    lineage: { ...ctx.anchors },
    ...(initial !== undefined
      ? { fine_tuned_from: { model: initial.name, version: initial.version, run_id: initial.runId } }
      : {})
  }
  yield* storage.writeOnce(keys.model, json)
  yield* storage.writeOnce(keys.transform, JSON.stringify(pre.transform) + "\n")
  yield* storage.writeOnce(keys.featureMap, JSON.stringify(pre.featureMap, null, 2) + "\n")
  yield* storage.writeOnce(keys.metadata, JSON.stringify(metadata, null, 2) + "\n")
  // The drift reference travels with the model: monitoring never re-reads the training CSV.
  if (image === undefined) {
    // made by preprocessing from the same train rows (a workspace preprocessed before that has none yet)
    const made = preprocessedKeys(pre.key).profile(ctx.config.random_seed)
    if (yield* storage.exists(made)) yield* storage.writeOnce(keys.profile, yield* storage.read(made))
    else {
      const spec = prepared.spec
      const trainRaw = yield* readFrame(prepared.splits.train.key, spec, spec.features)
      const profile = yield* detector.profile(featureFrame(trainRaw, spec.features), ctx.config.random_seed)
      yield* storage.writeOnce(keys.profile, JSON.stringify(profile) + "\n")
    }
  } else {
    // Image drift reference: a seeded sample of training images (pixels; embeddings come from the model).
    const n = Math.min(x.rows, 300)
    const step = x.rows / n
    const rows = Array.from({ length: n }, (_, i) => Math.floor(i * step))
    const size = x.cols
    const sample = new Float32Array(n * size)
    rows.forEach((r, i) => sample.set((x.data as unknown as Float32Array).subarray(r * size, (r + 1) * size), i * size))
    yield* storage.writeOnce(
      keys.imageReference,
      codec.writeTensor({ data: sample, shape: [n, image.height, image.width, image.channels] })
    )
  }
  yield* tracker.logMetrics(ctx.runId, [
    { key: "training.fit_seconds", value: fitSeconds },
    { key: "training.rows", value: x.rows }
  ])
  yield* tracker.setTags(ctx.runId, {
    model_kind: training.model,
    model_sha256: modelSha256,
    transform_hash: pre.transformHash,
    ...(typeof model.info.backend === "string" ? { tf_backend: model.info.backend } : {}),
    ...(initial !== undefined ? { fine_tuned_from: `${initial.name}@${initial.version}` } : {})
  })
  for (const [name, key] of [
    ["model.json", keys.model],
    ["metadata.json", keys.metadata],
    ["transform.json", keys.transform],
    ["feature_map.json", keys.featureMap],
    [
      image === undefined ? "reference_profile.json" : "reference_images.dgt",
      image === undefined ? keys.profile : keys.imageReference
    ]
  ] as const) {
    yield* tracker.logArtifact(ctx.runId, { name, path: key, sha256: name === "model.json" ? modelSha256 : null })
  }
  const trained: Trained = { modelKey: keys.model, modelSha256 }
  return {
    trained,
    summary: {
      model: training.model,
      artifact: keys.dir,
      model_sha256: modelSha256,
      fit_seconds: Number(fitSeconds.toFixed(3)),
      rows: x.rows,
      ...model.info
    }
  }
})

/** run --fine-tune: the deployed model of this pipeline, whose weights the candidate starts from. */
const productionModel = (ctx: PipelineContext) =>
  Effect.map(
    deployedModel(ctx.config, "to start --fine-tune from; run without --fine-tune first"),
    ({ name, version, model }) => ({ name, version: version.version, runId: version.runId, model })
  )
