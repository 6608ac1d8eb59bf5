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
  for (let y = 0; y < h; y++) {
    const rowDelta = dV.length === h ? dV[y]! : 0
    const siteRow = (y % bR) * bC
    for (let x = 0; x < w; x++) {
      const delta = rowDelta + (dH.length === w ? dH[x]! : 0)
      const site = siteRow + (x % bC)
      for (let s = 0; s < spp; s++) {
        const b = black(site, s) + delta
        const range = white(s) - b
        const i = (y * w + x) * spp + s
        const v = range > 0 ? (data[i]! - b) / range : 0
        out[i] = v < 0 ? 0 : v > 1 ? 1 : v
      }
    }
  }
  return out
}
