/**
 * Raw (DNG) images for `image_format: raw_dng` pipelines: validation of a folder of DNGs (every file
 * and tag at fault, collected), and rendering through the ISP into the same NHWC [0, 1] batches the
 * sharp path gives, so training, evaluation, serving and drift take them unchanged.
 */
import { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import type { PipelineConfig } from "../domain/config.js"
import type { ImageProperties } from "../domain/dataset.js"
import { TrainingError, type Violation } from "../domain/errors.js"
import { type IspConfig, IspConfig as IspConfigSchema, type IspParams, ispParamsOf } from "../domain/isp.js"
import type { Rng } from "../domain/random.js"
import { Schema } from "effect"
import { ImageCodec, type ImageBatch } from "../services/ImageCodec.js"
import { decodeDng } from "../vision/dng/dng.js"
import { renderRaw } from "../vision/isp/pipeline.js"
import { resizeArea } from "../vision/isp/resize.js"
import type { RawImage } from "../vision/raw.js"

export const isRawPipeline = (config: PipelineConfig): boolean => config.image_format === "raw_dng"

/** The ISP section of a raw pipeline (defaults when absent). */
export const ispConfigOf = (config: PipelineConfig): IspConfig => config.isp ?? Schema.decodeSync(IspConfigSchema)({})

/** Renders one decoded raw to a [h, w, channels] image for the model. */
export const renderForModel = (
  raw: RawImage,
  props: Pick<ImageProperties, "target_size" | "channels">,
  params: IspParams,
  noise?: { readonly shot: number; readonly read: number; readonly rng: Rng }
): { ok: true; data: Float32Array } | { ok: false; message: string } => {
  const r = renderRaw(raw, params, noise)
  if (!r.ok) return r
  return { ok: true, data: resizeArea(r.image, props.target_size[0], props.target_size[1], props.channels) }
}

/** Decoded raws (in order) or the first file that fails, named with its tag. */
export const readRaws = (files: ReadonlyArray<string | Uint8Array>) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const out: Array<RawImage> = []
    for (const [i, f] of files.entries()) {
      const name = typeof f === "string" ? f : `image #${i}`
      const bytes =
        typeof f === "string"
          ? yield* fs
              .readFile(f)
              .pipe(Effect.mapError((e) => new TrainingError({ model: "isp", message: `${name}: ${e.message}` })))
          : f
      const d = decodeDng(bytes)
      if (!d.ok)
        return yield* Effect.fail(new TrainingError({ model: "isp", message: `${name}: ${d.tag}: ${d.message}` }))
      out.push(d.image)
    }
    return out
  })

/** Renders decoded raws into one NHWC batch. */
export const renderBatch = (
  raws: ReadonlyArray<RawImage>,
  props: Pick<ImageProperties, "target_size" | "channels">,
  params: IspParams,
  noise?: { readonly shot: number; readonly read: number; readonly rng: Rng },
  names?: ReadonlyArray<string>
): Effect.Effect<ImageBatch, TrainingError> =>
  Effect.suspend(() => {
    const [h, w] = props.target_size
    const size = h * w * props.channels
    const data = new Float32Array(raws.length * size)
    for (const [i, raw] of raws.entries()) {
      const r = renderForModel(raw, props, params, noise)
      if (!r.ok)
        return Effect.fail(new TrainingError({ model: "isp", message: `${names?.[i] ?? `image #${i}`}: ${r.message}` }))
      data.set(r.data, i * size)
    }
    return Effect.succeed({ data, shape: [raws.length, h, w, props.channels] as const })
  })

/** DNG files or uploaded bytes → an NHWC batch through the ISP (the raw twin of ImageCodec.decode). */
export const decodeRawFiles = (
  files: ReadonlyArray<string | Uint8Array>,
  props: Pick<ImageProperties, "target_size" | "channels">,
  params: IspParams
) =>
  Effect.flatMap(readRaws(files), (raws) =>
    renderBatch(
      raws,
      props,
      params,
      undefined,
      files.map((f, i) => (typeof f === "string" ? f : `image #${i}`))
    )
  )

/** Uploaded DNG bytes → an NHWC batch through the ISP (no file system needed). */
export const decodeRawBytes = (
  files: ReadonlyArray<Uint8Array>,
  props: Pick<ImageProperties, "target_size" | "channels">,
  params: IspParams
): Effect.Effect<ImageBatch, TrainingError> =>
  Effect.suspend(() => {
    const raws: Array<RawImage> = []
    for (const [i, bytes] of files.entries()) {
      const d = decodeDng(bytes)
      if (!d.ok) return Effect.fail(new TrainingError({ model: "isp", message: `image #${i}: ${d.tag}: ${d.message}` }))
      raws.push(d.image)
    }
    return renderBatch(raws, props, params)
  })

/** The pipeline's decoder: the ISP for raw pipelines, sharp for the others. */
export const decodePipelineImages = (config: PipelineConfig, files: ReadonlyArray<string>, props: ImageProperties) =>
  isRawPipeline(config)
    ? decodeRawFiles(files, props, ispParamsOf(ispConfigOf(config)))
    : Effect.flatMap(ImageCodec, (codec) => codec.decode(files, props))

/**
 * Every problem of a folder of DNGs at once: each file the reader or the ISP refuses (named with the
 * tag at fault), files outside class folders, unknown classes, classes with too few usable files.
 * Never fails.
 */
export const validateRawFolder = (
  root: string,
  props: ImageProperties,
  labelClasses: ReadonlyArray<string> | undefined,
  options?: { readonly allowFlat?: boolean }
): Effect.Effect<ReadonlyArray<Violation>, never, ImageCodec | FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const codec = yield* ImageCodec
    const fs = yield* FileSystem.FileSystem
    const scanned = yield* Effect.either(codec.scan(root))
    if (scanned._tag === "Left")
      return [
        {
          column: null,
          rule: "image_folder_readable",
          observed: scanned.left.message,
          expected: "a readable folder",
          rows: []
        }
      ]
    const scan = scanned.right
    const violations: Array<Violation> = []
    const usable = new Map<string, number>()
    const params = ispParamsOf(Schema.decodeSync(IspConfigSchema)({}))
    for (const f of scan.files) {
      if (f.label === null && options?.allowFlat !== true) {
        violations.push({
          column: f.path,
          rule: "image_outside_class_folder",
          observed: "a file directly in the image root",
          expected: "images/<class>/<file>.dng",
          rows: []
        })
        continue
      }
      const bytes = yield* Effect.either(fs.readFile(f.absolutePath))
      if (bytes._tag === "Left") {
        violations.push({
          column: f.path,
          rule: "dng_readable",
          observed: bytes.left.message,
          expected: "a DNG",
          rows: []
        })
        continue
      }
      const d = decodeDng(bytes.right)
      if (!d.ok) {
        violations.push({
          column: f.path,
          rule: "dng_readable",
          observed: `${d.tag}: ${d.message}`,
          expected: "a DNG driftgate can decode",
          rows: []
        })
        continue
      }
      // A tiny render proves the ISP takes the file (a non-Bayer CFA, say, is refused here, not in training).
      const r = renderForModel(d.image, { target_size: [1, 1], channels: 3 }, params)
      if (!r.ok) {
        violations.push({
          column: f.path,
          rule: "dng_renderable",
          observed: r.message,
          expected: "a Bayer or LinearRaw DNG",
          rows: []
        })
        continue
      }
      if (f.label !== null) usable.set(f.label, (usable.get(f.label) ?? 0) + 1)
    }
    if (labelClasses !== undefined) {
      for (const c of scan.classes)
        if (!labelClasses.includes(c))
          violations.push({
            column: c,
            rule: "unknown_class",
            observed: `class folder ${c}`,
            expected: `one of ${labelClasses.join(", ")}`,
            rows: []
          })
    }
    if (options?.allowFlat !== true) {
      for (const c of labelClasses ?? scan.classes) {
        const n = usable.get(c) ?? 0
        if (n < props.min_images_per_class)
          violations.push({
            column: c,
            rule: "min_images_per_class",
            observed: `${n} usable DNG files`,
            expected: `at least ${props.min_images_per_class}`,
            rows: []
          })
      }
    }
    return violations
  })
