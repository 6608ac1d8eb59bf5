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
}

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
  return { lookup }
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
  const luts = tableOf.map((t) => tables[t]!.lookup)
  const n = d.length
  let pos = scan
  let acc = 0
  let bits = 0
  // Zero bytes fed in place of data (at a marker or past the end): consuming any of them means truncation.
  let phantom = 0
  const mask = (1 << (precision - pointTransform)) - 1
  const initial = 1 << (precision - pointTransform - 1)
  let rowStart = outAt
  for (let row = 0; row < height; row++) {
    // Restart resets prediction: the row after RSTn is treated as the first line (T.81 H.1.2.1).
    const firstLine = restartRows > 0 ? row % restartRows === 0 : row === 0
    if (row > 0 && firstLine) {
      bits = 0
      acc = 0
      phantom = 0
      while (pos + 1 < n && d[pos] === 0xff && d[pos + 1] === 0xff) pos++
      if (pos + 1 < n && d[pos] === 0xff && d[pos + 1] >= 0xd0 && d[pos + 1] <= 0xd7) pos += 2
      else throw new DngError(tag, `lossless JPEG: restart marker missing before row ${row}`)
    }
    const prev = rowStart - rowLen
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < nc; c++) {
        if (bits < 16) {
          while (bits <= 16) {
            let b = 0
            if (pos < n) {
              b = d[pos]
              if (b === 0xff) {
                if (pos + 1 < n && d[pos + 1] === 0x00) pos += 2
                else {
                  b = 0 // a marker: feed zeros until the row loop consumes it
                  phantom++
                }
              } else pos++
            } else phantom++
            acc = ((acc << 8) | b) >>> 0
            bits += 8
          }
        }
        const e = luts[c][(acc >>> (bits - 16)) & 0xffff]
        if (e === 0) throw new DngError(tag, `lossless JPEG: invalid Huffman code at row ${row}`)
        bits -= e >> 8
        const s = e & 0xff
        let diff = 0
        if (s === 16) diff = 32768
        else if (s > 0) {
          while (bits < s) {
            let b = 0
            if (pos < n) {
              b = d[pos]
              if (b === 0xff) {
                if (pos + 1 < n && d[pos + 1] === 0x00) pos += 2
                else {
                  b = 0
                  phantom++
                }
              } else pos++
            } else phantom++
            acc = ((acc << 8) | b) >>> 0
            bits += 8
          }
          const v = (acc >>> (bits - s)) & ((1 << s) - 1)
          bits -= s
          diff = v < 1 << (s - 1) ? v - (1 << s) + 1 : v
        }
        const i = rowStart + x * nc + c
        let pred: number
        if (firstLine) pred = x === 0 ? initial : out[i - nc] >> pointTransform
        else if (x === 0) pred = out[i - rowLen] >> pointTransform
        else {
          const ra = out[i - nc] >> pointTransform
          const rb = out[prev + x * nc + c] >> pointTransform
          const rc = out[prev + (x - 1) * nc + c] >> pointTransform
          switch (predictor) {
            case 1:
              pred = ra
              break
            case 2:
              pred = rb
              break
            case 3:
              pred = rc
              break
            case 4:
              pred = ra + rb - rc
              break
            case 5:
              pred = ra + ((rb - rc) >> 1)
              break
            case 6:
              pred = rb + ((ra - rc) >> 1)
              break
            default:
              pred = (ra + rb) >> 1
          }
        }
        out[i] = ((pred + diff) & mask) << pointTransform
      }
    }
    if (phantom * 8 > bits) throw new DngError(tag, `lossless JPEG data ends at row ${row} of ${height} (truncated)`)
    rowStart += rowLen
  }
  return frame
}
