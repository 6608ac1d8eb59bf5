import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import sharp from "sharp"
import { afterAll } from "vitest"
import { parse } from "yaml"
import { decodeImages, scanImageFolder, validateImageFolder } from "../../../src/layers/imageCodec/imageFolder.js"
import { imageDatasetVersion } from "../../../src/vision/version.js"
import { decodeGreyPng } from "./pngReference.js"

const repo = path.resolve(__dirname, "../../..")
const fmnist = path.join(repo, "data/raw/fashion_mnist")
const images = path.join(fmnist, "images")
const yaml = parse(fs.readFileSync(path.join(fmnist, "dataset.yaml"), "utf8"))
const realPng = (cls: string, k = 0) => path.join(images, cls, fs.readdirSync(path.join(images, cls)).sort()[k])

const temps: string[] = []
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "driftgate-images-"))
  temps.push(d)
  return d
}
afterAll(() => {
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true })
})
const put = (root: string, rel: string, bytes: Uint8Array) => {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
  fs.writeFileSync(path.join(root, rel), bytes)
}

describe("the shipped Fashion-MNIST folder", () => {
  it("dataset.yaml declares the image layout", () => {
    expect(yaml.task_type).toBe("image_classification")
    expect(yaml.features).toEqual(["image"])
    expect(yaml.schema).toEqual({ image: "string", label: "string" })
    expect(yaml.image_properties).toEqual({
      expected_formats: ["png", "jpg", "jpeg"],
      min_images_per_class: 50,
      target_size: [28, 28],
      channels: 1
    })
    expect(yaml.constraints.label_classes).toHaveLength(10)
  })

  it.effect("scans 10 x 120 files with their bytes' SHA-256 and a byte-level version", () =>
    Effect.gen(function* () {
      const scan = yield* scanImageFolder(images)
      expect(scan.classes).toEqual(yaml.constraints.label_classes)
      expect(scan.files).toHaveLength(1200)
      expect(scan.files.every((f) => f.label !== null && f.path.startsWith(`${f.label}/`))).toBe(true)
      const f = scan.files[0]
      expect(f.sha256).toBe(createHash("sha256").update(fs.readFileSync(f.absolutePath)).digest("hex"))
      expect(scan.version).toBe(imageDatasetVersion(scan.files))
      expect(yaml.constraints.min_rows).toBeLessThanOrEqual(scan.files.length)
    })
  )

  it.effect("passes its own validation", () =>
    Effect.gen(function* () {
      const v = yield* validateImageFolder(images, yaml.image_properties, yaml.constraints.label_classes)
      expect(v).toEqual([])
    })
  )
})

describe("dataset version", () => {
  it.effect("changes when one pixel changes, or a file is renamed; comes back with the bytes", () =>
    Effect.gen(function* () {
      const root = tempDir()
      for (const cls of ["bag", "coat"])
        for (const k of [0, 1])
          fs.copyFileSync(
            realPng(cls, k),
            path.join((fs.mkdirSync(path.join(root, cls), { recursive: true }), root), cls, `${k}.png`)
          )
      const v0 = (yield* scanImageFolder(root)).version
      const target = path.join(root, "bag", "0.png")
      const original = fs.readFileSync(target)
      const { data, info } = yield* Effect.promise(() =>
        sharp(original).toColourspace("b-w").raw().toBuffer({ resolveWithObject: true })
      )
      const encode = (px: Uint8Array) =>
        Effect.promise(() =>
          sharp(px, { raw: { width: info.width, height: info.height, channels: 1 } })
            .png()
            .toBuffer()
        )
      // re-encode both ways, so the only difference between the two files is the pixel
      const same = yield* encode(Uint8Array.from(data))
      const edited = Uint8Array.from(data)
      edited[14 * 28 + 14] ^= 1
      const changed = yield* encode(edited)
      fs.writeFileSync(target, same)
      const vSame = (yield* scanImageFolder(root)).version
      fs.writeFileSync(target, changed)
      const vPixel = (yield* scanImageFolder(root)).version
      expect(vPixel).not.toBe(vSame)
      fs.writeFileSync(target, original)
      expect((yield* scanImageFolder(root)).version).toBe(v0)
      fs.renameSync(target, path.join(root, "bag", "9.png"))
      expect((yield* scanImageFolder(root)).version).not.toBe(v0)
    })
  )

  it.effect("a missing folder is an ImageIoError value", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(scanImageFolder(path.join(tempDir(), "nope")))
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag).toBe("ImageIoError")
    })
  )
})

describe("validateImageFolder", () => {
  it.effect("reports every problem of a bad folder in one call", () =>
    Effect.gen(function* () {
      const root = tempDir()
      const grey = (cls: string, k: number) => fs.readFileSync(realPng(cls, k))
      for (const k of [0, 1, 2]) put(root, `a/g${k}.png`, grey("bag", k))
      put(root, "a/rgb.png", yield* Effect.promise(() => sharp(grey("bag", 3)).toColourspace("srgb").png().toBuffer()))
      const whole = grey("bag", 4)
      put(root, "a/truncated.png", whole.subarray(0, Math.floor(whole.length / 2)))
      put(root, "a/.DS_Store", new Uint8Array([1, 2, 3]))
      put(root, "b/g0.png", grey("coat", 0))
      put(
        root,
        "b/fake.png",
        yield* Effect.promise(() => sharp(grey("coat", 1)).toColourspace("b-w").jpeg().toBuffer())
      )
      for (const k of [0, 1, 2]) put(root, `zzz/g${k}.png`, grey("dress", k))
      put(root, "stray.png", grey("dress", 3))

      const v = yield* validateImageFolder(root, { expected_formats: ["png"], min_images_per_class: 3 }, [
        "a",
        "b",
        "c"
      ])
      const by = (rule: string) => v.filter((x) => x.rule === rule)
      expect(v.map((x) => `${x.rule}:${x.column}`).sort()).toEqual([
        "image_format:b/fake.png",
        "image_outside_class_folder:stray.png",
        "image_readable:a/truncated.png",
        "min_images_per_class:b",
        "min_images_per_class:c",
        "mixed_channels:null",
        "unknown_class:zzz"
      ])
      expect(by("image_format")[0].observed).toBe("b/fake.png decodes as jpeg")
      expect(by("min_images_per_class").map((x) => x.observed)).toEqual(["1 usable image in b/", "no class folder c/"])
      expect(by("mixed_channels")[0].observed).toBe("8 files with 1 channel; 1 file with 3 channels (a/rgb.png)")
      expect(v.every((x) => Array.isArray(x.rows) && x.rows.length === 0)).toBe(true)

      // the same JPEG is fine where jpg is expected, whatever its extension
      const ok = yield* validateImageFolder(root, { expected_formats: ["png", "jpg"], min_images_per_class: 1 }, [
        "a",
        "b",
        "zzz"
      ])
      expect(ok.map((x) => x.rule).sort()).toEqual(["image_outside_class_folder", "image_readable", "mixed_channels"])
    })
  )

  it.effect("an unreadable root is one violation, not a crash", () =>
    Effect.gen(function* () {
      const v = yield* validateImageFolder(
        path.join(tempDir(), "missing"),
        { expected_formats: ["png"], min_images_per_class: 1 },
        ["a"]
      )
      expect(v.map((x) => x.rule)).toEqual(["image_folder_readable"])
    })
  )
})

describe("decodeImages", () => {
  it.effect("decodes a real Fashion-MNIST PNG to its exact pixels / 255, NHWC", () =>
    Effect.gen(function* () {
      const files = [realPng("bag"), realPng("trouser", 5)]
      const d = yield* decodeImages(files, [28, 28], 1)
      expect(d.shape).toEqual([2, 28, 28, 1])
      for (const [i, f] of files.entries()) {
        const ref = decodeGreyPng(fs.readFileSync(f))
        expect([ref.width, ref.height]).toEqual([28, 28])
        for (let k = 0; k < 784; k++) expect(d.data[i * 784 + k]).toBe(Math.fround(ref.pixels[k] / 255))
      }
      expect(d.data.some((v) => v > 0.5)).toBe(true)
    })
  )

  it.effect("resizes deterministically, replicates grey into 3 channels, stays in [0, 1]", () =>
    Effect.gen(function* () {
      const files = [realPng("sneaker"), { absolutePath: realPng("coat", 2) }]
      const a = yield* decodeImages(files, [14, 20], 3)
      const b = yield* decodeImages(files, [14, 20], 3)
      expect(a.shape).toEqual([2, 14, 20, 3])
      expect(a.data).toEqual(b.data)
      expect(a.data.every((v) => v >= 0 && v <= 1)).toBe(true)
      for (let k = 0; k < a.data.length; k += 3) expect(a.data[k + 1]).toBe(a.data[k])
    })
  )

  it.effect("a corrupt file fails with an ImageIoError naming it", () =>
    Effect.gen(function* () {
      const root = tempDir()
      const whole = fs.readFileSync(realPng("bag"))
      put(root, "bad.png", whole.subarray(0, 60))
      const exit = yield* Effect.exit(decodeImages([path.join(root, "bad.png")], [28, 28], 1))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
        expect(exit.cause.error._tag).toBe("ImageIoError")
        expect(exit.cause.error.path).toContain("bad.png")
      } else expect.fail("expected a typed failure")
    })
  )
})
