import { describe, expect, it } from "vitest"
import { rng } from "../../src/domain/random.js"
import { type Embeddings, medianHeuristicBandwidth, mmd2Unbiased, mmdTest } from "../../src/stats/mmd.js"

const gaussian = (rows: number, cols: number, seed: number, shift = 0, scale = 1): Embeddings => {
  const r = rng(seed)
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, () => shift + scale * r.normal()) }
}

// the textbook definitions, written out with no shared code
const dist2 = (a: Embeddings, i: number, b: Embeddings, j: number) => {
  let s = 0
  for (let k = 0; k < a.cols; k++) s += (a.data[i * a.cols + k] - b.data[j * b.cols + k]) ** 2
  return s
}
const naiveMmd2 = (x: Embeddings, y: Embeddings, sigma: number) => {
  const k = (a: Embeddings, i: number, b: Embeddings, j: number) => Math.exp(-dist2(a, i, b, j) / (2 * sigma * sigma))
  const m = x.rows,
    n = y.rows
  let xx = 0,
    yy = 0,
    xy = 0
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (i !== j) xx += k(x, i, x, j)
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) yy += k(y, i, y, j)
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) xy += k(x, i, y, j)
  return xx / (m * (m - 1)) + yy / (n * (n - 1)) - (2 * xy) / (m * n)
}
const naiveMedianDistance = (x: Embeddings) => {
  const d: number[] = []
  for (let i = 0; i < x.rows; i++) for (let j = i + 1; j < x.rows; j++) d.push(Math.sqrt(dist2(x, i, x, j)))
  d.sort((a, b) => a - b)
  return d.length % 2 ? d[(d.length - 1) / 2] : (d[d.length / 2 - 1] + d[d.length / 2]) / 2
}

describe("MMD^2 (RBF, unbiased)", () => {
  it("matches a direct O(n^2) implementation, shifted or not, with unequal sizes", () => {
    for (const [m, n, shift] of [
      [30, 45, 0],
      [25, 17, 0.7],
      [2, 3, 2]
    ] as const) {
      const x = gaussian(m, 6, 1)
      const y = gaussian(n, 6, 2, shift)
      for (const sigma of [0.5, 2, medianHeuristicBandwidth(x)]) {
        const want = naiveMmd2(x, y, sigma)
        expect(Math.abs(mmd2Unbiased(x, y, sigma) - want)).toBeLessThan(1e-12 * Math.max(1, Math.abs(want)) + 1e-14)
      }
      const t = mmdTest(x, y, { permutations: 0 })
      expect(t.mmd2).toBeCloseTo(naiveMmd2(x, y, naiveMedianDistance(x)), 12)
      expect(t.pValue).toBeNull()
    }
  })

  it("bandwidth: the median of the reference's non-squared pairwise distances", () => {
    for (const rows of [9, 10]) {
      const x = gaussian(rows, 3, rows)
      expect(medianHeuristicBandwidth(x)).toBeCloseTo(naiveMedianDistance(x), 14)
    }
    const same: Embeddings = { rows: 4, cols: 2, data: new Float64Array(8).fill(3) }
    expect(medianHeuristicBandwidth(same)).toBe(1)
    const mostlySame: Embeddings = { rows: 5, cols: 1, data: Float64Array.from([0, 0, 0, 0, 2]) }
    expect(medianHeuristicBandwidth(mostlySame)).toBe(2)
  })

  it("is symmetric and near 0 for two samples of one distribution; accepts Float32Array", () => {
    const x = gaussian(300, 8, 3)
    const y = gaussian(300, 8, 4)
    const s = medianHeuristicBandwidth(x)
    expect(Math.abs(mmd2Unbiased(x, y, s))).toBeLessThan(0.005)
    expect(mmd2Unbiased(x, y, s)).toBeCloseTo(mmd2Unbiased(y, x, s), 14)
    const x32: Embeddings = { rows: x.rows, cols: x.cols, data: Float32Array.from(x.data) }
    expect(mmd2Unbiased(x32, y, s)).toBeCloseTo(mmd2Unbiased(x, y, s), 5)
    expect(mmd2Unbiased(x, gaussian(300, 8, 5, 1), s)).toBeGreaterThan(0.1)
  })
})

describe("MMD permutation test", () => {
  it("p-values are roughly uniform with no drift (40 seeds)", () => {
    const ps: number[] = []
    for (let seed = 0; seed < 40; seed++) {
      const t = mmdTest(gaussian(50, 4, 1000 + seed), gaussian(50, 4, 2000 + seed), { seed, permutations: 100 })
      expect(t.permutations).toBe(100)
      ps.push(t.pValue as number)
    }
    const meanP = ps.reduce((a, b) => a + b, 0) / ps.length
    expect(meanP).toBeGreaterThan(0.35)
    expect(meanP).toBeLessThan(0.65)
    expect(ps.filter((p) => p < 0.05).length).toBeLessThanOrEqual(5)
    // spread over the whole unit interval, not piled up
    expect(ps.filter((p) => p > 0.5).length).toBeGreaterThanOrEqual(12)
    expect(ps.every((p) => p > 0 && p <= 1)).toBe(true)
  })

  it("p-value is the smallest possible for a shifted batch", () => {
    const t = mmdTest(gaussian(50, 4, 7), gaussian(50, 4, 8, 0.75), { seed: 1 })
    expect(t.pValue).toBeCloseTo(1 / 101, 15)
    expect(t.mmd2).toBeGreaterThan(0)
  })

  it("is deterministic for a seed and detects a change of scale", () => {
    const x = gaussian(60, 5, 9)
    const y = gaussian(60, 5, 10, 0, 1.6)
    const a = mmdTest(x, y, { seed: 3, permutations: 200 })
    expect(mmdTest(x, y, { seed: 3, permutations: 200 })).toEqual(a)
    expect(a.pValue).toBeLessThan(0.01)
  })

  it("handles 500 rows a side with 100 permutations quickly", () => {
    const x = gaussian(500, 64, 11)
    const y = gaussian(500, 64, 12)
    const t0 = performance.now()
    const t = mmdTest(x, y, { seed: 5 })
    const ms = performance.now() - t0
    expect(t.pValue).toBeGreaterThan(0.01)
    expect(ms).toBeLessThan(8000)
  })

  it("rejects mismatched widths and too few rows", () => {
    expect(() => mmdTest(gaussian(5, 2, 1), gaussian(5, 3, 2))).toThrow(/columns/)
    expect(() => mmdTest(gaussian(1, 2, 1), gaussian(5, 2, 2))).toThrow(/at least 2/)
    expect(() => mmdTest({ rows: 3, cols: 2, data: new Float64Array(5) }, gaussian(5, 2, 2))).toThrow(/hold 5/)
  })
})
