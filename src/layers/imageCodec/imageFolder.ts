/**
 * The image-folder edge: `<root>/<class>/<file>` on disk -> digests, violations and decoded NHWC
 * tensors. Every failure is a value: scan and decode fail with ImageIoError, validation returns
 * the full list of violations (never fails), so a user fixes the folder once.
 */
import { Effect } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import type { Violation } from "../../domain/errors.js"
import type { ImageShape } from "../../vision/tensor.js"
import { imageDatasetVersion } from "../../vision/version.js"
import { ImageIoError, errorMessage } from "./errors.js"
import { loadSharp } from "./sharp.js"

/** dataset.yaml's `image_properties` (snake_case as written there). */
export interface ImageProperties {
  readonly expected_formats: ReadonlyArray<string>
  readonly min_images_per_class: number
  /** [height, width] the model takes. */
  readonly target_size?: readonly [number, number]
  readonly channels?: number
}

export interface ScannedImage {
  /** Relative to the root, "/"-separated: "bag/00023.png". */
  readonly path: string
  readonly absolutePath: string
  /** The class folder; null for a stray file directly under the root. */
  readonly label: string | null
  readonly sha256: string
  readonly bytes: number
}

export interface ImageFolderScan {
  readonly root: string
  /** Class folder names, sorted (code-unit order). */
  readonly classes: ReadonlyArray<string>
  /** Every non-hidden file under the root, sorted by path. */
  readonly files: ReadonlyArray<ScannedImage>
  /** imageDatasetVersion over files: the dataset_version lineage anchor. */
  readonly version: string
}

const byPath = <A extends { readonly path: string }>(a: A, b: A) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
const hidden = (name: string) => name.startsWith(".")

interface Listed {
  readonly path: string
  readonly absolutePath: string
  readonly label: string | null
}
interface Listing {
  readonly classes: ReadonlyArray<string>
  readonly files: ReadonlyArray<Listed>
}

/** Class folders and their files (recursively: nested folders count for their top-level class). */
const listFolder = (root: string): Effect.Effect<Listing, ImageIoError> =>
  Effect.tryPromise({
    try: async () => {
      const abs = path.resolve(root)
      const top = await fs.readdir(abs, { withFileTypes: true })
      const classes: string[] = []
      const files: Listed[] = []
      const walk = async (dir: string, rel: string, label: string) => {
        for (const e of await fs.readdir(dir, { withFileTypes: true })) {
          if (hidden(e.name)) continue
          const p = path.join(dir, e.name)
          const r = `${rel}/${e.name}`
          const st = e.isSymbolicLink() ? await fs.stat(p) : e
          if (st.isDirectory()) await walk(p, r, label)
          else if (st.isFile()) files.push({ path: r, absolutePath: p, label })
        }
      }
      for (const e of top) {
        if (hidden(e.name)) continue
        const p = path.join(abs, e.name)
        const st = e.isSymbolicLink() ? await fs.stat(p) : e
        if (st.isDirectory()) {
          classes.push(e.name)
          await walk(p, e.name, e.name)
        } else if (st.isFile()) files.push({ path: e.name, absolutePath: p, label: null })
      }
      classes.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      files.sort(byPath)
      return { classes, files }
    },
    catch: (e) => new ImageIoError({ op: "list", path: root, message: errorMessage(e) })
  })

const readBytes = (f: Listed) =>
  Effect.tryPromise({
    try: () => fs.readFile(f.absolutePath),
    catch: (e) => new ImageIoError({ op: "read", path: f.absolutePath, message: errorMessage(e) })
  })

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex")

/** Every file's SHA-256 and the folder's byte-level version. */
export const scanImageFolder = (root: string): Effect.Effect<ImageFolderScan, ImageIoError> =>
  Effect.gen(function* () {
    const listing = yield* listFolder(root)
    const files = yield* Effect.forEach(
      listing.files,
      (f) => Effect.map(readBytes(f), (b): ScannedImage => ({ ...f, sha256: sha256(b), bytes: b.length })),
      { concurrency: 16 }
    )
    return { root: path.resolve(root), classes: listing.classes, files, version: imageDatasetVersion(files) }
  })

/** Decoder names as sharp reports them; the YAML may say jpg or tif. */
const canonicalFormat = (f: string): string => {
  const l = f.trim().toLowerCase()
  return l === "jpg" ? "jpeg" : l === "tif" ? "tiff" : l
}

type Probe =
  | {
      readonly ok: true
      readonly format: string
      readonly channels: number
      readonly width: number
      readonly height: number
    }
  | { readonly ok: false; readonly message: string }

/** Header and full pixel decode: a truncated file often has a valid header, so the pixels must be read too. */
const probe = (f: Listed): Effect.Effect<Probe> =>
  Effect.gen(function* () {
    const sharp = yield* loadSharp
    const bytes = yield* readBytes(f)
    return yield* Effect.tryPromise({
      try: async (): Promise<Probe> => {
        const meta = await sharp(bytes, { failOn: "error" }).metadata()
        await sharp(bytes, { failOn: "error" }).raw().toBuffer()
        return {
          ok: true,
          format: meta.format ?? "unknown",
          channels: meta.channels ?? 0,
          width: meta.width ?? 0,
          height: meta.height ?? 0
        }
      },
      catch: (e) => new ImageIoError({ op: "decode", path: f.absolutePath, message: errorMessage(e) })
    })
  }).pipe(Effect.catchAll((e) => Effect.succeed<Probe>({ ok: false, message: e.message })))

const violation = (column: string | null, rule: string, observed: string, expected: string): Violation => ({
  column,
  rule,
  observed,
  expected,
  rows: []
})

const plural = (k: number, one: string, many = `${one}s`) => `${k} ${k === 1 ? one : many}`
const examples = (paths: ReadonlyArray<string>, max = 10) =>
  paths.slice(0, max).join(", ") + (paths.length > max ? `, … (${paths.length - max} more)` : "")

/**
 * Every problem of an image folder at once: unreadable or corrupt files, a decoded format not in
 * expected_formats (whatever the extension says), files outside a class folder, class folders not
 * in labelClasses, classes with fewer than min_images_per_class usable images (missing folders
 * included), and mixed channel counts. Per-file violations name the file (relative to the root)
 * in `column`. An empty list means the folder is fit to decode. labelClasses undefined or empty:
 * the folders found are the classes.
 */
export const validateImageFolder = (
  root: string,
  properties: ImageProperties,
  labelClasses?: ReadonlyArray<string>,
  /** allowFlat: images directly in the root are fine (an unlabelled drift batch); they are still probed. */
  options: { readonly allowFlat?: boolean } = {}
): Effect.Effect<ReadonlyArray<Violation>> =>
  Effect.gen(function* () {
    const listed = yield* Effect.either(listFolder(root))
    if (listed._tag === "Left") {
      return [
        violation(
          null,
          "image_folder_readable",
          `${root}: ${listed.left.message}`,
          "a readable folder of class folders"
        )
      ]
    }
    const { classes, files } = listed.right
    const out: Violation[] = []
    const expected = new Set(properties.expected_formats.map(canonicalFormat))
    const expectedText = `one of ${properties.expected_formats.join(", ")}`
    const probes = yield* Effect.forEach(files, (f) => Effect.map(probe(f), (p) => [f, p] as const), { concurrency: 8 })

    const usable = new Map<string, number>()
    const byChannels = new Map<number, string[]>()
    for (const [f, p] of probes) {
      if (f.label === null && options.allowFlat !== true) {
        out.push(
          violation(
            f.path,
            "image_outside_class_folder",
            `${f.path} lies directly in the image root`,
            "every image inside a class folder <root>/<class>/"
          )
        )
        continue
      }
      if (!p.ok) {
        out.push(
          violation(
            f.path,
            "image_readable",
            `${f.path} cannot be decoded: ${p.message}`,
            `a complete image in ${expectedText}`
          )
        )
        continue
      }
      const fmt = canonicalFormat(p.format)
      if (!expected.has(fmt)) {
        out.push(violation(f.path, "image_format", `${f.path} decodes as ${p.format}`, expectedText))
      } else if (f.label !== null) {
        usable.set(f.label, (usable.get(f.label) ?? 0) + 1)
      }
      const list = byChannels.get(p.channels) ?? []
      list.push(f.path)
      byChannels.set(p.channels, list)
    }

    const declared = labelClasses !== undefined && labelClasses.length > 0 ? labelClasses : classes
    const declaredSet = new Set(declared)
    for (const c of classes) {
      if (!declaredSet.has(c)) {
        out.push(
          violation(c, "unknown_class", `class folder ${c}/ is not in label_classes`, `one of ${declared.join(", ")}`)
        )
      }
    }
    const present = new Set(classes)
    const min = properties.min_images_per_class
    for (const c of declared) {
      const k = usable.get(c) ?? 0
      if (k < min) {
        out.push(
          violation(
            c,
            "min_images_per_class",
            present.has(c) ? `${plural(k, "usable image")} in ${c}/` : `no class folder ${c}/`,
            `at least ${min}`
          )
        )
      }
    }

    if (byChannels.size > 1) {
      const groups = [...byChannels.entries()].sort((a, b) => b[1].length - a[1].length || a[0] - b[0])
      const [majority] = groups[0]
      const minority = groups
        .slice(1)
        .map(([ch, ps]) => `${plural(ps.length, "file")} with ${plural(ch, "channel")} (${examples(ps)})`)
      out.push(
        violation(
          null,
          "mixed_channels",
          `${plural(groups[0][1].length, "file")} with ${plural(majority, "channel")}; ${minority.join("; ")}`,
          "the same channel count in every image"
        )
      )
    }
    return out
  })

export interface DecodedImages {
  /** NHWC, values in [0, 1] (byte / 255). */
  readonly data: Float32Array
  readonly shape: ImageShape
}

/**
 * Decode, resize and stack images into one NHWC Float32Array. Each image is auto-oriented (EXIF),
 * flattened onto black if it has alpha, resized to exactly [height, width] (fit "fill": aspect
 * ratio not kept, as torchvision's Resize((h, w))) with the fixed lanczos3 kernel, converted to
 * grey (channels 1) or sRGB (channels 3) as 8 bits, and scaled to [0, 1]. Same bytes, same sharp
 * build: same floats. Fails on the first file that cannot be decoded (validate first).
 */
export const decodeImages = (
  /** File paths, or the encoded bytes themselves (an upload). */
  files: ReadonlyArray<string | { readonly absolutePath: string } | Uint8Array>,
  targetSize: readonly [height: number, width: number],
  channels: 1 | 3,
  /** formats: refuse other decoded formats; maxPixels: refuse larger inputs (uploads), else sharp's default. */
  options: { readonly formats?: ReadonlyArray<string>; readonly maxPixels?: number } = {}
): Effect.Effect<DecodedImages, ImageIoError> =>
  Effect.gen(function* () {
    const [h, w] = targetSize
    if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0)) {
      return yield* Effect.fail(
        new ImageIoError({
          op: "decode",
          path: "",
          message: `target_size must be two positive integers; got [${h}, ${w}]`
        })
      )
    }
    const sharp = yield* loadSharp
    const size = h * w * channels
    const data = new Float32Array(files.length * size)
    yield* Effect.forEach(
      files,
      (f, i) => {
        const p = f instanceof Uint8Array ? `image #${i}` : typeof f === "string" ? f : f.absolutePath
        return Effect.tryPromise({
          try: async () => {
            const bytes = f instanceof Uint8Array ? f : await fs.readFile(p)
            const input = { failOn: "error" as const, autoOrient: true, limitInputPixels: options.maxPixels ?? true }
            if (options.formats !== undefined) {
              const format = canonicalFormat((await sharp(bytes, input).metadata()).format ?? "unknown")
              if (!options.formats.map(canonicalFormat).includes(format))
                throw new Error(`is ${format}, expected one of ${options.formats.join(", ")}`)
            }
            const { data: raw, info } = await sharp(bytes, input)
              .flatten({ background: { r: 0, g: 0, b: 0 } })
              .resize({ width: w, height: h, fit: "fill", kernel: "lanczos3" })
              .toColourspace(channels === 1 ? "b-w" : "srgb")
              .raw({ depth: "uchar" })
              .toBuffer({ resolveWithObject: true })
            if (info.width !== w || info.height !== h || info.channels !== channels || raw.length !== size) {
              throw new Error(
                `decoded to ${info.width} x ${info.height} x ${info.channels}, expected ${w} x ${h} x ${channels}`
              )
            }
            const base = i * size
            for (let k = 0; k < size; k++) data[base + k] = raw[k] / 255
          },
          catch: (e) => new ImageIoError({ op: "decode", path: p, message: errorMessage(e) })
        })
      },
      { concurrency: 8, discard: true }
    )
    return { data, shape: [files.length, h, w, channels] as const }
  })
