import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { inflateSync } from "node:zlib"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { rng } from "../../src/domain/random.js"
import { decodeDng, readDngMetadata } from "../../src/vision/dng/dng.js"
import { type DngWriteOptions, writeDng } from "../tools/dngWriter.js"

const root = new URL("../..", import.meta.url).pathname
const fixtures = join(root, "tests/fixtures/raw")
const HEADER = "/work/shared/data/raw_dng/exiftool_canon350d_header_only.dng"
const read = (p: string): Uint8Array => new Uint8Array(readFileSync(p))

interface LibrawEntry {
  readonly width?: number
  readonly height?: number
  readonly sum?: number
  readonly sha256?: string
  readonly error?: string
}
// LibRaw 0.20.2's raw planes (tests/tools/libraw_reference.py): independent of this decoder.
const libraw = JSON.parse(readFileSync(join(fixtures, "libraw_reference.json"), "utf8")) as {
  readonly files: Record<string, LibrawEntry>
  readonly planes: Record<string, string>
}
const manifest = JSON.parse(readFileSync(join(fixtures, "dng/manifest.json"), "utf8")) as Record<
  string,
  { top: number; left: number; width: number; height: number }
>
const plane = (rel: string): Uint16Array => {
  const b = Buffer.from(libraw.planes[rel], "base64")
  return new Uint16Array(b.buffer, b.byteOffset, b.length / 2)
}
const decoded = (bytes: Uint8Array): Uint16Array => {
  const r = decodeDng(bytes)
  if (!r.ok) throw new Error(`${r.tag}: ${r.message}`)
  return r.image.data
}
const sha = (d: Uint16Array): string => {
  const le = Buffer.alloc(d.length * 2)
  for (let i = 0; i < d.length; i++) le.writeUInt16LE(d[i], 2 * i)
  return createHash("sha256").update(le).digest("hex")
}

describe("decoder values equal LibRaw's on every shipped DNG", () => {
  const dataset = Object.keys(libraw.files).filter((f) => f.startsWith("data/"))

  it("covers the whole dataset, both encodings", () => {
    expect(dataset.length).toBe(300)
    const lj = dataset.filter((f) => readDngMetadata(read(join(root, f))).ok && /_\d\d[13579]\.dng$/.test(f))
    expect(lj.length).toBe(150)
  })

  it("data/raw/dng_scenes: every file's plane (SHA-256 and sum)", () => {
    for (const rel of dataset) {
      const ref = libraw.files[rel]
      const d = decoded(read(join(root, rel)))
      expect(d.length, rel).toBe(ref.width! * ref.height!)
      let sum = 0
      for (const v of d) sum += v
      expect(sum, rel).toBe(ref.sum)
      expect(sha(d), rel).toBe(ref.sha256)
    }
  })

  it.each(Object.keys(manifest))("fixture %s: LibRaw's plane cropped to ActiveArea + DefaultCrop", (name) => {
    const m = manifest[name]
    const rel = `tests/fixtures/raw/dng/${name}.dng`
    const r = decodeDng(read(join(root, rel)))
    if (!r.ok) throw new Error(r.message)
    expect([r.image.meta.width, r.image.meta.height]).toEqual([m.width, m.height])
    // LibRaw 0.20.2 cannot unpack uncompressed tiles ("Input/output error"): the same mosaic is in the strip fixture.
    const refRel = libraw.files[rel].error !== undefined ? "tests/fixtures/raw/dng/u16_le_strips.dng" : rel
    const ref = plane(refRel)
    const W = libraw.files[refRel].width!
    for (let y = 0; y < m.height; y++)
      for (let x = 0; x < m.width; x++)
        if (r.image.data[y * m.width + x] !== ref[(y + m.top) * W + x + m.left])
          throw new Error(
            `${name}: (${x}, ${y}) is ${r.image.data[y * m.width + x]}, LibRaw ${ref[(y + m.top) * W + x + m.left]}`
          )
  })

  it("the one fixture LibRaw 0.20.2 refuses is the uncompressed tiled one", () => {
    const refused = Object.entries(libraw.files).filter(([, e]) => e.error !== undefined)
    expect(refused.map(([f]) => f)).toEqual(["tests/fixtures/raw/dng/u16_tiles.dng"])
  })
})

describe("metadata of the real Canon EOS 350D header (against LibRaw's raw-identify -v)", () => {
  const ident = readFileSync(join(fixtures, "raw_identify_350d.txt"), "utf8")
  const lines = ident.split("\n")
  const after = (title: string, n: number): Array<number> =>
    lines
      .slice(lines.indexOf(title) + 1, lines.indexOf(title) + 1 + n)
      .join(" ")
      .trim()
      .split(/\s+/)
      .map(Number)
  const grab = (re: RegExp): RegExpMatchArray => {
    const m = ident.match(re)
    if (m === null) throw new Error(`raw-identify output lacks ${re}`)
    return m
  }
  const r = readDngMetadata(read(HEADER))
  if (!r.ok) throw new Error(r.message)
  const meta = r.meta
  // EXIF LightSource codes (EXIF 2.3 table): the names raw-identify prints.
  const LIGHT: Record<string, number> = { "Illuminant A": 17, D65: 21, D50: 23, Daylight: 1 }

  it("colour matrices and illuminants", () => {
    const cm1 = after("DNG color matrix 1:", 3)
    const cm2 = after("DNG color matrix 2:", 3)
    meta.colorMatrix1!.forEach((v, i) => expect(v).toBeCloseTo(cm1[i], 4))
    meta.colorMatrix2!.forEach((v, i) => expect(v).toBeCloseTo(cm2[i], 4))
    expect(meta.calibrationIlluminant1).toBe(LIGHT[grab(/DNG Illuminant 1: (.+)/)[1].trim()])
    expect(meta.calibrationIlluminant2).toBe(LIGHT[grab(/DNG Illuminant 2: (.+)/)[1].trim()])
  })

  it("as-shot white balance: LibRaw's multipliers are 1 / AsShotNeutral", () => {
    const [, r0, g0, b0] = grab(/As shot\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)/).map(Number)
    const n = meta.asShotNeutral!
    expect(1 / n[0]).toBeCloseTo(r0 / g0, 4)
    expect(1 / n[2]).toBeCloseTo(b0 / g0, 4)
    expect(n[1]).toBe(1)
  })

  it("size after DefaultCrop, CFA phase moved to the crop origin, camera, orientation", () => {
    const [, iw, ih, left, top] = grab(/Raw inset, width x height: (\d+) x (\d+) left: (\d+) top: (\d+)/).map(Number)
    expect([meta.width, meta.height]).toEqual([iw, ih])
    // The active area ends at the full image's right/bottom edges in this file, so its margins are
    // Full size − Image size; LibRaw's filter pattern is relative to the active area.
    const [, fw, fh] = grab(/Full size:\s+(\d+) x (\d+)/).map(Number)
    const [, aw, ah] = grab(/Image size:\s+(\d+) x (\d+)/).map(Number)
    const pattern = grab(/Filter pattern: ([RGB]{4})/)[1]
    const colour = { R: 0, G: 1, B: 2 } as const
    const dy = top - (fh - ah)
    const dx = left - (fw - aw)
    const expected = [0, 1, 2, 3].map((i) => {
      const y = ((i >> 1) + dy) % 2
      const x = ((i & 1) + dx) % 2
      return colour[pattern[y * 2 + x] as "R" | "G" | "B"]
    })
    expect(meta.cfaPattern).toEqual(expected)
    expect([meta.cfaRows, meta.cfaCols]).toEqual([2, 2])
    expect(meta.camera).toBe(grab(/UniqueCameraModel: =([^=]+)=/)[1])
    expect(meta.orientation).toBe(Number(grab(/Image flip: (\d+)/)[1]) === 0 ? 1 : -1)
    const [, br, bc] = grab(/BlackLevelRepeatDim: (\d+) x (\d+)/).map(Number)
    expect([meta.blackRows, meta.blackCols]).toEqual([br, bc])
    expect(meta.kind).toBe("cfa")
  })

  it("decoding the header-only file fails naming the tile tag (its pixel data was stripped)", () => {
    const d = decodeDng(read(HEADER))
    expect(d.ok).toBe(false)
    if (!d.ok) expect(d.tag).toBe("TileOffsets")
  })
})

// ---------- round trips through the independent writer ----------

const noise = (n: number, bits: number, seed: number): Uint16Array => {
  const r = rng(seed)
  const d = new Uint16Array(n)
  // Smooth ramps plus noise: realistic differences, with rare full-range jumps.
  for (let i = 0; i < n; i++)
    d[i] = i % 97 === 0 ? r.int(2 ** bits) : Math.min(2 ** bits - 1, ((i * 13) % 2 ** Math.min(bits, 10)) + r.int(64))
  return d
}

describe("round trips through tests/tools/dngWriter.ts", () => {
  const W = 37
  const H = 29
  const cases: Array<[string, Partial<DngWriteOptions>]> = []
  for (const bps of [8, 10, 12, 14, 16]) {
    cases.push([`${bps}-bit uncompressed strips`, { bitsPerSample: bps, rowsPerStrip: 4 }])
    cases.push([`${bps}-bit uncompressed big-endian tiles`, { bitsPerSample: bps, bigEndian: true, tile: [16, 16] }])
    cases.push([`${bps}-bit LJ92`, { bitsPerSample: bps, compression: "lj92" }])
  }
  for (let p = 1; p <= 7; p++) {
    cases.push([
      `LJ92 predictor ${p}, restarts every 3 rows`,
      { bitsPerSample: 14, compression: "lj92", predictor: p, restartRows: 3 }
    ])
    cases.push([
      `LJ92 predictor ${p}, 16-bit tiles`,
      { bitsPerSample: 16, compression: "lj92", predictor: p, tile: [16, 16] }
    ])
  }
  cases.push([
    "LJ92 with two components per JPEG pixel",
    { bitsPerSample: 12, compression: "lj92", tile: [16, 16], ljComponents: 2 }
  ])
  cases.push(["raw in IFD0", { bitsPerSample: 16, subIfd: false }])
  for (const bps of [8, 16]) {
    cases.push([`${bps}-bit deflate`, { bitsPerSample: bps, compression: "deflate" }])
    cases.push([
      `${bps}-bit deflate with horizontal differencing`,
      { bitsPerSample: bps, compression: "deflate", horizontalDifferencing: true, tile: [16, 16] }
    ])
  }

  it.each(cases)("CFA %s", (_name, o) => {
    const data = noise(W * H, o.bitsPerSample ?? 16, 7)
    const f = writeDng({ width: W, height: H, data, ...o })
    const r = decodeDng(f.bytes, { inflate: (b) => inflateSync(b) })
    if (!r.ok) throw new Error(`${r.tag}: ${r.message}`)
    expect(Buffer.from(r.image.data.buffer).equals(Buffer.from(data.buffer))).toBe(true)
    expect(r.image.meta.bitsPerSample).toBe(o.bitsPerSample ?? 16)
  })

  it.each([
    ["uncompressed", {}],
    ["LJ92, three components", { compression: "lj92" as const, predictor: 6 }],
    ["LJ92 tiles", { compression: "lj92" as const, tile: [16, 16] as const }]
  ])("LinearRaw %s: three samples per pixel, black and white per sample", (_n, o) => {
    const data = noise(W * H * 3, 12, 9)
    const f = writeDng({
      width: W,
      height: H,
      data,
      kind: "linear",
      bitsPerSample: 12,
      blackLevel: [10, 20, 30],
      whiteLevel: [4000, 4001, 4002],
      ...o
    })
    const r = decodeDng(f.bytes)
    if (!r.ok) throw new Error(r.message)
    expect(r.image.meta.kind).toBe("linear")
    expect(r.image.meta.cfaPattern).toEqual([])
    expect(r.image.meta.blackLevel).toEqual([10, 20, 30])
    expect(r.image.meta.whiteLevel).toEqual([4000, 4001, 4002])
    expect(Array.from(r.image.data)).toEqual(Array.from(data))
  })

  it("16-bit little-endian samples at an odd address decode the same (the unaligned path)", () => {
    const data = noise(W * H, 16, 11)
    const f = writeDng({ width: W, height: H, data, bitsPerSample: 16 })
    const shifted = new Uint8Array(f.bytes.length + 1)
    shifted.set(f.bytes, 1)
    const r = decodeDng(shifted.subarray(1))
    if (!r.ok) throw new Error(r.message)
    expect(Array.from(r.image.data)).toEqual(Array.from(data))
  })

  it("LJ92 point transform: the decoder shifts back what the encoder dropped", () => {
    const data = noise(W * H, 14, 12).map((v) => v & ~3)
    for (const predictor of [1, 4, 7]) {
      const f = writeDng({
        width: W,
        height: H,
        data,
        bitsPerSample: 14,
        compression: "lj92",
        pointTransform: 2,
        predictor
      })
      const r = decodeDng(f.bytes)
      if (!r.ok) throw new Error(r.message)
      expect(Array.from(r.image.data)).toEqual(Array.from(data))
    }
    const bad = writeDng({
      width: 8,
      height: 8,
      data: new Uint16Array(64),
      bitsPerSample: 12,
      compression: "lj92",
      pointTransform: 11
    })
    expect(decodeDng(bad.bytes)).toMatchObject({
      ok: false,
      tag: "StripByteCounts",
      message: expect.stringMatching(/point transform 11/)
    })
  })

  it("any size, depth, layout and encoding round-trips (property)", () => {
    fc.assert(
      fc.property(
        fc.record({
          width: fc.integer({ min: 1, max: 40 }),
          height: fc.integer({ min: 1, max: 40 }),
          bits: fc.integer({ min: 8, max: 16 }),
          encoding: fc.constantFrom("none", "lj92", "deflate"),
          predictor: fc.integer({ min: 1, max: 7 }),
          tile: fc.option(fc.tuple(fc.constantFrom(16, 32, 48), fc.constantFrom(16, 32, 48))),
          strip: fc.integer({ min: 1, max: 40 }),
          bigEndian: fc.boolean(),
          linear: fc.boolean(),
          seed: fc.nat()
        }),
        (o) => {
          const spp = o.linear ? 3 : 1
          const r = rng(o.seed)
          const data = Uint16Array.from({ length: o.width * o.height * spp }, () => r.int(2 ** o.bits))
          const f = writeDng({
            width: o.width,
            height: o.height,
            data,
            kind: o.linear ? "linear" : "cfa",
            bitsPerSample: o.encoding === "deflate" ? (o.bits > 8 ? 16 : 8) : o.bits,
            compression: o.encoding as "none" | "lj92" | "deflate",
            predictor: o.predictor,
            bigEndian: o.bigEndian,
            ...(o.tile === null ? { rowsPerStrip: o.strip } : { tile: o.tile })
          })
          const d = decodeDng(f.bytes, { inflate: (b) => inflateSync(b) })
          if (!d.ok) throw new Error(`${d.tag}: ${d.message}`)
          return d.image.data.length === data.length && d.image.data.every((v, i) => v === data[i])
        }
      ),
      { numRuns: 300, seed: 42 }
    )
  })

  it("deflate without an inflate function is refused naming Compression", () => {
    const f = writeDng({ width: 8, height: 8, data: noise(64, 16, 1), compression: "deflate" })
    expect(decodeDng(f.bytes)).toMatchObject({ ok: false, tag: "Compression" })
  })

  it("ActiveArea + DefaultCrop move the CFA and black-level phases and slice the deltas", () => {
    const data = noise(16 * 12, 12, 3)
    const deltaH = Array.from({ length: 12 }, (_, i) => i / 4)
    const deltaV = Array.from({ length: 10 }, (_, i) => -i / 2)
    const f = writeDng({
      width: 16,
      height: 12,
      data,
      bitsPerSample: 12,
      cfaPattern: [0, 1, 1, 2],
      blackLevel: [100, 101, 102, 103],
      blackRepeat: [2, 2],
      blackDeltaH: deltaH,
      blackDeltaV: deltaV,
      activeArea: [2, 4, 12, 16], // top, left, bottom, right: 12 × 10 active
      defaultCropOrigin: [1, 3], // x, y inside the active area
      defaultCropSize: [9, 6]
    })
    const r = decodeDng(f.bytes)
    if (!r.ok) throw new Error(r.message)
    const m = r.image.meta
    expect([m.width, m.height]).toEqual([9, 6])
    // Crop origin (x 1, y 3) is odd/odd in the RGGB repeat: the crop starts on a B site → BGGR.
    expect(m.cfaPattern).toEqual([2, 1, 1, 0])
    expect(m.blackLevel).toEqual([103, 102, 101, 100])
    expect(m.blackDeltaH).toEqual(deltaH.slice(1, 10))
    expect(m.blackDeltaV).toEqual(deltaV.slice(3, 9))
    for (let y = 0; y < 6; y++)
      for (let x = 0; x < 9; x++) expect(r.image.data[y * 9 + x]).toBe(data[(y + 5) * 16 + x + 5])
  })

  it("LinearizationTable maps the stored values", () => {
    const data = Uint16Array.from({ length: 64 }, (_, i) => i % 8)
    const table = [0, 10, 20, 40, 80, 160, 320, 640]
    const r = decodeDng(writeDng({ width: 8, height: 8, data, bitsPerSample: 8, linearizationTable: table }).bytes)
    if (!r.ok) throw new Error(r.message)
    expect(Array.from(r.image.data)).toEqual(Array.from(data, (v) => table[v]))
  })
})

// ---------- malformed files: ok: false naming the tag, never a throw or a hang ----------

const valid = (o: Partial<DngWriteOptions> = {}) =>
  writeDng({ width: 32, height: 24, data: noise(32 * 24, 12, 5), bitsPerSample: 12, ...o })
const u32 = (b: Uint8Array, at: number, v: number): Uint8Array => {
  const c = b.slice()
  new DataView(c.buffer).setUint32(at, v, true)
  return c
}
const nextPointer = (b: Uint8Array, ifdAt: number): number =>
  ifdAt + 2 + 12 * new DataView(b.buffer, b.byteOffset).getUint16(ifdAt, true)

const corrupt: Array<[string, () => Uint8Array, string, RegExp]> = [
  ["empty file", () => new Uint8Array(0), "TIFF header", /shorter than a TIFF header/],
  ["not a TIFF", () => new TextEncoder().encode("P5\n32 24\n65535\n0000000000"), "TIFF header", /byte-order/],
  ["IFD0 offset past the end", () => u32(valid().bytes, 4, 1 << 30), "IFD0 chain", /past the end/],
  [
    "truncated raw IFD",
    () => {
      const f = valid()
      return f.bytes.slice(0, f.rawIfdAt + 40)
    },
    "SubIFDs",
    /truncated IFD/
  ],
  [
    "loop in the IFD chain",
    () => {
      const f = valid()
      return u32(f.bytes, nextPointer(f.bytes, f.ifd0At), f.ifd0At)
    },
    "IFD0 chain",
    /loops back/
  ],
  [
    "SubIFD chain looping to IFD0",
    () => {
      const f = valid()
      return u32(f.bytes, nextPointer(f.bytes, f.rawIfdAt), f.ifd0At)
    },
    "SubIFDs",
    /loops back/
  ],
  [
    "strip offset past the end",
    () => valid({ rawTags: new Map([[273, [4, [1 << 24]]]]) }).bytes,
    "StripOffsets",
    /past the end/
  ],
  [
    "strip byte count past the end",
    () => valid({ rawTags: new Map([[279, [4, [1 << 20]]]]) }).bytes,
    "StripByteCounts",
    /past the end/
  ],
  [
    "strip shorter than its rows",
    () => valid({ rawTags: new Map([[279, [4, [100]]]]) }).bytes,
    "StripByteCounts",
    /cannot hold|need/
  ],
  [
    "lossless JPEG tile cut short",
    () => {
      // The tile's byte count cut to a third: the entropy-coded data then ends mid-scan.
      const n = Math.floor(lj92Length(valid({ compression: "lj92", tile: [32, 32] }).bytes) / 3)
      return valid({ compression: "lj92", tile: [32, 32], rawTags: new Map([[325, [4, [n]]]]) }).bytes
    },
    "TileByteCounts",
    /truncated|ends/
  ],
  [
    "unsupported compression",
    () => valid({ rawTags: new Map([[259, [3, [34713]]]]) }).bytes,
    "Compression",
    /34713 is not supported/
  ],
  ["32-bit float raw", () => valid({ rawTags: new Map([[339, [3, [3]]]]) }).bytes, "SampleFormat", /floating-point/],
  [
    "CYGM colours",
    () => valid({ cfaPattern: [0, 1, 3, 2], rawTags: new Map([[50710, [1, [0, 1, 2, 3]]]]) }).bytes,
    "CFAPattern",
    /colour 3/
  ],
  ["no DNGVersion", () => stripDngVersion(valid().bytes), "DNGVersion", /not a DNG/],
  [
    "huge declared size in a tiny file",
    () =>
      valid({
        compression: "lj92",
        rawTags: new Map([
          [256, [4, [60000]]],
          [257, [4, [60000]]],
          [278, [4, [60000]]]
        ])
      }).bytes,
    "StripByteCounts",
    /cannot hold a 60000×60000/
  ],
  ["ActiveArea outside the image", () => valid({ activeArea: [0, 0, 100, 100] }).bytes, "ActiveArea", /not inside/],
  [
    "DefaultCrop outside the active area",
    () => valid({ defaultCropOrigin: [10, 0], defaultCropSize: [30, 24] }).bytes,
    "DefaultCropSize",
    /do not fit/
  ],
  [
    "BlackLevel count wrong for its repeat",
    () => valid({ blackLevel: [1, 2, 3], blackRepeat: [2, 2] }).bytes,
    "BlackLevel",
    /BlackLevelRepeatDim/
  ]
]

/** Byte count of the single LJ92 tile in a writer file (its TileByteCounts value, read by hand). */
function lj92Length(b: Uint8Array): number {
  // The tile starts at offset 8 and ends with EOI (FF D9).
  for (let i = 8; i + 1 < b.length; i++) if (b[i] === 0xff && b[i + 1] === 0xd9) return i + 2 - 8
  throw new Error("no EOI")
}

/** Rename IFD0's DNGVersion entry (tag 50706) to an unused private tag. */
function stripDngVersion(b: Uint8Array): Uint8Array {
  const c = b.slice()
  const v = new DataView(c.buffer)
  const ifd0 = v.getUint32(4, true)
  const n = v.getUint16(ifd0, true)
  for (let i = 0; i < n; i++)
    if (v.getUint16(ifd0 + 2 + 12 * i, true) === 50706) v.setUint16(ifd0 + 2 + 12 * i, 65000, true)
  return c
}

describe("malformed DNGs", () => {
  it.each(corrupt)("%s → ok: false naming %s", (_name, make, tag, message) => {
    const bytes = make()
    const t0 = performance.now()
    const r = decodeDng(bytes)
    // A hang guard, not a speed target: these files are tiny, and the real timing lives in bench/isp.ts.
    expect(performance.now() - t0).toBeLessThan(1000)
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.tag).toBe(tag)
      expect(r.message).toMatch(message)
    }
  })

  it("the shipped corrupt corpus (tests/fixtures/raw/corrupt): each file refused naming its tag, well under a second", () => {
    const dir = join(fixtures, "corrupt")
    const expected = JSON.parse(readFileSync(join(dir, "expected_tags.json"), "utf8")) as Record<string, string>
    expect(Object.keys(expected).length).toBeGreaterThanOrEqual(8)
    for (const [file, tag] of Object.entries(expected)) {
      const t0 = performance.now()
      const r = decodeDng(read(join(dir, file)))
      expect(performance.now() - t0, file).toBeLessThan(1000)
      expect(r.ok, file).toBe(false)
      if (!r.ok) expect(r.tag, `${file}: ${r.message}`).toBe(tag)
    }
  })

  it("random truncations and byte flips of valid files never throw, and finish", () => {
    const seeds = [
      valid(),
      valid({ compression: "lj92", tile: [16, 16], restartRows: 2 }),
      valid({ bigEndian: true, bitsPerSample: 14 })
    ]
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 8 }),
        fc.option(fc.nat()),
        (which, flips, cut) => {
          const b = seeds[which].bytes.slice()
          for (const [at, v] of flips) b[at % b.length] = v
          const bytes = cut === null ? b : b.subarray(0, cut % b.length)
          const r = decodeDng(bytes)
          const m = readDngMetadata(bytes)
          return typeof r.ok === "boolean" && typeof m.ok === "boolean" && (r.ok || r.tag.length > 0)
        }
      ),
      { numRuns: 1500, seed: 15 }
    )
  })
})
