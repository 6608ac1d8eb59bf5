/**
 * Stage 1, black level: subtract the black level of each site (BlackLevel over its repeat pattern,
 * plus BlackLevelDeltaH per column and DeltaV per row), divide by white − black, clip to [0, 1].
 */
import type { RawImage } from "../raw.js"

/** Normalised linear values: `h × w` for CFA, `h × w × 3` interleaved for LinearRaw. */
export const blackLevel = (raw: RawImage): Float64Array => {
  const m = raw.meta
  const spp = m.kind === "linear" ? 3 : 1
  const { width: w, height: h } = m
  const out = new Float64Array(w * h * spp)
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
  const data = raw.data
  // Black and white per (site, sample) resolved once: the loop below only indexes arrays.
  const siteBlack = new Float64Array(sites * spp)
  const siteWhite = new Float64Array(spp)
  for (let site = 0; site < sites; site++) for (let s = 0; s < spp; s++) siteBlack[site * spp + s] = black(site, s)
  for (let s = 0; s < spp; s++) siteWhite[s] = white(s)
  const hasH = dH.length === w
  const hasV = dV.length === h
  for (let y = 0; y < h; y++) {
    const rowDelta = hasV ? dV[y]! : 0
    const siteRow = (y % bR) * bC
    let i = y * w * spp
    for (let x = 0; x < w; x++) {
      const delta = hasH ? rowDelta + dH[x]! : rowDelta
      const site = (siteRow + (x % bC)) * spp
      for (let s = 0; s < spp; s++, i++) {
        const b = siteBlack[site + s]! + delta
        const range = siteWhite[s]! - b
        const v = range > 0 ? (data[i]! - b) / range : 0
        out[i] = v < 0 ? 0 : v > 1 ? 1 : v
      }
    }
  }
  return out
}
