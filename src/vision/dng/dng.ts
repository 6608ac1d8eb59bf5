/**
 * The DNG reader: finds the raw IFD (NewSubFileType 0, CFA or LinearRaw; usually a SubIFD), reads the
 * metadata the ISP needs (vision/raw.ts), decodes strips or tiles (uncompressed 8–16-bit, packed
 * 10/12/14-bit, or lossless JPEG), applies LinearizationTable, ActiveArea and DefaultCrop with the CFA
 * and black-level phases moved to the crop's origin. Pure: bytes in, a result out, never a throw.
 * Not applied (the ISP may read them later): OpcodeList1–3, DefaultScale, BaselineExposure, the
 * camera calibration matrices; the EXIF IFD is not walked.
 */
import type { CfaColor, RawImage, RawMetadata } from "../raw.js"
import { decodeLj92Into, lj92Frame } from "./lj92.js"
import { DngError, type Ifd, Tiff, tagName } from "./tiff.js"

export type DngResult =
  | { readonly ok: true; readonly image: RawImage }
  | { readonly ok: false; readonly tag: string; readonly message: string }

export type DngMetadataResult =
  | { readonly ok: true; readonly meta: RawMetadata }
  | { readonly ok: false; readonly tag: string; readonly message: string }

export interface DngOptions {
  /**
   * Inflate for Compression 8 (deflate), e.g. `(b) => zlib.inflateSync(b)`: this module does no I/O
   * and imports nothing native, so a caller that wants deflate DNGs passes it in.
   */
  readonly inflate?: (data: Uint8Array) => Uint8Array
}

const PHOTOMETRIC_CFA = 32803
const PHOTOMETRIC_LINEAR_RAW = 34892

/** Everything about the raw IFD needed to decode it and to describe the result. */
interface RawLayout {
  readonly tiff: Tiff
  readonly raw: Ifd
  readonly meta: RawMetadata
  /** Stored image size (before ActiveArea/DefaultCrop) and samples per pixel. */
  readonly fullWidth: number
  readonly fullHeight: number
  readonly spp: number
  readonly compression: number
  /** Crop rectangle in stored coordinates. */
  readonly top: number
  readonly left: number
}

const fail = (e: unknown): { ok: false; tag: string; message: string } =>
  e instanceof DngError
    ? { ok: false, tag: e.tag, message: e.message }
    : { ok: false, tag: "DNG", message: `unreadable DNG (${e instanceof Error ? e.message : String(e)})` }

/** The metadata only: no pixel data is read (a header-only DNG is fine). */
export const readDngMetadata = (bytes: Uint8Array): DngMetadataResult => {
  try {
    return { ok: true, meta: layout(bytes).meta }
  } catch (e) {
    return fail(e)
  }
}

/** Decode the raw image: sensor values as stored, cropped to ActiveArea and DefaultCrop. */
export const decodeDng = (bytes: Uint8Array, options: DngOptions = {}): DngResult => {
  try {
    const l = layout(bytes)
    const full = decodePixels(l, options)
    return { ok: true, image: { meta: l.meta, data: crop(l, full) } }
  } catch (e) {
    return fail(e)
  }
}

const findRawIfd = (tiff: Tiff): Ifd => {
  let best: Ifd | undefined
  let bestArea = -1
  for (const ifd of tiff.ifds) {
    if (tiff.int(ifd, 254, 0) !== 0) continue
    const photometric = tiff.int(ifd, 262, 0)
    if (photometric !== PHOTOMETRIC_CFA && photometric !== PHOTOMETRIC_LINEAR_RAW) continue
    const area = tiff.int(ifd, 256, 0) * tiff.int(ifd, 257, 0)
    if (area > bestArea) {
      best = ifd
      bestArea = area
    }
  }
  if (best === undefined)
    throw new DngError(
      "NewSubFileType",
      "no IFD holds a main raw image (NewSubFileType 0 with CFA or LinearRaw photometric)"
    )
  return best
}

const matrix = (tiff: Tiff, ifd: Ifd, tag: number): ReadonlyArray<number> | undefined => {
  if (!tiff.has(ifd, tag)) return undefined
  const m = tiff.numbers(ifd, tag)
  if (m.length !== 9)
    throw new DngError(tagName(tag), `${tagName(tag)} has ${m.length} values; a 3-colour camera needs 9`)
  return m
}

/** A tag that may sit in the raw IFD or, per DNG, in IFD0 (camera-wide); the raw IFD wins. */
const either = (tiff: Tiff, raw: Ifd, tag: number): Ifd => (tiff.has(raw, tag) ? raw : tiff.ifd0)

const layout = (bytes: Uint8Array): RawLayout => {
  const tiff = new Tiff(bytes)
  const ifd0 = tiff.ifd0
  if (!tiff.has(ifd0, 50706)) throw new DngError("DNGVersion", "IFD0 has no DNGVersion: this TIFF is not a DNG")
  const raw = findRawIfd(tiff)
  const photometric = tiff.int(raw, 262)
  const kind = photometric === PHOTOMETRIC_CFA ? "cfa" : "linear"
  const fullWidth = tiff.int(raw, 256)
  const fullHeight = tiff.int(raw, 257)
  if (fullWidth === 0 || fullHeight === 0)
    throw new DngError("ImageWidth", `the raw image is ${fullWidth}×${fullHeight}`)
  const spp = tiff.int(raw, 277, 1)
  if (kind === "cfa" && spp !== 1)
    throw new DngError("SamplesPerPixel", `a CFA raw has ${spp} samples per pixel (1 expected)`)
  if (kind === "linear" && spp !== 3)
    throw new DngError("SamplesPerPixel", `a LinearRaw image has ${spp} samples per pixel (3 supported)`)
  const sampleFormat = tiff.has(raw, 339) ? tiff.ints(raw, 339)[0] : 1
  if (sampleFormat === 3)
    throw new DngError("SampleFormat", "the raw image holds floating-point samples, which are not supported")
  if (sampleFormat !== 1)
    throw new DngError("SampleFormat", `SampleFormat ${sampleFormat} is not supported (unsigned integers only)`)
  const bpsAll = tiff.has(raw, 258) ? tiff.ints(raw, 258) : [1]
  const bitsPerSample = bpsAll[0]
  if (bpsAll.some((b) => b !== bitsPerSample))
    throw new DngError("BitsPerSample", "samples of different bit depths are not supported")
  if (bitsPerSample < 8 || bitsPerSample > 16)
    throw new DngError("BitsPerSample", `${bitsPerSample}-bit samples are not supported (8–16 bits)`)
  const compression = tiff.int(raw, 259, 1)
  if (compression !== 1 && compression !== 7 && compression !== 8)
    throw new DngError(
      "Compression",
      `Compression ${compression} is not supported (1 none, 7 lossless JPEG, 8 deflate)`
    )
  if (tiff.int(raw, 284, 1) !== 1 && spp > 1)
    throw new DngError("PlanarConfiguration", "planar (separate-plane) samples are not supported")

  // ActiveArea (top, left, bottom, right) in stored pixels; DefaultCrop relative to it.
  let top = 0
  let left = 0
  let activeW = fullWidth
  let activeH = fullHeight
  if (tiff.has(raw, 50829)) {
    const a = tiff.ints(raw, 50829)
    if (a.length !== 4 || a[0] >= a[2] || a[1] >= a[3] || a[2] > fullHeight || a[3] > fullWidth)
      throw new DngError(
        "ActiveArea",
        `ActiveArea [${a.join(", ")}] is not inside the ${fullWidth}×${fullHeight} image`
      )
    top = a[0]
    left = a[1]
    activeW = a[3] - a[1]
    activeH = a[2] - a[0]
  }
  let cropX = 0
  let cropY = 0
  let width = activeW
  let height = activeH
  if (tiff.has(raw, 50719) || tiff.has(raw, 50720)) {
    const o = tiff.has(raw, 50719) ? tiff.numbers(raw, 50719).map(Math.round) : [0, 0]
    const s = tiff.has(raw, 50720) ? tiff.numbers(raw, 50720).map(Math.round) : [activeW - o[0], activeH - o[1]]
    if (
      o.length !== 2 ||
      s.length !== 2 ||
      o[0] < 0 ||
      o[1] < 0 ||
      s[0] < 1 ||
      s[1] < 1 ||
      o[0] + s[0] > activeW ||
      o[1] + s[1] > activeH
    )
      throw new DngError(
        "DefaultCropSize",
        `DefaultCropOrigin [${o.join(", ")}] + DefaultCropSize [${s.join(", ")}] do not fit the ${activeW}×${activeH} active area`
      )
    cropX = o[0]
    cropY = o[1]
    width = s[0]
    height = s[1]
  }

  // CFA pattern, its phase moved from the active area's origin to the crop's.
  let cfaRows = 0
  let cfaCols = 0
  let cfaPattern: Array<CfaColor> = []
  if (kind === "cfa") {
    if (tiff.int(raw, 50711, 1) !== 1)
      throw new DngError("CFALayout", `CFALayout ${tiff.int(raw, 50711, 1)} is not supported (rectangular only)`)
    const dim = tiff.has(raw, 33421) ? tiff.ints(raw, 33421) : [2, 2]
    if (dim.length !== 2 || dim[0] < 1 || dim[1] < 1 || dim[0] > 16 || dim[1] > 16)
      throw new DngError("CFARepeatPatternDim", `CFARepeatPatternDim [${dim.join(", ")}] is not supported`)
    ;[cfaRows, cfaCols] = dim
    const pattern = tiff.ints(raw, 33422)
    if (pattern.length !== cfaRows * cfaCols)
      throw new DngError("CFAPattern", `CFAPattern has ${pattern.length} entries for a ${cfaRows}×${cfaCols} repeat`)
    const planes = tiff.has(raw, 50710) ? tiff.ints(raw, 50710) : [0, 1, 2]
    const colour = (p: number): CfaColor => {
      const c = planes[p]
      if (p >= planes.length || (c !== 0 && c !== 1 && c !== 2))
        throw new DngError(
          "CFAPattern",
          `CFAPattern uses colour ${c ?? p}; only red, green and blue (0, 1, 2) are supported`
        )
      return c
    }
    const stored = pattern.map(colour)
    cfaPattern = []
    for (let r = 0; r < cfaRows; r++)
      for (let c = 0; c < cfaCols; c++)
        cfaPattern.push(stored[((r + cropY) % cfaRows) * cfaCols + ((c + cropX) % cfaCols)])
  }

  // Black level: repeat pattern (per sample for LinearRaw) + per-column/per-row deltas.
  const bdim = tiff.has(raw, 50713) ? tiff.ints(raw, 50713) : [1, 1]
  if (bdim.length !== 2 || bdim[0] < 1 || bdim[1] < 1 || bdim[0] > 16 || bdim[1] > 16)
    throw new DngError("BlackLevelRepeatDim", `BlackLevelRepeatDim [${bdim.join(", ")}] is not supported`)
  const [blackRows, blackCols] = bdim
  const nBlack = blackRows * blackCols * spp
  let black = tiff.has(raw, 50714) ? tiff.numbers(raw, 50714) : [0]
  if (black.length === 1 && nBlack > 1) black = new Array<number>(nBlack).fill(black[0])
  if (black.length !== nBlack)
    throw new DngError(
      "BlackLevel",
      `BlackLevel has ${black.length} values; BlackLevelRepeatDim × SamplesPerPixel asks for ${nBlack}`
    )
  const blackLevel: Array<number> = []
  for (let r = 0; r < blackRows; r++)
    for (let c = 0; c < blackCols; c++)
      for (let s = 0; s < spp; s++)
        blackLevel.push(black[(((r + cropY) % blackRows) * blackCols + ((c + cropX) % blackCols)) * spp + s])
  const deltas = (tag: number, n: number, at: number, len: number): Array<number> => {
    if (!tiff.has(raw, tag)) return []
    const d = tiff.numbers(raw, tag)
    if (d.length !== n)
      throw new DngError(
        tagName(tag),
        `${tagName(tag)} has ${d.length} values for ${n} active ${tag === 50715 ? "columns" : "rows"}`
      )
    return d.slice(at, at + len)
  }
  const blackDeltaH = deltas(50715, activeW, cropX, width)
  const blackDeltaV = deltas(50716, activeH, cropY, height)
  let whiteLevel = tiff.has(raw, 50717) ? tiff.numbers(raw, 50717) : [2 ** bitsPerSample - 1]
  if (whiteLevel.length === 1 && spp > 1) whiteLevel = new Array<number>(spp).fill(whiteLevel[0])
  if (whiteLevel.length !== spp)
    throw new DngError("WhiteLevel", `WhiteLevel has ${whiteLevel.length} values for ${spp} samples`)

  const neutralIfd = either(tiff, raw, 50728)
  const asShotNeutral = tiff.has(neutralIfd, 50728) ? tiff.numbers(neutralIfd, 50728) : undefined
  if (asShotNeutral !== undefined && (asShotNeutral.length !== 3 || asShotNeutral.some((v) => !(v > 0))))
    throw new DngError("AsShotNeutral", `AsShotNeutral [${asShotNeutral.join(", ")}] is not 3 positive values`)
  const camera =
    tiff.text(ifd0, 50708) ?? ([tiff.text(ifd0, 271), tiff.text(ifd0, 272)].filter((s) => s).join(" ") || undefined)
  const orientation = tiff.int(ifd0, 274, 1)
  const optional = <K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } =>
    (v === undefined ? {} : { [key]: v }) as { [P in K]?: V }
  const cm1 = matrix(tiff, either(tiff, raw, 50721), 50721)
  const cm2 = matrix(tiff, either(tiff, raw, 50722), 50722)
  const fm1 = matrix(tiff, either(tiff, raw, 50964), 50964)
  const fm2 = matrix(tiff, either(tiff, raw, 50965), 50965)
  const ill1Ifd = either(tiff, raw, 50778)
  const ill2Ifd = either(tiff, raw, 50779)
  const meta: RawMetadata = {
    width,
    height,
    kind,
    cfaPattern,
    cfaRows,
    cfaCols,
    blackLevel,
    blackRows,
    blackCols,
    blackDeltaH,
    blackDeltaV,
    whiteLevel,
    orientation,
    bitsPerSample,
    ...optional("asShotNeutral", asShotNeutral),
    ...optional("colorMatrix1", cm1),
    ...optional("colorMatrix2", cm2),
    ...optional("calibrationIlluminant1", tiff.has(ill1Ifd, 50778) ? tiff.int(ill1Ifd, 50778) : undefined),
    ...optional("calibrationIlluminant2", tiff.has(ill2Ifd, 50779) ? tiff.int(ill2Ifd, 50779) : undefined),
    ...optional("forwardMatrix1", fm1),
    ...optional("forwardMatrix2", fm2),
    ...optional("camera", camera)
  }
  return { tiff, raw, meta, fullWidth, fullHeight, spp, compression, top: top + cropY, left: left + cropX }
}

/** Where a strip or tile sits and how big it is, checked against the file. */
interface Block {
  readonly x: number
  readonly y: number
  readonly w: number
  readonly h: number
  readonly data: Uint8Array
}

const blocks = (l: RawLayout): Array<Block> => {
  const { tiff, raw, fullWidth: W, fullHeight: H } = l
  const n = tiff.bytes.length
  const tiled = tiff.has(raw, 322) || tiff.has(raw, 324)
  const offTag = tiled ? 324 : 273
  const cntTag = tiled ? 325 : 279
  if (!tiff.has(raw, offTag))
    throw new DngError(tagName(offTag), `${tagName(offTag)} is missing: the raw IFD has no pixel data`)
  if (!tiff.has(raw, cntTag)) throw new DngError(tagName(cntTag), `${tagName(cntTag)} is missing`)
  const offsets = tiff.ints(raw, offTag)
  const counts = tiff.ints(raw, cntTag)
  let bw: number
  let bh: number
  if (tiled) {
    bw = tiff.int(raw, 322)
    bh = tiff.int(raw, 323)
    if (bw < 1 || bh < 1) throw new DngError("TileWidth", `tiles of ${bw}×${bh}`)
  } else {
    bw = W
    bh = Math.min(tiff.int(raw, 278, H), H)
    if (bh < 1) throw new DngError("RowsPerStrip", "RowsPerStrip is 0")
  }
  const across = Math.ceil(W / bw)
  const down = Math.ceil(H / bh)
  if (offsets.length !== across * down)
    throw new DngError(
      tagName(offTag),
      `${tagName(offTag)} has ${offsets.length} entries; the image needs ${across * down}`
    )
  if (counts.length !== offsets.length)
    throw new DngError(
      tagName(cntTag),
      `${tagName(cntTag)} has ${counts.length} entries for ${offsets.length} ${tiled ? "tiles" : "strips"}`
    )
  const out: Array<Block> = []
  for (let i = 0; i < offsets.length; i++) {
    if (offsets[i] >= n || offsets[i] + counts[i] > n)
      throw new DngError(
        counts[i] > 0 && offsets[i] < n ? tagName(cntTag) : tagName(offTag),
        `${tiled ? "tile" : "strip"} ${i} (offset ${offsets[i]}, ${counts[i]} bytes) runs past the end of the file (${n} bytes)`
      )
    const x = (i % across) * bw
    const y = Math.floor(i / across) * bh
    // Strips end at the image's last row; tiles keep their full size (padding cropped on copy).
    out.push({
      x,
      y,
      w: bw,
      h: tiled ? bh : Math.min(bh, H - y),
      data: tiff.bytes.subarray(offsets[i], offsets[i] + counts[i])
    })
  }
  return out
}

/** Samples the decoder may produce per compressed bit, to refuse a tiny file declaring a huge image. */
const MAX_SAMPLES = 1 << 28

const decodePixels = (l: RawLayout, options: DngOptions): Uint16Array => {
  const { tiff, raw, fullWidth: W, fullHeight: H, spp, compression } = l
  const bps = l.meta.bitsPerSample
  const total = W * H * spp
  const bs = blocks(l)
  const tiled = tiff.has(raw, 324)
  const countTag = tagName(tiled ? 325 : 279)
  let stored = 0
  for (const blk of bs) stored += blk.data.length
  // Each sample takes at least one bit in every encoding we decode (a 1-bit Huffman code at best), so
  // a file cannot make us allocate more than its size allows.
  // Deflate expands at most 1032:1 (zlib's limit).
  const bound = compression === 8 ? (stored * 1032 * 8) / bps : stored * 8
  if (total > MAX_SAMPLES || total > bound)
    throw new DngError(
      countTag,
      `${bs.length} ${tiled ? "tile(s)" : "strip(s)"} of ${stored} bytes cannot hold a ${W}×${H} raw image`
    )
  if (compression === 8 && options.inflate === undefined)
    throw new DngError("Compression", "Compression 8 (deflate) needs an inflate function (DngOptions.inflate)")
  const predictor = tiff.int(raw, 317, 1)
  if (predictor !== 1 && !(compression === 8 && predictor === 2))
    throw new DngError("Predictor", `Predictor ${predictor} is not supported with Compression ${compression}`)
  const out = new Uint16Array(total)
  const rowSamples = W * spp
  // Blocks decode into one scratch buffer reused from block to block (or, for a strip that spans the
  // image's width, straight into the image), so a tiled file allocates nothing per tile.
  let scratch = new Uint16Array(0)
  const scratchOf = (n: number): Uint16Array => {
    if (scratch.length < n) scratch = new Uint16Array(n)
    return scratch
  }
  for (let b = 0; b < bs.length; b++) {
    const blk = bs[b]
    const tag = countTag
    const blockSamples = blk.w * spp
    const copyW = Math.min(blk.w, W - blk.x) * spp
    const copyH = Math.min(blk.h, H - blk.y)
    // A strip as wide as the image lands where it belongs: rows of the block are rows of the image.
    const direct = blk.x === 0 && blockSamples === rowSamples
    let samples: Uint16Array
    let at = 0
    if (compression === 7) {
      const f = lj92Frame(blk.data, tag)
      const n = f.width * f.height * f.components
      if (n < blockSamples * copyH)
        throw new DngError(
          tag,
          `lossless JPEG frame ${f.width}×${f.height}×${f.components} does not fill ${tiff.has(raw, 324) ? "tile" : "strip"} ${b} (${blk.w}×${blk.h})`
        )
      samples = scratchOf(n)
      decodeLj92Into(blk.data, tag, samples, 0)
    } else {
      let data = blk.data
      if (compression === 8) {
        try {
          data = options.inflate!(blk.data)
        } catch (e) {
          throw new DngError(
            tag,
            `deflate data of block ${b} does not inflate (${e instanceof Error ? e.message : String(e)})`
          )
        }
      }
      // Rows past the image's bottom (tile padding) are checked for length but not decoded into it.
      const need = Math.ceil((blockSamples * bps) / 8) * blk.h
      if (data.length < need)
        throw new DngError(
          tag,
          `block ${b} has ${data.length} bytes; ${blk.h} rows of ${blockSamples} ${bps}-bit samples need ${need}`
        )
      if (direct) {
        samples = out
        at = blk.y * rowSamples
      } else samples = scratchOf(blockSamples * copyH)
      unpack(data, blockSamples, copyH, bps, tiff.little, samples, at)
      if (predictor === 2) undoHorizontalDifference(samples, at, blk.w, copyH, spp, bps)
      if (direct) continue
    }
    // Copy the block's rows into the image, cropping tile padding at the right and bottom edges.
    for (let r = 0; r < copyH; r++) {
      const src = r * blockSamples
      out.set(samples.subarray(src, src + copyW), (blk.y + r) * rowSamples + blk.x * spp)
    }
  }
  if (tiff.has(raw, 50712)) linearize(out, tiff.ints(raw, 50712))
  return out
}

/** Uncompressed rows into `out` from `at`: 8 or 16 bits in the file's byte order, other depths packed MSB first, rows byte-aligned. */
const unpack = (
  d: Uint8Array,
  perRow: number,
  rows: number,
  bps: number,
  little: boolean,
  out: Uint16Array,
  at: number
): void => {
  const rowBytes = Math.ceil((perRow * bps) / 8)
  const n = perRow * rows
  if (bps === 8) {
    for (let i = 0; i < n; i++) out[at + i] = d[i]
  } else if (bps === 16) {
    // Little-endian data at an even address is already a Uint16Array on every platform Node runs on.
    if (little && (d.byteOffset & 1) === 0 && LITTLE_ENDIAN_HOST)
      out.set(new Uint16Array(d.buffer, d.byteOffset, n), at)
    else if (little) for (let i = 0, j = 0; i < n; i++, j += 2) out[at + i] = d[j] | (d[j + 1] << 8)
    else for (let i = 0, j = 0; i < n; i++, j += 2) out[at + i] = (d[j] << 8) | d[j + 1]
  } else {
    const m = (1 << bps) - 1
    for (let r = 0; r < rows; r++) {
      let p = r * rowBytes
      let acc = 0
      let bits = 0
      const o = at + r * perRow
      for (let i = 0; i < perRow; i++) {
        while (bits < bps) {
          acc = ((acc << 8) | d[p++]) & 0xffffff
          bits += 8
        }
        bits -= bps
        out[o + i] = (acc >>> bits) & m
      }
    }
  }
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

const undoHorizontalDifference = (s: Uint16Array, at: number, w: number, h: number, spp: number, bps: number): void => {
  const m = bps === 8 ? 0xff : 0xffff
  for (let r = 0; r < h; r++) {
    const o = at + r * w * spp
    for (let i = spp; i < w * spp; i++) s[o + i] = (s[o + i] + s[o + i - spp]) & m
  }
}

const linearize = (data: Uint16Array, table: ReadonlyArray<number>): void => {
  if (table.length === 0) throw new DngError("LinearizationTable", "LinearizationTable is empty")
  const last = table.length - 1
  for (let i = 0; i < data.length; i++) data[i] = table[Math.min(data[i], last)]
}

const crop = (l: RawLayout, full: Uint16Array): Uint16Array => {
  const { fullWidth: W, spp, top, left } = l
  const { width, height } = l.meta
  if (width === W && height === l.fullHeight) return full
  const out = new Uint16Array(width * height * spp)
  for (let r = 0; r < height; r++) {
    const src = ((top + r) * W + left) * spp
    out.set(full.subarray(src, src + width * spp), r * width * spp)
  }
  return out
}
