import { Effect, Option } from "effect"
import * as path from "node:path"
import type { SplitMetrics } from "../../domain/comparison.js"
import { canonicalHash } from "../../domain/hash.js"
import type { IspParams } from "../../domain/isp.js"
import { describeError } from "../../domain/describe.js"
import type { Frame } from "../../domain/table.js"
import type { ModelVersion } from "../../domain/registry.js"
import { takeFrameRows } from "../../ml/frame.js"
import { Storage } from "../../services/Storage.js"
import { Tracker } from "../../services/Tracker.js"
import { Trainer } from "../../services/Trainer.js"
import { requireVerifiedFiles } from "../artifactIntegrity.js"
import { loadBundle, type ModelBundle, predictFrame, specOfBundle } from "../modelBundle.js"
import type { PreparedData, Preprocessed, ProductionBaseline } from "../pipelineTypes.js"
import { decodeRawFiles } from "../rawImages.js"
import { imageMatrix, pickRows, positiveClassIndex, scorePredictions, trainedIsp } from "../scoring.js"
import { readFrame, targetVector } from "../splitData.js"
import { readSplit } from "../trainStage.js"
import { artifactKeys, datasetKeys, preprocessedKeys, type SplitPart, splitKeys } from "../workspace.js"
import { ImageSplitSchema, ImageSidecarSchema, ModelOriginSchema, readWorkspaceJson } from "../workspaceJson.js"

/** The candidate's predictions on each evaluated split, kept to score it again on a subset of rows. */
export type CandidatePredictions = Record<
  string,
  { readonly y: Float64Array; readonly predictions: Float64Array; readonly proba: Float64Array | undefined }
>

interface Rescored {
  readonly m: SplitMetrics
  readonly cm: SplitMetrics
  readonly rows: Record<string, { compared: number; total: number }>
}

/** A row's identity for leakage checks: its input cells and target, as text. */
const rowKey = (frame: Frame, inputs: ReadonlyArray<string>, target: string, i: number): string =>
  [...inputs, target]
    .map((n) => {
      const c = frame.columns.find((x) => x.name === n)
      const v = c?.values[i]
      return v === null || v === undefined || (typeof v === "number" && Number.isNaN(v)) ? "" : String(v)
    })
    .join("\u0001")

/** Where a model's training split lives, from its metadata.json. */
const trainingSplitOf = (runId: string) =>
  Effect.map(readWorkspaceJson(artifactKeys(runId).metadata, ModelOriginSchema, "model metadata file"), (meta) =>
    splitKeys(datasetKeys(meta.dataset, meta.dataset_version).split(meta.split_id))
  )

/** The rows a model was trained on (from its recorded split), as row keys. */
const trainingRowKeys = (bundle: ModelBundle, target: string) =>
  Effect.gen(function* () {
    const split = yield* trainingSplitOf(bundle.runId)
    const inputs = bundle.featureMap.input_features.map((f) => f.name)
    // index files over the Arrow snapshot; a workspace written before them has train.csv
    const storage = yield* Storage
    const key = (yield* storage.exists(split.rows("train"))) ? split.rows("train") : split.csv("train")
    const frame = yield* readFrame(key, specOfBundle(bundle), [...inputs, target])
    const out = new Set<string>()
    for (let i = 0; i < frame.rows; i++) out.add(rowKey(frame, inputs, target, i))
    return out
  })

/** The candidate on the kept rows of a split, scored like Production. */
const candidateOn = (
  task: string,
  c: CandidatePredictions[string],
  keep: ReadonlyArray<number>,
  nClasses: number,
  positive: number | undefined
) =>
  scorePredictions(
    task,
    pickRows(c.y, keep, 1),
    pickRows(c.predictions, keep, 1),
    c.proba ? pickRows(c.proba, keep, nClasses) : undefined,
    nClasses,
    positive
  )

/** Tabular: Production with its own fitted transform on the rows of this run's splits it did not train on. */
const rescoreTabular = (
  task: string,
  prepared: PreparedData,
  prodRunId: string,
  splits: ReadonlyArray<SplitPart>,
  candidate: CandidatePredictions,
  nClasses: number,
  positive: number | undefined
) =>
  Effect.gen(function* () {
    const bundle = yield* loadBundle(prodRunId)
    const spec = prepared.spec
    const inputs = bundle.featureMap.input_features.map((f) => f.name)
    const seen = yield* trainingRowKeys(bundle, spec.target)
    const out: Rescored = { m: {}, cm: {}, rows: {} }
    for (const split of splits) {
      const frame = yield* readFrame(prepared.splits[split].key, spec, [...inputs, spec.target])
      const keep: number[] = []
      for (let i = 0; i < frame.rows; i++) if (!seen.has(rowKey(frame, inputs, spec.target, i))) keep.push(i)
      out.rows[split] = { compared: keep.length, total: frame.rows }
      if (keep.length === 0) continue
      const sub = takeFrameRows(frame, keep)
      const p = yield* predictFrame(bundle, {
        rows: sub.rows,
        columns: inputs.map((n) => sub.columns.find((c) => c.name === n)!)
      })
      const y = targetVector(sub, spec.target, bundle.featureMap.classes)
      out.m[split] = scorePredictions(
        task,
        y,
        p.predictions,
        p.proba,
        bundle.featureMap.classes?.length ?? 0,
        positiveClassIndex(bundle.featureMap.classes, spec.positive_class)
      )
      out.cm[split] = candidateOn(task, candidate[split]!, keep, nClasses, positive)
    }
    return out
  })

/**
 * Images: Production on this run's evaluation images it did not train on (by relative path). A raw (DNG)
 * Production trained with other ISP parameters than this run's sees those images rendered with its own
 * ISP, as serving would render them, not the candidate's tensors.
 */
const rescoreImages = (
  pre: Preprocessed,
  prepared: PreparedData,
  prodRunId: string,
  candidate: CandidatePredictions,
  nClasses: number,
  positive: number | undefined
) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const trainer = yield* Trainer
    const trainSplit = yield* trainingSplitOf(prodRunId)
    const seen = new Set(
      (yield* readWorkspaceJson(trainSplit.list("train"), ImageSplitSchema, "image split list")).paths
    )
    const model = yield* Effect.flatMap(storage.readText(artifactKeys(prodRunId).model), trainer.decode)
    const candidateIsp = "isp" in pre.transform ? pre.transform.isp : undefined
    const prodIsp = candidateIsp === undefined ? Option.none<IspParams>() : yield* trainedIsp(prodRunId)
    const out: Rescored = { m: {}, cm: {}, rows: {} }
    for (const split of Object.keys(candidate) as Array<"val" | "test">) {
      const side = yield* readWorkspaceJson(
        preprocessedKeys(pre.key).sidecar(split),
        ImageSidecarSchema,
        "preprocessed image split sidecar"
      )
      const keep = side.paths.flatMap((p, i) => (seen.has(p) ? [] : [i]))
      out.rows[split] = { compared: keep.length, total: side.paths.length }
      if (keep.length === 0) continue
      const own = Option.isSome(prodIsp) && !sameIsp(prodIsp.value, candidateIsp) ? prodIsp : Option.none()
      const x = Option.isSome(own)
        ? yield* renderWith(
            prepared,
            split,
            keep.map((i) => side.paths[i]!),
            own.value
          )
        : yield* Effect.map(readSplit(pre, split, pre.featureMap.classes), ({ x: all }) => {
            const sub = new Float32Array(keep.length * all.cols)
            const data = all.data as unknown as Float32Array
            keep.forEach((r, k) => sub.set(data.subarray(r * all.cols, (r + 1) * all.cols), k * all.cols))
            return { rows: keep.length, cols: all.cols, data: sub as unknown as Float64Array }
          })
      const p = yield* trainer.predict(model, x)
      const y = pickRows(candidate[split]!.y, keep, 1)
      out.m[split] = scorePredictions("image_classification", y, p.predictions, p.proba, nClasses, positive)
      out.cm[split] = candidateOn("image_classification", candidate[split]!, keep, nClasses, positive)
    }
    return out
  })

const sameIsp = (a: IspParams, b: IspParams | undefined) => b !== undefined && canonicalHash(a) === canonicalHash(b)

/** The named images of one evaluation split, decoded from their DNGs through `isp` (Production's own). */
const renderWith = (prepared: PreparedData, split: SplitPart, paths: ReadonlyArray<string>, isp: IspParams) =>
  Effect.gen(function* () {
    const list = yield* readWorkspaceJson(prepared.splits[split].key, ImageSplitSchema, "image split list")
    const source = new Map(list.paths.map((p, i) => [p, list.sources?.[i] ?? path.join(prepared.rawFile, p)]))
    const files = paths.map((p) => source.get(p) ?? path.join(prepared.rawFile, p))
    return imageMatrix(yield* decodeRawFiles(files, prepared.spec.image_properties!, isp))
  })

/** What Production recorded when it was evaluated (val.* and test.* metrics of its run). */
const recordedMetrics = (runId: string) =>
  Effect.gen(function* () {
    const tracker = yield* Tracker
    const detail = yield* Effect.either(tracker.getRun(runId))
    const recorded: SplitMetrics = {}
    if (detail._tag === "Right") {
      for (const m of detail.right.metrics) {
        const [split, key] = m.key.split(".", 2)
        if ((split === "val" || split === "test") && key) (recorded[split] ??= {})[key] = m.value
      }
    }
    return recorded
  })

/**
 * Production re-scored with its own transform on this run's evaluation rows that it did not train
 * on, beside the candidate on the same rows. When that is impossible (its artifact is gone or
 * unreadable) nothing is compared: the baseline says why (relative rules then fail unless they allow
 * a missing baseline) and carries its recorded metrics for the report only.
 */
export const rescoreProduction = (args: {
  readonly task: string
  readonly prepared: PreparedData
  readonly preprocessed: Preprocessed
  readonly production: ModelVersion
  readonly splits: ReadonlyArray<SplitPart>
  readonly candidate: CandidatePredictions
  readonly nClasses: number
}) =>
  Effect.gen(function* () {
    const v = args.production
    // A tampered Production is refused, never replaced by its recorded metrics below.
    yield* requireVerifiedFiles(v)
    const positive = positiveClassIndex(args.preprocessed.featureMap.classes, args.prepared.spec.positive_class)
    const rescored = yield* Effect.either(
      args.preprocessed.featureMap.image !== undefined
        ? rescoreImages(args.preprocessed, args.prepared, v.runId, args.candidate, args.nClasses, positive)
        : rescoreTabular(args.task, args.prepared, v.runId, args.splits, args.candidate, args.nClasses, positive)
    )
    if (rescored._tag === "Right") {
      const baseline: ProductionBaseline = {
        version: v.version,
        runId: v.runId,
        metrics: rescored.right.m,
        candidateMetrics: rescored.right.cm,
        rows: rescored.right.rows,
        source: "re-scored with its own transform on this run's evaluation rows that it did not train on",
        unavailable: null
      }
      return { baseline, warning: null }
    }
    const reason = describeError(rescored.left)
    const baseline: ProductionBaseline = {
      version: v.version,
      runId: v.runId,
      metrics: {},
      candidateMetrics: {},
      rows: {},
      source: "not re-scored: nothing compared (its recorded metrics are shown for information only)",
      unavailable: reason,
      recorded: yield* recordedMetrics(v.runId)
    }
    return {
      baseline,
      warning: `Production version ${v.version} could not be re-scored on this data (${reason}): no rows were compared`
    }
  })
