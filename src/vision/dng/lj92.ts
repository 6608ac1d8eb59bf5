/**
 * Lossless JPEG (ITU T.81 process 14, "LJ92"), as DNG's Compression 7 uses it: SOF3, Huffman tables,
 * predictors 1–7, point transform, restart intervals, any number of components with 1×1 sampling.
 * `decodeLj92` returns the samples in stream order (rows of `width × components` interleaved), which
 * DNG lays out linearly into the tile. Malformed streams throw `DngError` with the given tag.
 */
import { DngError } from "./tiff.js"

export interface Lj92Frame {
  readonly width: number
  readonly height: number
  readonly components: number
  readonly precision: number
}

interface Huffman {
  /** 16-bit lookahead → (code length << 8) | category; 0 marks a code that does not exist. */
  readonly lookup: Uint16Array
  /**
   * FAST_BITS-bit lookahead → the whole difference when its code and extra bits fit in FAST_BITS:
   * (difference << 8) | bits consumed; 0 when they do not (then `lookup` decodes it). 16 KB, so it
   * stays in the L1 cache where the 128 KB `lookup` does not.
   */
  readonly fast: Int32Array
}

const FAST_BITS = 12
const FAST_MASK = (1 << FAST_BITS) - 1

const buildHuffman = (counts: ArrayLike<number>, symbols: ArrayLike<number>, tag: string): Huffman => {
  const lookup = new Uint16Array(65536)
  let code = 0
  let k = 0
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < counts[len - 1]; i++) {
      if (code >= 1 << len) throw new DngError(tag, "lossless JPEG Huffman table has more codes than its lengths allow")
      const sym = symbols[k++]
      if (sym > 16) throw new DngError(tag, `lossless JPEG Huffman table has a difference category ${sym} (at most 16)`)
      const shift = 16 - len
      lookup.fill((len << 8) | sym, code << shift, (code + 1) << shift)
      code++
    }
    code <<= 1
  }
  const fast = new Int32Array(1 << FAST_BITS)
  for (let i = 0; i < fast.length; i++) {
    const e = lookup[i << (16 - FAST_BITS)]
    const len = e >> 8
    const sym = e & 0xff
    if (e === 0 || len > FAST_BITS) continue
    if (sym === 0 || sym === 16) fast[i] = ((sym === 16 ? 32768 : 0) << 8) | len
    else if (len + sym <= FAST_BITS) {
      const v = (i >> (FAST_BITS - len - sym)) & ((1 << sym) - 1)
      const diff = v < 1 << (sym - 1) ? v - (1 << sym) + 1 : v
      fast[i] = (diff << 8) | (len + sym)
    }
  }
  return { lookup, fast }
}

/** Read the frame header only (dimensions and components), to size the output before decoding. */
export const lj92Frame = (data: Uint8Array, tag: string): Lj92Frame => parse(data, tag).frame

interface Parsed {
  readonly frame: Lj92Frame
  readonly tables: ReadonlyArray<Huffman | undefined>
  readonly tableOf: ReadonlyArray<number>
  readonly predictor: number
  readonly pointTransform: number
  readonly restart: number
  /** Where the entropy-coded data starts. */
  readonly scan: number
}

const parse = (d: Uint8Array, tag: string): Parsed => {
  const n = d.length
  if (n < 4 || d[0] !== 0xff || d[1] !== 0xd8) throw new DngError(tag, "the lossless JPEG data does not start with SOI")
  let p = 2
  let frame: Lj92Frame | undefined
  const tables: Array<Huffman | undefined> = [undefined, undefined, undefined, undefined]
  let restart = 0
  const ids: Array<number> = []
  // Markers are bounded by the data's length: each step moves p forward by at least 2.
  while (p + 4 <= n) {
    if (d[p] !== 0xff) throw new DngError(tag, `lossless JPEG: expected a marker at byte ${p}`)
    const marker = d[p + 1]
    if (marker === 0xff) {
      p++
      continue
    }
    const len = (d[p + 2] << 8) | d[p + 3]
    const seg = p + 4
    const end = p + 2 + len
    if (len < 2 || end > n)
      throw new DngError(tag, `lossless JPEG: marker 0x${marker.toString(16)} segment runs past the data`)
    if (marker === 0xc3) {
      if (len < 8) throw new DngError(tag, "lossless JPEG: SOF3 segment too short")
      const precision = d[seg]
      const height = (d[seg + 1] << 8) | d[seg + 2]
      const width = (d[seg + 3] << 8) | d[seg + 4]
      const components = d[seg + 5]
      if (precision < 2 || precision > 16)
        throw new DngError(tag, `lossless JPEG precision ${precision} (2–16 allowed)`)
      if (width === 0 || height === 0 || components === 0 || components > 4 || len < 8 + 3 * components)
        throw new DngError(tag, `lossless JPEG frame ${width}×${height}×${components} is not decodable`)
      for (let c = 0; c < components; c++) {
        ids.push(d[seg + 6 + 3 * c])
        if (d[seg + 7 + 3 * c] !== 0x11)
          throw new DngError(tag, "lossless JPEG: subsampled components are not used by DNG and not supported")
      }
      frame = { width, height, components, precision }
    } else if (marker === 0xc4) {
      let q = seg
      while (q < end) {
        if (q + 17 > end) throw new DngError(tag, "lossless JPEG: DHT segment truncated")
        const th = d[q] & 0x0f
        if (th > 3) throw new DngError(tag, `lossless JPEG: Huffman table id ${th}`)
        const counts = d.subarray(q + 1, q + 17)
        let total = 0
        for (let i = 0; i < 16; i++) total += counts[i]
        if (q + 17 + total > end) throw new DngError(tag, "lossless JPEG: DHT symbols run past the segment")
        tables[th] = buildHuffman(counts, d.subarray(q + 17, q + 17 + total), tag)
        q += 17 + total
      }
    } else if (marker === 0xdd) {
      restart = (d[seg] << 8) | d[seg + 1]
    } else if (marker === 0xda) {
      if (frame === undefined) throw new DngError(tag, "lossless JPEG: SOS before SOF3")
      const ns = d[seg]
      if (ns !== frame.components)
        throw new DngError(
          tag,
          `lossless JPEG: the scan has ${ns} of the frame's ${frame.components} components (one scan expected)`
        )
      const tableOf: Array<number> = []
      for (let c = 0; c < ns; c++) {
        const cid = d[seg + 1 + 2 * c]
        if (ids[c] !== cid) throw new DngError(tag, "lossless JPEG: scan components are not in frame order")
        const th = d[seg + 2 + 2 * c] >> 4
        if (th > 3 || tables[th] === undefined)
          throw new DngError(tag, `lossless JPEG: scan uses Huffman table ${th}, which is not defined`)
        tableOf.push(th)
      }
      const predictor = d[seg + 1 + 2 * ns]
      const pointTransform = d[seg + 3 + 2 * ns] & 0x0f
      if (predictor < 1 || predictor > 7) throw new DngError(tag, `lossless JPEG predictor ${predictor} (1–7 allowed)`)
      if (pointTransform >= frame.precision - 1)
        throw new DngError(tag, `lossless JPEG point transform ${pointTransform} leaves no bits of ${frame.precision}`)
      return { frame, tables, tableOf, predictor, pointTransform, restart, scan: end }
    } else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      throw new DngError(tag, `JPEG process SOF${marker - 0xc0} is not lossless JPEG (SOF3)`)
    }
    p = end
  }
  throw new DngError(tag, "lossless JPEG data ends before its scan (SOS)")
}

// The unstuffed entropy-coded bytes of the stream being decoded, reused from one tile to the next;
// a stream larger than KEEP (a whole-image strip) gets its own buffer, so no large one stays alive.
const KEEP = 1 << 20
let scratch = new Uint8Array(0)
const scratchBytes = (n: number): Uint8Array => {
  if (n > KEEP) return new Uint8Array(n)
  if (scratch.length < n) scratch = new Uint8Array(Math.min(KEEP, Math.max(n, 2 * scratch.length)))
  return scratch
}

/**
 * Add one row's prediction to its differences, in place in `out` from `at` (`nc` interleaved components).
 * Predictor 0 marks the first line of the scan or of a restart interval: the first pixel predicts from
 * `initial`, the others from the left. Otherwise the first pixel predicts from above and the rest by
 * T.81's predictor 1–7 (Ra left, Rb above, Rc above-left).
 */
const predictRow = (
  out: Uint16Array,
  at: number,
  rowLen: number,
  nc: number,
  diffs: Int32Array,
  predictor: number,
  initial: number,
  pt: number,
  mask: number
): void => {
  if (predictor === 0) {
    for (let i = 0; i < nc; i++) out[at + i] = ((initial + diffs[i]) & mask) << pt
    for (let i = nc; i < rowLen; i++) out[at + i] = (((out[at + i - nc] >> pt) + diffs[i]) & mask) << pt
    return
  }
  const up = at - rowLen
  for (let i = 0; i < nc; i++) out[at + i] = (((out[up + i] >> pt) + diffs[i]) & mask) << pt
  switch (predictor) {
    case 1:
      for (let i = nc; i < rowLen; i++) out[at + i] = (((out[at + i - nc] >> pt) + diffs[i]) & mask) << pt
      break
    case 2:
      for (let i = nc; i < rowLen; i++) out[at + i] = (((out[up + i] >> pt) + diffs[i]) & mask) << pt
      break
    case 3:
      for (let i = nc; i < rowLen; i++) out[at + i] = (((out[up + i - nc] >> pt) + diffs[i]) & mask) << pt
      break
    default:
      for (let i = nc; i < rowLen; i++) {
        const ra = out[at + i - nc] >> pt
        const rb = out[up + i] >> pt
        const rc = out[up + i - nc] >> pt
        const pred =
          predictor === 4
            ? ra + rb - rc
            : predictor === 5
              ? ra + ((rb - rc) >> 1)
              : predictor === 6
                ? rb + ((ra - rc) >> 1)
                : (ra + rb) >> 1
        out[at + i] = ((pred + diffs[i]) & mask) << pt
      }
  }
}

/**
 * Decode one lossless JPEG stream into `out` from index `outAt` (stream order); returns the frame.
 * Throws when the entropy-coded data ends before the last sample.
 */
export const decodeLj92Into = (d: Uint8Array, tag: string, out: Uint16Array, outAt: number): Lj92Frame => {
  const { frame, tables, tableOf, predictor, pointTransform, restart, scan } = parse(d, tag)
  const { width, height, components: nc, precision } = frame
  const rowLen = width * nc
  if (outAt + rowLen * height > out.length)
    throw new DngError(tag, "lossless JPEG frame is larger than its tile or strip")
  if (restart % width !== 0)
    throw new DngError(tag, `lossless JPEG restart interval ${restart} is not a whole number of ${width}-pixel rows`)
  const restartRows = restart / width
  const tables_ = tableOf.map((t) => tables[t]!)
  const table0 = tables_[0]!
  const n = d.length
  // Unstuff the entropy-coded data once (FF 00 → FF, fill bytes dropped), split at RSTn markers, so
  // the hot loop below reads plain bytes.
  const clean = scratchBytes(n - scan)
  const segments: Array<number> = [0]
  let q = 0
  for (let p = scan; p < n;) {
    // Plain bytes up to the next 0xFF are copied in one go.
    const ff = d.indexOf(0xff, p)
    const stop = ff < 0 ? n : ff
    clean.set(d.subarray(p, stop), q)
    q += stop - p
    p = stop
    if (p >= n) break
    const nx = p + 1 < n ? d[p + 1] : -1
    if (nx === 0x00) {
      clean[q++] = 0xff
      p += 2
    } else if (nx === 0xff) p++
    else if (nx >= 0xd0 && nx <= 0xd7) {
      segments.push(q, q)
      p += 2
    } else break // EOI (or any other marker): the scan ends
  }
  segments.push(q)
  let segment = 0
  let pos = 0
  let end = segments[1]
  let acc = 0
  let bits = 0
  // Zero bytes fed past the end of an interval: consuming any of them means truncation.
  let phantom = 0
  const mask = (1 << (precision - pointTransform)) - 1
  const initial = 1 << (precision - pointTransform - 1)
  const pt = pointTransform
  // One row's differences, decoded first; prediction then runs over the row with the predictor fixed.
  const diffs = new Int32Array(rowLen)
  let rowStart = outAt
  for (let row = 0; row < height; row++) {
    // Restart resets prediction: the row after RSTn is treated as the first line (T.81 H.1.2.1).
    const firstLine = restartRows > 0 ? row % restartRows === 0 : row === 0
    if (row > 0 && firstLine) {
      segment += 2
      if (segment + 1 >= segments.length)
        throw new DngError(tag, `lossless JPEG: restart marker missing before row ${row}`)
      pos = segments[segment]
      end = segments[segment + 1]
      bits = 0
      acc = 0
      phantom = 0
    }
    for (let i = 0, c = 0; i < rowLen; i++) {
      // Keep at least 17 bits buffered: a 16-bit code lookahead plus one.
      while (bits <= 16) {
        if (pos < end) acc = ((acc << 8) | clean[pos++]) >>> 0
        else {
          acc = (acc << 8) >>> 0
          phantom++
        }
        bits += 8
      }
      const t = nc === 1 ? table0 : tables_[c]
      if (++c === nc) c = 0
      const f = t.fast[(acc >>> (bits - FAST_BITS)) & FAST_MASK]
      let diff = 0
      if (f !== 0) {
        bits -= f & 0xff
        diff = f >> 8
      } else {
        const e = t.lookup[(acc >>> (bits - 16)) & 0xffff]
        if (e === 0) throw new DngError(tag, `lossless JPEG: invalid Huffman code at row ${row}`)
        bits -= e >> 8
        const s = e & 0xff
        if (s === 16) diff = 32768
        else if (s > 0) {
          while (bits < s) {
            if (pos < end) acc = ((acc << 8) | clean[pos++]) >>> 0
            else {
              acc = (acc << 8) >>> 0
              phantom++
            }
            bits += 8
          }
          const v = (acc >>> (bits - s)) & ((1 << s) - 1)
          bits -= s
          diff = v < 1 << (s - 1) ? v - (1 << s) + 1 : v
        }
      }
      diffs[i] = diff
    }
    if (phantom * 8 > bits) throw new DngError(tag, `lossless JPEG data ends at row ${row} of ${height} (truncated)`)
    predictRow(out, rowStart, rowLen, nc, diffs, firstLine ? 0 : predictor, initial, pt, mask)
    rowStart += rowLen
  }
  return frame
}
