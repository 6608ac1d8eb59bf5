import { FileSystem } from "@effect/platform"
import { Clock, Effect } from "effect"
import * as path from "node:path"
import { type PipelineConfig, registeredModelName, type Severity } from "../../domain/config.js"
import { ContractViolation, DriftInputError, DriftReferenceMissing, UsageError } from "../../domain/errors.js"
import { stampOf } from "./stamp.js"
import { mmdTest, type MmdResult } from "../../stats/mmd.js"
import { channelWasserstein, pyramidDiagnostics, type PyramidDiagnostics } from "../../stats/pyramid.js"
import { ImageCodec, type ImageBatch } from "../../services/ImageCodec.js"
import { deployedVersion } from "../deployed.js"
import { Storage } from "../../services/Storage.js"
import { Trainer } from "../../services/Trainer.js"
import { artifactKeys, driftKeys } from "../workspace.js"
import { imageMatrix } from "../scoring.js"
import { loadDatasetSpec } from "./batch.js"
import { recordDriftCheck } from "./monitor.js"
import { SEVERITY_ORDER, type DriftDecision } from "./report.js"
import { decodePipelineImages, ispConfigOf, isRawPipeline, validateRawFolder } from "../rawImages.js"
import { driftSignature, referenceRaws, scenarioEvidence, type ScenarioEvidence } from "./ispScenarios.js"
import { DRIFT_ACTIONS } from "./report.js"
import { renderSvgs } from "../reports/charts.js"
import { imageDriftChartSpecs, renderImageDriftHtml } from "./imageHtml.js"
import { imageDriftVisuals, pixelHistograms, type PixelHistograms } from "./imageVisuals.js"

/** Rows [0, n) of a batch, evenly spaced when it has more (deterministic). */
const sample = (b: ImageBatch, max: number): ImageBatch => {
  const [n, h, w, c] = b.shape
  if (n <= max) return b
  const size = h * w * c
  const out = new Float32Array(max * size)
  for (let i = 0; i < max; i++) {
    const r = Math.floor((i * n) / max)
    out.set(b.data.subarray(r * size, (r + 1) * size), i * size)
  }
  return { data: out, shape: [max, h, w, c] }
}

/**
 * `drift prepare-batch`: decodes a folder of images (flat, or class subfolders) exactly like
 * training (same size, channels, scaling) into a batch tensor file under drift/<model>/batches/.
 */
export const prepareImageBatch = Effect.fn("program.prepareImageBatch")(function* (args: {
  readonly config: PipelineConfig
  readonly configDir: string
  readonly inputDir: string
}) {
  const codec = yield* ImageCodec
  const storage = yield* Storage
  const fs = yield* FileSystem.FileSystem
  const spec = yield* loadDatasetSpec(args.config, args.configDir)
  if (spec.image_properties === undefined)
    return yield* Effect.fail(
      new UsageError({
        message: `drift prepare-batch is for image pipelines; ${args.config.name} is ${args.config.task_type}`
      })
    )
  const dir = path.resolve(args.inputDir)
  if (!(yield* fs.exists(dir).pipe(Effect.orElseSucceed(() => false))))
    return yield* Effect.fail(new UsageError({ message: `--input-dir ${dir} does not exist` }))
  // Flat folders and partial class sets are fine for a batch; unreadable files and wrong formats are not.
  const batchProps = { ...spec.image_properties, min_images_per_class: 1 }
  const problems = isRawPipeline(args.config)
    ? yield* validateRawFolder(dir, batchProps, undefined, { allowFlat: true })
    : (yield* codec.validate(dir, batchProps, undefined, { allowFlat: true })).filter(
        (v) => v.rule === "image_readable" || v.rule === "image_format"
      )
  if (problems.length > 0)
    return yield* Effect.fail(new ContractViolation({ dataset: spec.name, file: dir, violations: problems }))
  const scan = yield* codec.scan(dir)
  if (scan.files.length === 0) return yield* Effect.fail(new DriftInputError({ message: `${dir} holds no images` }))
  const batch = yield* decodePipelineImages(
    args.config,
    scan.files.map((f) => f.absolutePath),
    spec.image_properties
  )
  const model = registeredModelName(args.config)
  const stamp = stampOf(new Date(yield* Clock.currentTimeMillis).toISOString())
  const key = driftKeys(model).batch(stamp, "dgt")
  yield* storage.write(key, codec.writeTensor(batch))
  yield* storage.write(
    driftKeys(model).batch(stamp, "json"),
    JSON.stringify({
      source: dir,
      version: scan.version,
      paths: scan.files.map((f) => f.path),
      labels: scan.files.map((f) => f.label)
    }) + "\n"
  )
  return { batch: storage.locate(key), images: batch.shape[0], version: scan.version }
})

export interface ImageDriftReport {
  readonly format: "driftgate.image_drift_report/1"
  readonly id: string
  readonly created_at: string
  readonly model: string
  readonly version: number
  readonly run_id: string
  readonly batch: { readonly path: string; readonly images: number; readonly compared: number }
  readonly reference: { readonly images: number }
  readonly pixel_wasserstein: {
    readonly per_channel: ReadonlyArray<number>
    readonly max: number
    readonly severity: Severity
  }
  readonly embedding_mmd: Omit<MmdResult, "pValue"> & {
    readonly pValue: number
    readonly severity: Severity
    readonly drifted: boolean
  }
  readonly multiscale: PyramidDiagnostics
  /** Raw pipelines: which ISP scenario (camera or processing change) the batch looks like, if any. */
  readonly isp_scenarios?: ScenarioEvidence
  /** Per-channel pixel counts of the reference and the compared batch images. */
  readonly pixel_histograms: PixelHistograms
  readonly severity: Severity
  readonly drifted: boolean
  readonly decision: DriftDecision | null
  readonly files: { readonly json: string; readonly html: string }
}

const worst = (a: Severity, b: Severity): Severity => (SEVERITY_ORDER.indexOf(a) >= SEVERITY_ORDER.indexOf(b) ? a : b)

/**
 * Image drift of a prepared batch against the deployed CNN's reference images: per-channel pixel
 * Wasserstein, unbiased MMD² on the CNN's penultimate-layer embeddings with a seeded permutation
 * p-value, and a 3-level Gaussian pyramid read as fine-detail, mid-scale or global drift.
 */
export const monitorImageDrift = Effect.fn("program.imageDriftMonitor")(function* (args: {
  readonly config: PipelineConfig
  readonly batch: string
  readonly actor: string
}) {
  const storage = yield* Storage
  const codec = yield* ImageCodec
  const trainer = yield* Trainer
  const fs = yield* FileSystem.FileSystem
  const { config } = args
  const { name, version } = yield* deployedVersion(config, "to compare against")
  const keys = artifactKeys(version.runId)
  if (!(yield* storage.exists(keys.imageReference)))
    return yield* Effect.fail(
      new DriftReferenceMissing({ model: name, version: version.version, kind: "images", key: keys.imageReference })
    )
  const reference = yield* Effect.flatMap(storage.read(keys.imageReference), codec.readTensor)
  // A batch made by prepare-batch lives in the workspace; any other path is read from disk.
  const inWorkspace = args.batch.startsWith(storage.root.endsWith("/") ? storage.root : `${storage.root}/`)
  const file = inWorkspace ? args.batch : path.resolve(args.batch)
  const unreadable = () =>
    new UsageError({ message: `cannot read the batch ${file}; make one with drift prepare-batch --input-dir DIR` })
  const bytes: Uint8Array = inWorkspace
    ? yield* storage.read(args.batch.slice(storage.root.length).replace(/^\/+/, "")).pipe(Effect.mapError(unreadable))
    : yield* fs.readFile(file).pipe(Effect.mapError(unreadable))
  const full = yield* codec
    .readTensor(bytes)
    .pipe(Effect.mapError((e) => new DriftInputError({ message: `${file}: ${e.message}`, cause: e })))
  const [, rh, rw, rc] = reference.shape
  const [n, h, w, c] = full.shape
  if (h !== rh || w !== rw || c !== rc) {
    return yield* Effect.fail(
      new DriftInputError({
        message: `${file} holds ${h}×${w}×${c} images but the model takes ${rh}×${rw}×${rc}; prepare the batch with this config`
      })
    )
  }
  if (n < config.drift.min_batch_size) {
    return yield* Effect.fail(
      new DriftInputError({
        message: `The batch has ${n} images, fewer than min_batch_size ${config.drift.min_batch_size}, so drift was not computed.`
      })
    )
  }
  const t = config.drift.image
  const batch = sample(full, t.max_images)
  const model = yield* Effect.flatMap(storage.readText(keys.model), trainer.decode)
  const perChannel = Array.from(channelWasserstein(reference, batch))
  const maxW = Math.max(...perChannel)
  const wSeverity: Severity =
    maxW >= t.wasserstein_high
      ? "high"
      : maxW >= t.wasserstein_medium
        ? "medium"
        : maxW >= t.wasserstein_medium / 2
          ? "low"
          : "none"
  const refEmb = yield* trainer.embed(model, imageMatrix(reference))
  const batchEmb = yield* trainer.embed(model, imageMatrix(batch))
  const test = mmdTest(refEmb, batchEmb, { permutations: t.mmd_permutations, seed: config.random_seed })
  // The permutation test is always run here (permutations ≥ 10), so the p-value exists.
  const pValue = test.pValue ?? 1
  const mmd = { ...test, pValue }
  const mmdDrifted = pValue < t.mmd_p_value
  const mSeverity: Severity = !mmdDrifted
    ? "none"
    : pValue < t.mmd_p_value / 50 || pValue <= 1 / (t.mmd_permutations + 1)
      ? "high"
      : pValue < t.mmd_p_value / 5
        ? "medium"
        : "low"
  const multiscale = pyramidDiagnostics(reference, batch, { levels: 3 })
  const severity = worst(wSeverity, mSeverity)
  const drifted = severity !== "none"
  const raw = isRawPipeline(config)
  // Only a drifted batch needs explaining.
  const evidence: ScenarioEvidence | undefined =
    raw && drifted
      ? yield* scenarioEvidence({
          raws: yield* referenceRaws(version.runId, 60),
          props: { target_size: [rh, rw], channels: rc as 1 | 3 },
          isp: ispConfigOf(config),
          observed: driftSignature(reference, batch),
          seed: config.random_seed
        })
      : undefined
  const histograms = pixelHistograms(reference, batch)
  const visuals = imageDriftVisuals(reference, batch, multiscale.levels.length)
  // The page's charts; if they cannot be drawn the page has none, the check stands.
  const svgs = yield* renderSvgs(
    imageDriftChartSpecs({ pixel_histograms: histograms, multiscale, ...(evidence ? { isp_scenarios: evidence } : {}) })
  ).pipe(Effect.orElseSucceed(() => ({}) as Record<string, string>))
  const recorded = yield* recordDriftCheck({
    config,
    actor: args.actor,
    model: name,
    version: version.version,
    severity,
    history: {
      batch: file,
      rows: n,
      share: drifted ? 1 : 0,
      drifted_columns: (wSeverity !== "none" ? 1 : 0) + (mmdDrifted ? 1 : 0),
      columns: 2,
      dataset_drift: drifted
    },
    metrics: [
      { key: "drift.pixel_wasserstein_max", value: maxW },
      { key: "drift.mmd2", value: mmd.mmd2 },
      { key: "drift.mmd_p_value", value: mmd.pValue },
      { key: "drift.pyramid_ratio", value: multiscale.ratio },
      { key: "drift.rows", value: n }
    ],
    anchors: { model_run_id: version.runId },
    summary: `pixel Wasserstein ${maxW.toFixed(3)}, MMD² ${mmd.mmd2.toExponential(2)} (p ${mmd.pValue.toFixed(3)}), ${multiscale.reading} drift${evidence ? `; ISP scenarios: ${evidence.sentence}` : ""}`,
    ...(raw ? { actions: ["adjust_isp", ...DRIFT_ACTIONS] as const } : {}),
    render: (id, at, files, decision) => {
      const report: ImageDriftReport = {
        format: "driftgate.image_drift_report/1",
        id,
        created_at: at,
        model: name,
        version: version.version,
        run_id: version.runId,
        batch: { path: file, images: n, compared: batch.shape[0] },
        reference: { images: reference.shape[0] },
        pixel_wasserstein: { per_channel: perChannel, max: maxW, severity: wSeverity },
        embedding_mmd: { ...mmd, severity: mSeverity, drifted: mmdDrifted },
        multiscale,
        ...(evidence ? { isp_scenarios: evidence } : {}),
        pixel_histograms: histograms,
        severity,
        drifted,
        decision,
        files
      }
      return { json: report, html: renderImageDriftHtml(report, visuals, svgs) }
    }
  })
  return { report: recorded.report as ImageDriftReport, gate: recorded.gate }
})
