/**
 * The TIFF/EP container under a DNG: byte order, IFD chains and SubIFDs, tag values. Every read is
 * checked against the file's length and every walk is bounded, so a malformed file is a `DngError`
 * naming the tag, never a RangeError, a huge allocation or a loop.
 */

/** An expected failure: the TIFF/DNG tag (or structure) at fault and one sentence. */
export class DngError extends Error {
  constructor(
    readonly tag: string,
    message: string
  ) {
    super(message)
  }
}

export const TAG_NAMES: Readonly<Record<number, string>> = {
  254: "NewSubFileType",
  256: "ImageWidth",
  257: "ImageLength",
  258: "BitsPerSample",
  259: "Compression",
  262: "PhotometricInterpretation",
  271: "Make",
  272: "Model",
  273: "StripOffsets",
  274: "Orientation",
  277: "SamplesPerPixel",
  278: "RowsPerStrip",
  279: "StripByteCounts",
  284: "PlanarConfiguration",
  317: "Predictor",
  322: "TileWidth",
  323: "TileLength",
  324: "TileOffsets",
  325: "TileByteCounts",
  330: "SubIFDs",
  339: "SampleFormat",
  33421: "CFARepeatPatternDim",
  33422: "CFAPattern",
  34665: "ExifIFD",
  50706: "DNGVersion",
  50708: "UniqueCameraModel",
  50710: "CFAPlaneColor",
  50711: "CFALayout",
  50712: "LinearizationTable",
  50713: "BlackLevelRepeatDim",
  50714: "BlackLevel",
  50715: "BlackLevelDeltaH",
  50716: "BlackLevelDeltaV",
  50717: "WhiteLevel",
  50719: "DefaultCropOrigin",
  50720: "DefaultCropSize",
  50721: "ColorMatrix1",
  50722: "ColorMatrix2",
  50728: "AsShotNeutral",
  50778: "CalibrationIlluminant1",
  50779: "CalibrationIlluminant2",
  50829: "ActiveArea",
  50964: "ForwardMatrix1",
  50965: "ForwardMatrix2"
}

export const tagName = (tag: number): string => TAG_NAMES[tag] ?? `tag ${tag}`

/** Bytes per value of each TIFF field type (0 = unknown type). */
const TYPE_SIZE = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4]

export interface Entry {
  readonly tag: number
  readonly type: number
  readonly count: number
  /** Where the values start in the file (inside the entry when they fit in 4 bytes). */
  readonly offset: number
}

export interface Ifd {
  /** Where the IFD starts in the file (for messages). */
  readonly at: number
  readonly entries: ReadonlyMap<number, Entry>
}

/** Bounds on the walk: far above any real DNG, far below what could hang. */
const MAX_IFDS = 256
const MAX_SUBIFD_DEPTH = 4

export class Tiff {
  readonly view: DataView
  readonly little: boolean
  readonly ifds: Array<Ifd> = []
  /** IFD0 (the main IFD: camera-wide tags such as ColorMatrix and AsShotNeutral live there). */
  readonly ifd0: Ifd

  constructor(readonly bytes: Uint8Array) {
    if (bytes.length < 8)
      throw new DngError("TIFF header", `the file is ${bytes.length} bytes, shorter than a TIFF header`)
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const order = (bytes[0] << 8) | bytes[1]
    if (order === 0x4949) this.little = true
    else if (order === 0x4d4d) this.little = false
    else throw new DngError("TIFF header", "the file does not start with a TIFF byte-order mark (II or MM)")
    if (this.u16(2) !== 42) throw new DngError("TIFF header", `TIFF magic number is ${this.u16(2)}, not 42`)
    const seen = new Set<number>()
    let next = this.u32(4)
    if (next === 0) throw new DngError("TIFF header", "the file has no IFD")
    // The main chain (IFD0, then IFD1 thumbnails), each IFD's SubIFDs walked depth-first.
    while (next !== 0) {
      const ifd = this.readIfd(next, seen, "IFD0 chain")
      this.walkSubIfds(ifd, seen, 1)
      next = this.nextOffset(ifd)
    }
    this.ifd0 = this.ifds[0]
  }

  u8 = (at: number): number => this.view.getUint8(at)
  u16 = (at: number): number => this.view.getUint16(at, this.little)
  u32 = (at: number): number => this.view.getUint32(at, this.little)

  private readIfd(at: number, seen: Set<number>, where: string): Ifd {
    if (seen.has(at)) throw new DngError(where, `the IFD chain loops back to offset ${at}`)
    if (this.ifds.length >= MAX_IFDS) throw new DngError(where, `more than ${MAX_IFDS} IFDs`)
    if (at % 1 !== 0 || at < 8 || at + 2 > this.bytes.length)
      throw new DngError(where, `IFD offset ${at} is past the end of the file (${this.bytes.length} bytes)`)
    seen.add(at)
    const n = this.u16(at)
    if (at + 2 + n * 12 + 4 > this.bytes.length)
      throw new DngError(
        where,
        `the IFD at offset ${at} declares ${n} entries but the file ends inside it (truncated IFD)`
      )
    const entries = new Map<number, Entry>()
    for (let i = 0; i < n; i++) {
      const e = at + 2 + i * 12
      const tag = this.u16(e)
      const type = this.u16(e + 2)
      const count = this.u32(e + 4)
      const size = TYPE_SIZE[type] ?? 0
      // Unknown field types are skipped, as TIFF readers must.
      if (size === 0) continue
      const total = size * count
      const offset = total <= 4 ? e + 8 : this.u32(e + 8)
      if (total > 4 && offset + total > this.bytes.length) {
        // A value we never read may point anywhere; one we need is checked when it is read.
        entries.set(tag, { tag, type, count, offset: -1 })
        continue
      }
      entries.set(tag, { tag, type, count, offset })
    }
    const ifd = { at, entries }
    this.ifds.push(ifd)
    return ifd
  }

  private nextOffset(ifd: Ifd): number {
    const n = this.u16(ifd.at)
    return this.u32(ifd.at + 2 + n * 12)
  }

  private walkSubIfds(ifd: Ifd, seen: Set<number>, depth: number): void {
    if (!ifd.entries.has(330)) return
    if (depth > MAX_SUBIFD_DEPTH) throw new DngError("SubIFDs", `SubIFDs nested deeper than ${MAX_SUBIFD_DEPTH}`)
    for (const off of this.ints(ifd, 330)) {
      // A SubIFD may have its own chain (rare); follow it with the same loop guard.
      let next = off
      while (next !== 0) {
        const sub = this.readIfd(next, seen, "SubIFDs")
        this.walkSubIfds(sub, seen, depth + 1)
        next = this.nextOffset(sub)
      }
    }
  }

  has = (ifd: Ifd, tag: number): boolean => ifd.entries.has(tag)

  private entry(ifd: Ifd, tag: number): Entry {
    const e = ifd.entries.get(tag)
    if (e === undefined) throw new DngError(tagName(tag), `${tagName(tag)} is missing`)
    if (e.offset < 0)
      throw new DngError(
        tagName(tag),
        `${tagName(tag)}'s values point past the end of the file (${this.bytes.length} bytes)`
      )
    return e
  }

  /** All values of a numeric tag as numbers (rationals divided out). */
  numbers(ifd: Ifd, tag: number): Array<number> {
    const e = this.entry(ifd, tag)
    const out = new Array<number>(e.count)
    const v = this.view
    const le = this.little
    for (let i = 0; i < e.count; i++) {
      switch (e.type) {
        case 1:
        case 7:
          out[i] = v.getUint8(e.offset + i)
          break
        case 6:
          out[i] = v.getInt8(e.offset + i)
          break
        case 3:
          out[i] = v.getUint16(e.offset + 2 * i, le)
          break
        case 8:
          out[i] = v.getInt16(e.offset + 2 * i, le)
          break
        case 4:
        case 13:
          out[i] = v.getUint32(e.offset + 4 * i, le)
          break
        case 9:
          out[i] = v.getInt32(e.offset + 4 * i, le)
          break
        case 5: {
          const d = v.getUint32(e.offset + 8 * i + 4, le)
          out[i] = d === 0 ? 0 : v.getUint32(e.offset + 8 * i, le) / d
          break
        }
        case 10: {
          const d = v.getInt32(e.offset + 8 * i + 4, le)
          out[i] = d === 0 ? 0 : v.getInt32(e.offset + 8 * i, le) / d
          break
        }
        case 11:
          out[i] = v.getFloat32(e.offset + 4 * i, le)
          break
        case 12:
          out[i] = v.getFloat64(e.offset + 8 * i, le)
          break
        default:
          throw new DngError(tagName(tag), `${tagName(tag)} has text type ${e.type} where numbers are expected`)
      }
    }
    return out
  }

  /** Integer values (offsets, counts, sizes); a fraction or a negative value is an error. */
  ints(ifd: Ifd, tag: number): Array<number> {
    const xs = this.numbers(ifd, tag)
    for (const x of xs)
      if (!Number.isInteger(x) || x < 0)
        throw new DngError(tagName(tag), `${tagName(tag)} holds ${x} where a whole number is expected`)
    return xs
  }

  int(ifd: Ifd, tag: number, fallback?: number): number {
    if (!ifd.entries.has(tag)) {
      if (fallback === undefined) throw new DngError(tagName(tag), `${tagName(tag)} is missing`)
      return fallback
    }
    const xs = this.ints(ifd, tag)
    if (xs.length === 0) throw new DngError(tagName(tag), `${tagName(tag)} has no value`)
    return xs[0]
  }

  /** An ASCII tag without its trailing NULs, or undefined when absent. */
  text(ifd: Ifd, tag: number): string | undefined {
    const e = ifd.entries.get(tag)
    if (e === undefined || e.offset < 0 || (e.type !== 2 && e.type !== 1 && e.type !== 7)) return undefined
    let s = ""
    for (let i = 0; i < e.count; i++) {
      const c = this.bytes[e.offset + i]
      if (c === 0) break
      s += String.fromCharCode(c)
    }
    return s.trim()
  }

  /** The raw bytes of a tag's values (BYTE/UNDEFINED arrays such as CFAPattern). */
  raw(ifd: Ifd, tag: number): Uint8Array {
    const e = this.entry(ifd, tag)
    return this.bytes.subarray(e.offset, e.offset + e.count * (TYPE_SIZE[e.type] ?? 1))
  }
}
