/**
 * Builds data/raw/dng_scenes (real photographs unprocessed to Canon EOS 350D raw, written as DNG) and
 * the decoder fixtures in tests/fixtures/raw/dng. Deterministic: fixed seeds, fixed crop positions.
 *
 *   npx tsx tests/tools/buildRawDataset.ts [--skimage <dir of scikit-image's data/>]
 *
 * scikit-image's sample photos come from Debian's python3-skimage package without installing it:
 *   apt-get download python3-skimage && dpkg-deb -x python3-skimage_*.deb /tmp/skimage-deb
 * (default --skimage /tmp/skimage-deb/usr/lib/python3/dist-packages/skimage/data).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import sharp from "sharp"
import { rng } from "../../src/domain/random.js"
import { readDngMetadata } from "../../src/vision/dng/dng.js"
import { type DngWriteOptions, writeDng } from "./dngWriter.js"
import { drawNoise, unprocess } from "./unprocess.js"

const args = process.argv.slice(2)
const skimage =
  args[args.indexOf("--skimage") + 1] && args.includes("--skimage")
    ? args[args.indexOf("--skimage") + 1]
    : "/tmp/skimage-deb/usr/lib/python3/dist-packages/skimage/data"
const shared = "/work/shared/data"
const root = new URL("../..", import.meta.url).pathname

/** Scenes (the class label) and their photographs. */
const SOURCES: ReadonlyArray<readonly [scene: string, file: string]> = [
  ["china", join(shared, "images/china.jpg")],
  ["flower", join(shared, "images/flower.jpg")],
  ["astronaut", join(skimage, "astronaut.png")],
  ["chelsea", join(skimage, "chelsea.png")],
  ["coffee", join(skimage, "coffee.png")],
  ["rocket", join(skimage, "rocket.jpg")]
]
const CROPS_PER_SCENE = 50
const SIZE = 64
const BLACK = 256
const WHITE = 4095

// The real camera: its D65 colour matrix and as-shot neutral from the shipped 350D DNG header.
const header = readDngMetadata(new Uint8Array(readFileSync(join(shared, "raw_dng/exiftool_canon350d_header_only.dng"))))
if (!header.ok) throw new Error(`350D header: ${header.message}`)
const cam = header.meta
const xyzToCamera = cam.calibrationIlluminant2 === 21 ? cam.colorMatrix2! : cam.colorMatrix1!
const neutral = cam.asShotNeutral!

const common = {
  blackLevel: [BLACK],
  whiteLevel: [WHITE],
  asShotNeutral: neutral,
  colorMatrix1: cam.colorMatrix1!,
  colorMatrix2: cam.colorMatrix2!,
  calibrationIlluminant1: cam.calibrationIlluminant1!,
  calibrationIlluminant2: cam.calibrationIlluminant2!,
  make: "Canon",
  model: "Canon EOS 350D DIGITAL",
  uniqueCameraModel: "Canon EOS 350D"
} satisfies Partial<DngWriteOptions>

const RGGB = [0, 1, 1, 2]

const load = async (file: string): Promise<{ rgb: Uint8Array; width: number; height: number }> => {
  const { data, info } = await sharp(file)
    .removeAlpha()
    .toColourspace("srgb")
    .raw()
    .toBuffer({ resolveWithObject: true })
  if (info.channels !== 3) throw new Error(`${file}: ${info.channels} channels`)
  return { rgb: new Uint8Array(data), width: info.width, height: info.height }
}

const cropRgb = (img: { rgb: Uint8Array; width: number }, x0: number, y0: number, w: number, h: number): Uint8Array => {
  const out = new Uint8Array(w * h * 3)
  for (let y = 0; y < h; y++)
    out.set(img.rgb.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + w) * 3), y * w * 3)
  return out
}

const main = async (): Promise<void> => {
  const dataset = join(root, "data/raw/dng_scenes/images")
  rmSync(dataset, { recursive: true, force: true })
  let files = 0
  let bytes = 0
  const firstCrop = new Map<string, Uint8Array>()
  for (const [s, [scene, file]] of SOURCES.entries()) {
    const img = await load(file)
    const r = rng(1500 + s)
    mkdirSync(join(dataset, scene), { recursive: true })
    for (let k = 0; k < CROPS_PER_SCENE; k++) {
      const x0 = r.int(img.width - SIZE + 1)
      const y0 = r.int(img.height - SIZE + 1)
      const rgb = cropRgb(img, x0, y0, SIZE, SIZE)
      if (k === 0) firstCrop.set(scene, rgb)
      const noise = drawNoise(r, 1e-4, 2e-3)
      const mosaic = unprocess(
        rgb,
        SIZE,
        SIZE,
        { xyzToCamera, asShotNeutral: neutral, gamma: 2.2, black: BLACK, white: WHITE, cfa: RGGB, ...noise },
        r
      )
      // Alternate the two encodings real DNGs use: uncompressed 16-bit strips, lossless JPEG tiles.
      const lj = k % 2 === 1
      const dng = writeDng({
        width: SIZE,
        height: SIZE,
        data: mosaic,
        cfaPattern: RGGB,
        ...common,
        ...(lj
          ? { compression: "lj92" as const, bitsPerSample: 12, tile: [32, 32] as const }
          : { bitsPerSample: 16, rowsPerStrip: 16 })
      })
      writeFileSync(join(dataset, scene, `${scene}_${String(k).padStart(3, "0")}.dng`), dng.bytes)
      files++
      bytes += dng.bytes.length
    }
  }
  console.log(`data/raw/dng_scenes: ${files} DNG files, ${(bytes / 1e6).toFixed(2)} MB`)

  // Decoder fixtures: one real crop (china) in every layout the reader handles; manifest says what each is.
  const fx = join(root, "tests/fixtures/raw/dng")
  rmSync(fx, { recursive: true, force: true })
  mkdirSync(fx, { recursive: true })
  const rgb = firstCrop.get("china")!
  const r = rng(77)
  const big = unprocess(
    rgb,
    SIZE,
    SIZE,
    {
      xyzToCamera,
      asShotNeutral: neutral,
      gamma: 2.2,
      black: BLACK,
      white: WHITE,
      cfa: RGGB,
      ...drawNoise(r, 1e-4, 2e-3)
    },
    r
  )
  const base = { width: SIZE, height: SIZE, data: big, cfaPattern: RGGB, ...common }
  const variants: Record<string, DngWriteOptions> = {
    u16_le_strips: { ...base, bitsPerSample: 16, rowsPerStrip: 7 },
    u16_be_ifd0: { ...base, bitsPerSample: 16, bigEndian: true, subIfd: false },
    u12_packed: { ...base, bitsPerSample: 12 },
    u14_packed_be: { ...base, bitsPerSample: 14, bigEndian: true },
    u16_tiles: { ...base, bitsPerSample: 16, tile: [16, 32] },
    lj92_strip: { ...base, compression: "lj92", bitsPerSample: 12 },
    lj92_restart: { ...base, compression: "lj92", bitsPerSample: 12, restartRows: 4 },
    lj92_tiles_16bit: { ...base, compression: "lj92", bitsPerSample: 16, tile: [48, 48] },
    active_area_crop: {
      ...base,
      bitsPerSample: 16,
      activeArea: [2, 4, 64, 64],
      defaultCropOrigin: [3, 1],
      defaultCropSize: [56, 58]
    },
    black_2x2: { ...base, bitsPerSample: 16, blackLevel: [250, 256, 257, 260], blackRepeat: [2, 2] }
  }
  // Two components per JPEG pixel (a CFA row coded as width/2 × 2, as some DNG writers do).
  variants.lj92_two_components = { ...base, compression: "lj92", bitsPerSample: 12, tile: [16, 64], ljComponents: 2 }
  variants.lj92_two_components_full_width = {
    ...base,
    compression: "lj92",
    bitsPerSample: 14,
    tile: [64, 32],
    ljComponents: 2
  }
  for (let p = 2; p <= 7; p++)
    variants[`lj92_predictor${p}`] = { ...base, compression: "lj92", bitsPerSample: 12, tile: [32, 32], predictor: p }
  const manifest: Record<string, unknown> = {}
  for (const [name, o] of Object.entries(variants)) {
    writeFileSync(join(fx, `${name}.dng`), writeDng(o).bytes)
    manifest[name] = {
      compression: o.compression ?? "none",
      bitsPerSample: o.bitsPerSample,
      // Stored-pixel rectangle the decoder returns (ActiveArea then DefaultCrop), for the LibRaw comparison.
      top: (o.activeArea?.[0] ?? 0) + (o.defaultCropOrigin?.[1] ?? 0),
      left: (o.activeArea?.[1] ?? 0) + (o.defaultCropOrigin?.[0] ?? 0),
      width: o.defaultCropSize?.[0] ?? SIZE - (o.activeArea?.[1] ?? 0),
      height: o.defaultCropSize?.[1] ?? SIZE - (o.activeArea?.[0] ?? 0)
    }
  }
  writeFileSync(join(fx, "manifest.json"), JSON.stringify(manifest, null, 1) + "\n")
  console.log(`tests/fixtures/raw/dng: ${Object.keys(variants).length} fixtures`)

  // A corrupt corpus (for the folder-level validation: every file named with its tag, exit 4).
  const bad = join(root, "tests/fixtures/raw/corrupt")
  rmSync(bad, { recursive: true, force: true })
  mkdirSync(bad, { recursive: true })
  const good = (o: Partial<DngWriteOptions> = {}) => writeDng({ ...base, bitsPerSample: 16, ...o })
  const u32 = (b: Uint8Array, at: number, v: number): Uint8Array => {
    const c = b.slice()
    new DataView(c.buffer).setUint32(at, v, true)
    return c
  }
  const next = (b: Uint8Array, ifdAt: number): number => ifdAt + 2 + 12 * new DataView(b.buffer).getUint16(ifdAt, true)
  const lj = good({ compression: "lj92", bitsPerSample: 12, tile: [64, 64] })
  const corpus: Record<string, readonly [Uint8Array, string]> = {
    truncated_ifd: [good().bytes.slice(0, good().rawIfdAt + 30), "SubIFDs"],
    truncated_pixels: [good({ rawTags: new Map([[279, [4, [SIZE * SIZE * 2 + 4096]]]]) }).bytes, "StripByteCounts"],
    offset_past_end: [good({ rawTags: new Map([[273, [4, [1 << 24]]]]) }).bytes, "StripOffsets"],
    ifd_loop: [u32(lj.bytes, next(lj.bytes, lj.ifd0At), lj.ifd0At), "IFD0 chain"],
    unsupported_compression: [good({ rawTags: new Map([[259, [3, [34892]]]]) }).bytes, "Compression"],
    float_raw: [good({ rawTags: new Map([[339, [3, [3]]]]) }).bytes, "SampleFormat"],
    lj92_cut: [
      good({ compression: "lj92", bitsPerSample: 12, tile: [64, 64], rawTags: new Map([[325, [4, [2000]]]]) }).bytes,
      "TileByteCounts"
    ],
    not_a_dng: [new TextEncoder().encode("this is not a DNG file\n"), "TIFF header"]
  }
  const expected: Record<string, string> = {}
  for (const [name, [bytes, tag]] of Object.entries(corpus)) {
    writeFileSync(join(bad, `${name}.dng`), bytes)
    expected[`${name}.dng`] = tag
  }
  writeFileSync(join(bad, "expected_tags.json"), JSON.stringify(expected, null, 1) + "\n")
  console.log(`tests/fixtures/raw/corrupt: ${Object.keys(corpus).length} malformed DNGs`)
}

await main()
