/**
 * A small DNG writer for tests and the raw dataset build (test tooling, not part of the library):
 * a real TIFF/EP + DNG 1.4 structure with the raw image in IFD0 or in a SubIFD beside an RGB
 * thumbnail, strips or tiles, uncompressed (8/16-bit, packed 10/12/14-bit) or lossless JPEG
 * (ITU T.81 process 14, any predictor 1–7, 1–3 interleaved components, optional restart markers,
 * Huffman tables built from the data with Annex K.2's length limit). Independent of the reader: it
 * shares no code with src/vision/dng.
 */
import { deflateSync } from "node:zlib"

export interface DngWriteOptions {
  readonly width: number
  readonly height: number
  /** CFA: height × width; linear: height × width × 3, interleaved. */
  readonly data: Uint16Array
  readonly kind?: "cfa" | "linear"
  readonly cfaPattern?: ReadonlyArray<number>
  readonly cfaRepeat?: readonly [number, number]
  readonly bitsPerSample?: number
  readonly compression?: "none" | "lj92" | "deflate"
  /** TIFF Predictor 2 (horizontal differencing) before deflate. */
  readonly horizontalDifferencing?: boolean
  readonly predictor?: number
  /** Components per lossless JPEG pixel (DNG writers often code a CFA row as width/2 × 2). */
  readonly ljComponents?: number
  /** LJ92 point transform Pt (the low Pt bits are dropped; T.81 H.1.2.1). */
  readonly pointTransform?: number
  /** Rows between restart markers (0: none). */
  readonly restartRows?: number
  readonly tile?: readonly [number, number]
  readonly rowsPerStrip?: number
  readonly bigEndian?: boolean
  /** Raw image in a SubIFD of IFD0 (true, as DNG converters write) or in IFD0 itself. */
  readonly subIfd?: boolean
  readonly blackLevel?: ReadonlyArray<number>
  readonly blackRepeat?: readonly [number, number]
  readonly blackDeltaH?: ReadonlyArray<number>
  readonly blackDeltaV?: ReadonlyArray<number>
  readonly whiteLevel?: ReadonlyArray<number>
  readonly asShotNeutral?: ReadonlyArray<number>
  readonly colorMatrix1?: ReadonlyArray<number>
  readonly colorMatrix2?: ReadonlyArray<number>
  readonly calibrationIlluminant1?: number
  readonly calibrationIlluminant2?: number
  readonly forwardMatrix1?: ReadonlyArray<number>
  /** ActiveArea top, left, bottom, right. */
  readonly activeArea?: readonly [number, number, number, number]
  readonly defaultCropOrigin?: readonly [number, number]
  readonly defaultCropSize?: readonly [number, number]
  readonly orientation?: number
  readonly make?: string
  readonly model?: string
  readonly uniqueCameraModel?: string
  readonly linearizationTable?: ReadonlyArray<number>
  /** Extra or replacing entries in the raw IFD (for malformed files): tag → [type, values]. */
  readonly rawTags?: ReadonlyMap<number, readonly [number, ReadonlyArray<number>]>
}

export interface DngFile {
  readonly bytes: Uint8Array
  readonly ifd0At: number
  readonly rawIfdAt: number
}

// ---------- lossless JPEG encoder ----------

class BitWriter {
  private bytes: Array<number> = []
  private acc = 0
  private n = 0
  put(value: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >>> i) & 1)
      if (++this.n === 8) this.flushByte()
    }
  }
  private flushByte(): void {
    this.bytes.push(this.acc)
    if (this.acc === 0xff) this.bytes.push(0)
    this.acc = 0
    this.n = 0
  }
  /** Pad to a byte with 1 bits (T.81 F.1.2.3). */
  align(): void {
    while (this.n !== 0) this.put(1, 1)
  }
  raw(...bs: Array<number>): void {
    this.bytes.push(...bs)
  }
  out(): Array<number> {
    return this.bytes
  }
}

const category = (diff: number): number => {
  let a = Math.abs(diff)
  let s = 0
  while (a > 0) {
    s++
    a >>= 1
  }
  return s
}

/** Annex K.2: optimal code lengths limited to 16 bits, no all-ones code. Returns BITS and HUFFVAL. */
const huffmanTable = (freqIn: ReadonlyArray<number>): { bits: Array<number>; vals: Array<number> } => {
  const nsym = freqIn.length
  const freq = [...freqIn, 1] // reserved symbol guarantees no all-ones code
  const size = new Array<number>(nsym + 1).fill(0)
  const others = new Array<number>(nsym + 1).fill(-1)
  for (;;) {
    let v1 = -1
    let v2 = -1
    for (let v = 0; v <= nsym; v++) if (freq[v] > 0 && (v1 < 0 || freq[v] <= freq[v1])) v1 = v
    for (let v = 0; v <= nsym; v++) if (freq[v] > 0 && v !== v1 && (v2 < 0 || freq[v] <= freq[v2])) v2 = v
    if (v2 < 0) break
    freq[v1] += freq[v2]
    freq[v2] = 0
    size[v1]++
    while (others[v1] !== -1) {
      v1 = others[v1]
      size[v1]++
    }
    others[v1] = v2
    size[v2]++
    while (others[v2] !== -1) {
      v2 = others[v2]
      size[v2]++
    }
  }
  const bits = new Array<number>(33).fill(0)
  for (let v = 0; v <= nsym; v++) if (size[v] > 0) bits[size[v]]++
  for (let i = 32; i > 16;) {
    if (bits[i] > 0) {
      let j = i - 2
      while (bits[j] === 0) j--
      bits[i] -= 2
      bits[i - 1] += 1
      bits[j + 1] += 2
      bits[j] -= 1
    } else i--
  }
  let i = 16
  while (bits[i] === 0) i--
  bits[i] -= 1
  const vals: Array<number> = []
  for (let len = 1; len <= 32; len++) for (let v = 0; v < nsym; v++) if (size[v] === len) vals.push(v)
  return { bits: bits.slice(1, 17), vals }
}

/** Encode `samples` (rows of width × nc interleaved) as one lossless JPEG stream. */
export const encodeLj92 = (
  samples: Uint16Array,
  width: number,
  height: number,
  nc: number,
  precision: number,
  predictor = 1,
  restartRows = 0,
  pointTransform = 0
): Uint8Array => {
  const rowLen = width * nc
  const initial = 1 << (precision - pointTransform - 1)
  if (pointTransform > 0) samples = samples.map((v) => v >> pointTransform)
  const diffs = new Int32Array(samples.length)
  const freq = new Array<number>(17).fill(0)
  for (let row = 0; row < height; row++) {
    const first = restartRows > 0 ? row % restartRows === 0 : row === 0
    for (let x = 0; x < width; x++)
      for (let c = 0; c < nc; c++) {
        const i = row * rowLen + x * nc + c
        let pred: number
        if (first) pred = x === 0 ? initial : samples[i - nc]
        else if (x === 0) pred = samples[i - rowLen]
        else {
          const ra = samples[i - nc]
          const rb = samples[i - rowLen]
          const rc = samples[i - rowLen - nc]
          pred = [0, ra, rb, rc, ra + rb - rc, ra + ((rb - rc) >> 1), rb + ((ra - rc) >> 1), (ra + rb) >> 1][predictor]
        }
        let diff = samples[i] - pred
        if (diff > 32768) diff -= 65536
        else if (diff < -32767) diff += 65536
        diffs[i] = diff
        freq[category(diff)]++
      }
  }
  const { bits, vals } = huffmanTable(freq)
  const code = new Array<number>(17).fill(0)
  const len = new Array<number>(17).fill(0)
  let c = 0
  let k = 0
  for (let l = 1; l <= 16; l++) {
    for (let j = 0; j < bits[l - 1]; j++) {
      code[vals[k]] = c++
      len[vals[k]] = l
      k++
    }
    c <<= 1
  }
  const w = new BitWriter()
  w.raw(0xff, 0xd8)
  // SOF3
  w.raw(0xff, 0xc3, 0, 8 + 3 * nc, precision, height >> 8, height & 255, width >> 8, width & 255, nc)
  for (let i = 0; i < nc; i++) w.raw(i, 0x11, 0)
  // DHT, table 0 (shared by every component)
  w.raw(0xff, 0xc4, 0, 2 + 17 + vals.length, 0x00, ...bits, ...vals)
  if (restartRows > 0) {
    const ri = restartRows * width
    w.raw(0xff, 0xdd, 0, 4, ri >> 8, ri & 255)
  }
  // SOS: Ss = predictor, Se = 0, Ah/Al = 0
  w.raw(0xff, 0xda, 0, 6 + 2 * nc, nc)
  for (let i = 0; i < nc; i++) w.raw(i, 0x00)
  w.raw(predictor, 0, pointTransform)
  let rst = 0
  for (let row = 0; row < height; row++) {
    if (restartRows > 0 && row > 0 && row % restartRows === 0) {
      w.align()
      w.raw(0xff, 0xd0 + (rst++ % 8))
    }
    for (let i = row * rowLen; i < (row + 1) * rowLen; i++) {
      const d = diffs[i]
      const s = category(d)
      w.put(code[s], len[s])
      if (s > 0 && s < 16) w.put(d > 0 ? d : d + (1 << s) - 1, s)
    }
  }
  w.align()
  w.raw(0xff, 0xd9)
  return Uint8Array.from(w.out())
}

// ---------- uncompressed packing ----------

const packRows = (s: Uint16Array, perRow: number, rows: number, bps: number, big: boolean): Uint8Array => {
  if (bps === 8) return Uint8Array.from(s)
  if (bps === 16) {
    const out = new Uint8Array(s.length * 2)
    for (let i = 0; i < s.length; i++) {
      out[2 * i + (big ? 0 : 1)] = s[i] >> 8
      out[2 * i + (big ? 1 : 0)] = s[i] & 255
    }
    return out
  }
  const rowBytes = Math.ceil((perRow * bps) / 8)
  const out = new Uint8Array(rowBytes * rows)
  for (let r = 0; r < rows; r++) {
    let bit = r * rowBytes * 8
    for (let i = 0; i < perRow; i++) {
      const v = s[r * perRow + i]
      for (let b = bps - 1; b >= 0; b--, bit++) if ((v >> b) & 1) out[bit >> 3] |= 0x80 >> (bit & 7)
    }
  }
  return out
}

// ---------- TIFF assembly ----------

type Value = readonly [type: number, values: ReadonlyArray<number> | string]
const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8, 11: 4, 12: 8 }

const rational = (x: number, signed: boolean): [number, number] => {
  const den = 10000
  const num = Math.round(x * den)
  return [signed ? num : Math.max(0, num), den]
}

export const writeDng = (o: DngWriteOptions): DngFile => {
  const kind = o.kind ?? "cfa"
  const spp = kind === "cfa" ? 1 : 3
  const W = o.width
  const H = o.height
  if (o.data.length !== W * H * spp) throw new Error(`data has ${o.data.length} samples for ${W}×${H}×${spp}`)
  const bps = o.bitsPerSample ?? 16
  const big = o.bigEndian ?? false
  const lj = (o.compression ?? "none") === "lj92"
  const [bw, bh] = o.tile ?? [W, Math.min(o.rowsPerStrip ?? H, H)]
  const tiled = o.tile !== undefined
  const across = Math.ceil(W / bw)
  const down = Math.ceil(H / bh)
  const blocks: Array<Uint8Array> = []
  for (let ty = 0; ty < down; ty++)
    for (let tx = 0; tx < across; tx++) {
      const rows = tiled ? bh : Math.min(bh, H - ty * bh)
      const s = new Uint16Array(bw * rows * spp)
      for (let r = 0; r < rows; r++)
        for (let x = 0; x < bw; x++) {
          const gy = ty * bh + r
          const gx = tx * bw + x
          if (gy >= H || gx >= W) continue // tile padding stays 0
          for (let c = 0; c < spp; c++) s[(r * bw + x) * spp + c] = o.data[(gy * W + gx) * spp + c]
        }
      if (lj) {
        const nc = o.ljComponents ?? spp
        const jw = (bw * spp) / nc
        if (!Number.isInteger(jw)) throw new Error(`a ${bw}-wide block cannot be coded with ${nc} components`)
        blocks.push(encodeLj92(s, jw, rows, nc, bps, o.predictor ?? 1, o.restartRows ?? 0, o.pointTransform ?? 0))
      } else if (o.compression === "deflate") {
        if (o.horizontalDifferencing)
          for (let r = rows - 1; r >= 0; r--)
            for (let i = bw * spp - 1; i >= spp; i--)
              s[r * bw * spp + i] = (s[r * bw * spp + i] - s[r * bw * spp + i - spp]) & 0xffff
        blocks.push(new Uint8Array(deflateSync(packRows(s, bw * spp, rows, bps, big))))
      } else blocks.push(packRows(s, bw * spp, rows, bps, big))
    }

  // Thumbnail: an 8-bit RGB 16×16 grey picture in IFD0 when the raw goes to a SubIFD.
  const sub = o.subIfd ?? true
  const thumb = new Uint8Array(16 * 16 * 3).fill(128)

  const raw = new Map<number, Value>()
  raw.set(254, [4, [0]])
  raw.set(256, [4, [W]])
  raw.set(257, [4, [H]])
  raw.set(258, [3, new Array<number>(spp).fill(bps)])
  raw.set(259, [3, [lj ? 7 : o.compression === "deflate" ? 8 : 1]])
  if (o.horizontalDifferencing) raw.set(317, [3, [2]])
  raw.set(262, [3, [kind === "cfa" ? 32803 : 34892]])
  raw.set(277, [3, [spp]])
  raw.set(284, [3, [1]])
  if (tiled) {
    raw.set(322, [4, [bw]])
    raw.set(323, [4, [bh]])
    raw.set(324, [4, blocks.map(() => 0)])
    raw.set(325, [4, blocks.map((b) => b.length)])
  } else {
    raw.set(273, [4, blocks.map(() => 0)])
    raw.set(278, [4, [bh]])
    raw.set(279, [4, blocks.map((b) => b.length)])
  }
  if (kind === "cfa") {
    const rep = o.cfaRepeat ?? [2, 2]
    raw.set(33421, [3, [...rep]])
    raw.set(33422, [1, o.cfaPattern ?? [0, 1, 1, 2]])
    raw.set(50710, [1, [0, 1, 2]])
    raw.set(50711, [3, [1]])
  }
  if (o.linearizationTable) raw.set(50712, [3, o.linearizationTable])
  const brep = o.blackRepeat ?? [1, 1]
  raw.set(50713, [3, [...brep]])
  raw.set(50714, [5, o.blackLevel ?? [0]])
  if (o.blackDeltaH) raw.set(50715, [10, o.blackDeltaH])
  if (o.blackDeltaV) raw.set(50716, [10, o.blackDeltaV])
  raw.set(50717, [4, o.whiteLevel ?? [2 ** bps - 1]])
  if (o.defaultCropOrigin) raw.set(50719, [4, [...o.defaultCropOrigin]])
  if (o.defaultCropSize) raw.set(50720, [4, [...o.defaultCropSize]])
  if (o.activeArea) raw.set(50829, [4, [...o.activeArea]])
  for (const [tag, v] of o.rawTags ?? []) raw.set(tag, v)

  const ifd0 = sub ? new Map<number, Value>() : raw
  if (sub) {
    ifd0.set(254, [4, [1]])
    ifd0.set(256, [4, [16]])
    ifd0.set(257, [4, [16]])
    ifd0.set(258, [3, [8, 8, 8]])
    ifd0.set(259, [3, [1]])
    ifd0.set(262, [3, [2]])
    ifd0.set(273, [4, [0]])
    ifd0.set(277, [3, [3]])
    ifd0.set(278, [4, [16]])
    ifd0.set(279, [4, [thumb.length]])
    ifd0.set(284, [3, [1]])
    ifd0.set(330, [4, [0]])
  }
  if (o.make !== undefined) ifd0.set(271, [2, o.make])
  if (o.model !== undefined) ifd0.set(272, [2, o.model])
  ifd0.set(274, [3, [o.orientation ?? 1]])
  ifd0.set(50706, [1, [1, 4, 0, 0]])
  ifd0.set(50707, [1, [1, 1, 0, 0]])
  ifd0.set(50708, [2, o.uniqueCameraModel ?? "driftgate test camera"])
  if (o.colorMatrix1) ifd0.set(50721, [10, o.colorMatrix1])
  if (o.colorMatrix2) ifd0.set(50722, [10, o.colorMatrix2])
  if (o.asShotNeutral) ifd0.set(50728, [5, o.asShotNeutral])
  if (o.calibrationIlluminant1 !== undefined) ifd0.set(50778, [3, [o.calibrationIlluminant1]])
  if (o.calibrationIlluminant2 !== undefined) ifd0.set(50779, [3, [o.calibrationIlluminant2]])
  if (o.forwardMatrix1) ifd0.set(50964, [10, o.forwardMatrix1])

  // Layout: header, pixel blocks, thumbnail, IFD0 + its values, raw SubIFD + its values.
  const even = (n: number): number => n + (n & 1)
  let at = 8
  const blockAt = blocks.map((b) => {
    const p = at
    at = even(at + b.length)
    return p
  })
  const thumbAt = at
  if (sub) at = even(at + thumb.length)
  const valueBytes = (v: Value): number => {
    const n = typeof v[1] === "string" ? v[1].length + 1 : v[1].length
    return n * TYPE_SIZE[v[0]]
  }
  const ifdSize = (m: Map<number, Value>): number => {
    let s = 2 + 12 * m.size + 4
    for (const v of m.values()) if (valueBytes(v) > 4) s += even(valueBytes(v))
    return s
  }
  const ifd0At = at
  const rawAt = sub ? even(ifd0At + ifdSize(ifd0)) : ifd0At
  const pixTag = tiled ? 324 : 273
  if (!(o.rawTags?.has(pixTag) ?? false)) raw.set(pixTag, [4, blockAt])
  if (sub) {
    ifd0.set(273, [4, [thumbAt]])
    ifd0.set(330, [4, [rawAt]])
  }
  const total = sub ? rawAt + ifdSize(raw) : ifd0At + ifdSize(ifd0)
  const out = new Uint8Array(total)
  const dv = new DataView(out.buffer)
  const le = !big
  out[0] = out[1] = big ? 0x4d : 0x49
  dv.setUint16(2, 42, le)
  dv.setUint32(4, ifd0At, le)
  blocks.forEach((b, i) => out.set(b, blockAt[i]))
  if (sub) out.set(thumb, thumbAt)
  const putValues = (v: Value, p: number): void => {
    const [type, vals] = v
    if (typeof vals === "string") {
      for (let i = 0; i < vals.length; i++) out[p + i] = vals.charCodeAt(i)
      return
    }
    vals.forEach((x, i) => {
      switch (type) {
        case 1:
        case 7:
          out[p + i] = x
          break
        case 3:
          dv.setUint16(p + 2 * i, x, le)
          break
        case 4:
          dv.setUint32(p + 4 * i, x, le)
          break
        case 9:
          dv.setInt32(p + 4 * i, x, le)
          break
        case 5:
        case 10: {
          const [n, d] = rational(x, type === 10)
          if (type === 5) dv.setUint32(p + 8 * i, n, le)
          else dv.setInt32(p + 8 * i, n, le)
          dv.setUint32(p + 8 * i + 4, d, le)
          break
        }
        case 11:
          dv.setFloat32(p + 4 * i, x, le)
          break
        case 12:
          dv.setFloat64(p + 8 * i, x, le)
          break
      }
    })
  }
  const writeIfd = (m: Map<number, Value>, p: number): void => {
    const tags = [...m.keys()].sort((a, b) => a - b)
    dv.setUint16(p, tags.length, le)
    let extra = p + 2 + 12 * tags.length + 4
    tags.forEach((tag, i) => {
      const v = m.get(tag)!
      const e = p + 2 + 12 * i
      const count = typeof v[1] === "string" ? v[1].length + 1 : v[1].length
      dv.setUint16(e, tag, le)
      dv.setUint16(e + 2, v[0], le)
      dv.setUint32(e + 4, count, le)
      if (valueBytes(v) <= 4) putValues(v, e + 8)
      else {
        dv.setUint32(e + 8, extra, le)
        putValues(v, extra)
        extra += even(valueBytes(v))
      }
    })
    dv.setUint32(p + 2 + 12 * tags.length, 0, le)
  }
  writeIfd(ifd0, ifd0At)
  if (sub) writeIfd(raw, rawAt)
  return { bytes: out, ifd0At, rawIfdAt: rawAt }
}
