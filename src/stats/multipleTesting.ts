/**
 * Benjamini–Hochberg adjusted p-values (the step-up FDR procedure; same values as statsmodels
 * `multipletests(method="fdr_bh")` and SciPy >= 1.11 `false_discovery_control`):
 *   q_(i) = min over j >= i of (m / j) p_(j), capped at 1, for p sorted ascending.
 * NaN p-values are left NaN and not counted in m.
 */
export const benjaminiHochberg = (pValues: ArrayLike<number>): Float64Array => {
  const n = pValues.length
  const out = new Float64Array(n).fill(Number.NaN)
  const idx: number[] = []
  for (let i = 0; i < n; i++) if (!Number.isNaN(pValues[i])) idx.push(i)
  const m = idx.length
  idx.sort((a, b) => pValues[a] - pValues[b] || a - b)
  let running = Infinity
  for (let r = m - 1; r >= 0; r--) {
    const i = idx[r]
    const q = pValues[i] / ((r + 1) / m)
    if (q < running) running = q
    out[i] = Math.min(running, 1)
  }
  return out
}

/** Which hypotheses BH rejects at false discovery rate `alpha`. */
export const benjaminiHochbergReject = (pValues: ArrayLike<number>, alpha: number): boolean[] =>
  Array.from(benjaminiHochberg(pValues), (q) => q <= alpha)
