/**
 * Stage 1, black level: subtract the black level of each site (BlackLevel over its repeat pattern,
 * plus BlackLevelDeltaH per column and DeltaV per row), divide by white − black, clip to [0, 1].
 * `blackLevelRows` resolves the levels once and then gives one row at a time (the ISP streams rows);
 * `blackLevel` runs it over the whole image.
 */
import type { RawImage } from "../raw.js"

/** Writes row y's normalised values (`w × spp`) into `out` from `at`. */
export type BlackLevelRow = (y: number, out: Float64Array, at: number) => void

export const blackLevelRows = (raw: RawImage): BlackLevelRow => {
  const m = raw.meta
  const spp = m.kind === "linear" ? 3 : 1
  const { width: w, height: h } = m
  const bR = Math.max(1, m.blackRows)
  const bC = Math.max(1, m.blackCols)
  const sites = bR * bC
  // Per-sample black levels when the file gives one per sample of each site, else shared by all samples.
  const perSample = spp > 1 && m.blackLevel.length === sites * spp
  const black = (site: number, s: number): number =>
    m.blackLevel.length === 0
      ? 0
      : perSample
        ? m.blackLevel[site * spp + s]!
        : (m.blackLevel[site % m.blackLevel.length] ?? 0)
  const white = (s: number): number => m.whiteLevel[s] ?? m.whiteLevel[0] ?? 2 ** m.bitsPerSample - 1
  const dH = m.blackDeltaH
  const dV = m.blackDeltaV
  const hasH = dH.length === w
  const hasV = dV.length === h
  // For each row of the black pattern: the level of every sample of a row (DeltaH and DeltaV apart),
  // so the row loop only indexes arrays.
  const rowLen = w * spp
  const patternRows: Array<Float64Array> = []
  for (let r = 0; r < bR; r++) {
    const b = new Float64Array(rowLen)
    for (let x = 0, i = 0; x < w; x++) for (let s = 0; s < spp; s++, i++) b[i] = black(r * bC + (x % bC), s)
    patternRows.push(b)
  }
  const deltaH = new Float64Array(rowLen)
  if (hasH) for (let i = 0; i < rowLen; i++) deltaH[i] = dH[(i / spp) | 0]!
  const whites = new Float64Array(rowLen)
  for (let i = 0; i < rowLen; i++) whites[i] = white(i % spp)
  const data = raw.data
  return (y, out, at) => {
    const rowDelta = hasV ? dV[y]! : 0
    const base = patternRows[y % bR]!
    const src = y * rowLen
    for (let i = 0; i < rowLen; i++) {
      const b = base[i]! + (hasH ? rowDelta + deltaH[i]! : rowDelta)
      const range = whites[i]! - b
      const v = range > 0 ? (data[src + i]! - b) / range : 0
      out[at + i] = v < 0 ? 0 : v > 1 ? 1 : v
    }
  }
}

/** Normalised linear values: `h × w` for CFA, `h × w × 3` interleaved for LinearRaw. */
export const blackLevel = (raw: RawImage): Float64Array => {
  const m = raw.meta
  const rowLen = m.width * (m.kind === "linear" ? 3 : 1)
  const out = new Float64Array(rowLen * m.height)
  const row = blackLevelRows(raw)
  for (let y = 0; y < m.height; y++) row(y, out, y * rowLen)
  return out
}
